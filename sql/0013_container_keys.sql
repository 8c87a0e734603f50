-- Mount namespace inodes are reused after a namespace dies: containers are told
-- apart by (mnt_ns, cgroup_id) where probe rows carry a cgroup v2 id.
ALTER TABLE containers
    ADD COLUMN IF NOT EXISTS cgroup_id UInt64 AFTER mnt_ns,
    MODIFY ORDER BY (host, mnt_ns, id, cgroup_id);

DROP VIEW IF EXISTS container_of;

CREATE VIEW IF NOT EXISTS container_of AS
SELECT host, mnt_ns, cgroup_id,
       argMax(id, ts) AS id, argMax(name, ts) AS name, argMax(image, ts) AS image,
       argMax(runtime, ts) AS runtime, argMax(pod_uid, ts) AS pod_uid
FROM containers
GROUP BY host, mnt_ns, cgroup_id;

CREATE VIEW IF NOT EXISTS container_by_ns AS
SELECT host, mnt_ns,
       argMax(id, ts) AS id, argMax(name, ts) AS name, argMax(image, ts) AS image,
       argMax(runtime, ts) AS runtime, argMax(pod_uid, ts) AS pod_uid
FROM containers
GROUP BY host, mnt_ns;
