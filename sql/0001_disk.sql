-- Disk I/O per interval, per device and operation (probe: disk).
CREATE TABLE IF NOT EXISTS disk_io
(
    ts              DateTime64(3, 'UTC')   CODEC(DoubleDelta, ZSTD(1)),
    host            LowCardinality(String),
    interval_ms     UInt32                 CODEC(T64, ZSTD(1)),
    device          LowCardinality(String),
    op              LowCardinality(String),
    ios             UInt64                 CODEC(T64, ZSTD(1)),
    bytes           UInt64                 CODEC(T64, ZSTD(1)),
    latency_sum_us  UInt64                 CODEC(T64, ZSTD(1)),
    latency_hist    Array(UInt32)          CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, device, op, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

-- Queue depth per interval and device.
CREATE TABLE IF NOT EXISTS disk_queue
(
    ts               DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host             LowCardinality(String),
    interval_ms      UInt32                CODEC(T64, ZSTD(1)),
    device           LowCardinality(String),
    queue_depth_avg  Float32               CODEC(Gorilla, ZSTD(1)),
    queue_depth_max  UInt32                CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, device, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

-- One row per I/O slower than the threshold (default 10 ms).
CREATE TABLE IF NOT EXISTS disk_slow_io
(
    ts          DateTime64(6, 'UTC')       CODEC(Delta, ZSTD(1)),
    host        LowCardinality(String),
    device      LowCardinality(String),
    op          LowCardinality(String),
    bytes       UInt64                     CODEC(T64, ZSTD(1)),
    latency_us  UInt64                     CODEC(T64, ZSTD(1)),
    pid         UInt32,
    comm        LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 30 DAY;
