-- Off-CPU (blocked) time per interval, process and stack (probe: sched --offcpu-stacks).
CREATE TABLE IF NOT EXISTS offcpu_stack
(
    ts           DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host         LowCardinality(String),
    interval_ms  UInt32                CODEC(T64, ZSTD(1)),
    pid          UInt32,
    comm         LowCardinality(String),
    mnt_ns       UInt64                CODEC(T64, ZSTD(1)),
    stack        Array(LowCardinality(String))  CODEC(ZSTD(3)),
    blocked_us   UInt64                CODEC(T64, ZSTD(1)),
    count        UInt32                CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, pid, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
