-- Containers as pyperf sees them (pyperf/containers/enricher.py), and the view
-- that maps a mount namespace to its latest known container.
CREATE TABLE IF NOT EXISTS containers
(
    ts           DateTime64(3, 'UTC'),
    host         LowCardinality(String),
    mnt_ns       UInt64,
    id           String,
    name         String,
    image        String,
    runtime      LowCardinality(String),
    pod_uid      String,
    cgroup_path  String
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (host, mnt_ns, id);

CREATE VIEW IF NOT EXISTS container_of AS
SELECT host, mnt_ns,
       argMax(id, ts) AS id, argMax(name, ts) AS name, argMax(image, ts) AS image,
       argMax(runtime, ts) AS runtime, argMax(pod_uid, ts) AS pod_uid
FROM containers
GROUP BY host, mnt_ns;
