-- Scheduler per interval (probe: sched).
CREATE TABLE IF NOT EXISTS sched_process
(
    ts                    DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host                  LowCardinality(String),
    interval_ms           UInt32                CODEC(T64, ZSTD(1)),
    pid                   UInt32,
    comm                  LowCardinality(String),
    mnt_ns                UInt64                CODEC(T64, ZSTD(1)),
    cgroup_id             UInt64                CODEC(T64, ZSTD(1)),
    voluntary_switches    UInt64                CODEC(T64, ZSTD(1)),
    involuntary_switches  UInt64                CODEC(T64, ZSTD(1)),
    oncpu_us              UInt64                CODEC(T64, ZSTD(1)),
    runq_latency_sum_us   UInt64                CODEC(T64, ZSTD(1)),
    runq_waits            UInt64                CODEC(T64, ZSTD(1)),
    runq_latency_hist     Array(UInt32)         CODEC(ZSTD(3)),
    offcpu_sum_us         UInt64                CODEC(T64, ZSTD(1)),
    offcpu_count          UInt64                CODEC(T64, ZSTD(1)),
    offcpu_hist           Array(UInt32)         CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, pid, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

CREATE TABLE IF NOT EXISTS sched_cpu
(
    ts                   DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host                 LowCardinality(String),
    interval_ms          UInt32                CODEC(T64, ZSTD(1)),
    cpu                  UInt16,
    context_switches     UInt64                CODEC(T64, ZSTD(1)),
    runq_latency_sum_us  UInt64                CODEC(T64, ZSTD(1)),
    runq_waits           UInt64                CODEC(T64, ZSTD(1)),
    runq_latency_hist    Array(UInt32)         CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, cpu, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
