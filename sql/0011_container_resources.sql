-- Per-container resource usage per interval (source: containers).
CREATE TABLE IF NOT EXISTS container_resources
(
    ts                   DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host                 LowCardinality(String),
    interval_ms          UInt32                CODEC(T64, ZSTD(1)),
    container_id         LowCardinality(String),
    name                 LowCardinality(String),
    runtime              LowCardinality(String),
    mnt_ns               UInt64                CODEC(T64, ZSTD(1)),
    cpu_pct_of_host      Float32               CODEC(Gorilla, ZSTD(1)),
    cpu_pct_of_limit     Float32               CODEC(Gorilla, ZSTD(1)),
    cpu_limit_cores      Float32               CODEC(Gorilla, ZSTD(1)),
    throttled_periods    UInt64                CODEC(T64, ZSTD(1)),
    periods              UInt64                CODEC(T64, ZSTD(1)),
    throttled_us         UInt64                CODEC(T64, ZSTD(1)),
    memory_bytes         UInt64                CODEC(T64, ZSTD(1)),
    memory_limit_bytes   UInt64                CODEC(T64, ZSTD(1)),
    memory_pct_of_limit  Float32               CODEC(Gorilla, ZSTD(1)),
    rss_bytes            UInt64                CODEC(T64, ZSTD(1)),
    cache_bytes          UInt64                CODEC(T64, ZSTD(1)),
    major_faults         UInt64                CODEC(T64, ZSTD(1)),
    oom_kills            UInt64                CODEC(T64, ZSTD(1)),
    io_read_bytes        UInt64                CODEC(T64, ZSTD(1)),
    io_write_bytes       UInt64                CODEC(T64, ZSTD(1)),
    io_reads             UInt64                CODEC(T64, ZSTD(1)),
    io_writes            UInt64                CODEC(T64, ZSTD(1)),
    net_rx_bytes         UInt64                CODEC(T64, ZSTD(1)),
    net_tx_bytes         UInt64                CODEC(T64, ZSTD(1)),
    pids                 UInt32                CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, container_id, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
