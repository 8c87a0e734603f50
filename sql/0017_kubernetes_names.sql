-- Kubernetes pod and namespace names of containers, where kubelet names them.
ALTER TABLE containers
    ADD COLUMN IF NOT EXISTS pod_name String,
    ADD COLUMN IF NOT EXISTS namespace String;

DROP VIEW IF EXISTS container_of;

CREATE VIEW IF NOT EXISTS container_of AS
SELECT host, mnt_ns, cgroup_id,
       argMax(id, ts) AS id, argMax(name, ts) AS name, argMax(image, ts) AS image,
       argMax(runtime, ts) AS runtime, argMax(pod_uid, ts) AS pod_uid,
       argMax(pod_name, ts) AS pod_name, argMax(namespace, ts) AS namespace,
       argMax(started, ts) AS started, argMax(stopped, ts) AS stopped, argMax(layers, ts) AS layers
FROM containers
GROUP BY host, mnt_ns, cgroup_id;
