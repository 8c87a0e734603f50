-- Containers: start time, stop time and image layers (kept current as containers come and go).
ALTER TABLE containers
    ADD COLUMN IF NOT EXISTS started String,
    ADD COLUMN IF NOT EXISTS stopped Nullable(DateTime64(3, 'UTC')),
    ADD COLUMN IF NOT EXISTS layers Array(String);

DROP VIEW IF EXISTS container_of;

CREATE VIEW IF NOT EXISTS container_of AS
SELECT host, mnt_ns, cgroup_id,
       argMax(id, ts) AS id, argMax(name, ts) AS name, argMax(image, ts) AS image,
       argMax(runtime, ts) AS runtime, argMax(pod_uid, ts) AS pod_uid,
       argMax(started, ts) AS started, argMax(stopped, ts) AS stopped, argMax(layers, ts) AS layers
FROM containers
GROUP BY host, mnt_ns, cgroup_id;
