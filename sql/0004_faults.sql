-- Page faults and page-cache activity per interval and process (probe: faults).
CREATE TABLE IF NOT EXISTS faults_process
(
    ts               DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host             LowCardinality(String),
    interval_ms      UInt32                CODEC(T64, ZSTD(1)),
    pid              UInt32,
    comm             LowCardinality(String),
    mnt_ns           UInt64                CODEC(T64, ZSTD(1)),
    cgroup_id        UInt64                CODEC(T64, ZSTD(1)),
    minor_faults     UInt64                CODEC(T64, ZSTD(1)),
    major_faults     UInt64                CODEC(T64, ZSTD(1)),
    cache_lookups    UInt64                CODEC(T64, ZSTD(1)),
    cache_added      UInt64                CODEC(T64, ZSTD(1)),
    cache_hit_ratio  Float32               CODEC(Gorilla, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, pid, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
