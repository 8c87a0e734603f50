-- Per-container disk I/O and slow I/O, and TCP events keyed by network namespace.
CREATE TABLE IF NOT EXISTS disk_container_io
(
    ts              DateTime64(3, 'UTC')   CODEC(DoubleDelta, ZSTD(1)),
    host            LowCardinality(String),
    interval_ms     UInt32                 CODEC(T64, ZSTD(1)),
    mnt_ns          UInt64                 CODEC(T64, ZSTD(1)),
    cgroup_id       UInt64                 CODEC(T64, ZSTD(1)),
    device          LowCardinality(String),
    op              LowCardinality(String),
    ios             UInt64                 CODEC(T64, ZSTD(1)),
    bytes           UInt64                 CODEC(T64, ZSTD(1)),
    latency_sum_us  UInt64                 CODEC(T64, ZSTD(1)),
    latency_hist    Array(UInt32)          CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, mnt_ns, cgroup_id, device, op, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

ALTER TABLE disk_slow_io
    ADD COLUMN IF NOT EXISTS mnt_ns UInt64 CODEC(T64, ZSTD(1)),
    ADD COLUMN IF NOT EXISTS cgroup_id UInt64 CODEC(T64, ZSTD(1));

ALTER TABLE tcp_event
    ADD COLUMN IF NOT EXISTS net_ns UInt64 CODEC(T64, ZSTD(1));

ALTER TABLE containers
    ADD COLUMN IF NOT EXISTS net_ns UInt64;

-- The host's own rows are left out: containers sharing the host's network
-- (--network host) cannot be told apart from it by namespace.
CREATE VIEW IF NOT EXISTS container_by_netns AS
SELECT host, net_ns,
       argMax(id, ts) AS id, argMax(name, ts) AS name, argMax(image, ts) AS image,
       argMax(runtime, ts) AS runtime, argMax(pod_uid, ts) AS pod_uid
FROM containers
WHERE net_ns != 0 AND net_ns NOT IN (SELECT net_ns FROM containers WHERE runtime = 'host')
GROUP BY host, net_ns;
