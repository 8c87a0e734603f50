-- TCP server response time per interval, process and port (probe: response).
CREATE TABLE IF NOT EXISTS response_time
(
    ts              DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host            LowCardinality(String),
    interval_ms     UInt32                CODEC(T64, ZSTD(1)),
    pid             UInt32,
    comm            LowCardinality(String),
    port            UInt16,
    requests        UInt64                CODEC(T64, ZSTD(1)),
    latency_sum_us  UInt64                CODEC(T64, ZSTD(1)),
    latency_hist    Array(UInt32)         CODEC(ZSTD(3)),
    p50_us          Float32               CODEC(Gorilla, ZSTD(1)),
    p99_us          Float32               CODEC(Gorilla, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, pid, port, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
