-- Host-wide samples from /proc, psutil and netlink (probe: system).
CREATE TABLE IF NOT EXISTS system_cpu
(
    ts           DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host         LowCardinality(String),
    interval_ms  UInt32                CODEC(T64, ZSTD(1)),
    cpu          Int16,
    user_pct     Float32               CODEC(Gorilla, ZSTD(1)),
    nice_pct     Float32               CODEC(Gorilla, ZSTD(1)),
    system_pct   Float32               CODEC(Gorilla, ZSTD(1)),
    idle_pct     Float32               CODEC(Gorilla, ZSTD(1)),
    iowait_pct   Float32               CODEC(Gorilla, ZSTD(1)),
    irq_pct      Float32               CODEC(Gorilla, ZSTD(1)),
    softirq_pct  Float32               CODEC(Gorilla, ZSTD(1)),
    steal_pct    Float32               CODEC(Gorilla, ZSTD(1)),
    busy_pct     Float32               CODEC(Gorilla, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, cpu, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

CREATE TABLE IF NOT EXISTS system_host
(
    ts                   DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host                 LowCardinality(String),
    interval_ms          UInt32                CODEC(T64, ZSTD(1)),
    load1                Float32               CODEC(Gorilla, ZSTD(1)),
    load5                Float32               CODEC(Gorilla, ZSTD(1)),
    load15               Float32               CODEC(Gorilla, ZSTD(1)),
    context_switches     UInt64                CODEC(T64, ZSTD(1)),
    interrupts           UInt64                CODEC(T64, ZSTD(1)),
    softirqs             UInt64                CODEC(T64, ZSTD(1)),
    procs_running        UInt32                CODEC(T64, ZSTD(1)),
    procs_blocked        UInt32                CODEC(T64, ZSTD(1)),
    mem_total_bytes      UInt64                CODEC(T64, ZSTD(1)),
    mem_used_bytes       UInt64                CODEC(T64, ZSTD(1)),
    mem_available_bytes  UInt64                CODEC(T64, ZSTD(1)),
    mem_cached_bytes     UInt64                CODEC(T64, ZSTD(1)),
    mem_used_pct         Float32               CODEC(Gorilla, ZSTD(1)),
    swap_total_bytes     UInt64                CODEC(T64, ZSTD(1)),
    swap_used_bytes      UInt64                CODEC(T64, ZSTD(1)),
    swap_in_pages        UInt64                CODEC(T64, ZSTD(1)),
    swap_out_pages       UInt64                CODEC(T64, ZSTD(1)),
    page_faults          UInt64                CODEC(T64, ZSTD(1)),
    major_faults         UInt64                CODEC(T64, ZSTD(1)),
    psi_cpu_some_pct     Float32               CODEC(Gorilla, ZSTD(1)),
    psi_memory_some_pct  Float32               CODEC(Gorilla, ZSTD(1)),
    psi_memory_full_pct  Float32               CODEC(Gorilla, ZSTD(1)),
    psi_io_some_pct      Float32               CODEC(Gorilla, ZSTD(1)),
    psi_io_full_pct      Float32               CODEC(Gorilla, ZSTD(1)),
    tcp_states           Map(LowCardinality(String), UInt32)  CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

CREATE TABLE IF NOT EXISTS system_disk
(
    ts               DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host             LowCardinality(String),
    interval_ms      UInt32                CODEC(T64, ZSTD(1)),
    device           LowCardinality(String),
    reads            UInt64                CODEC(T64, ZSTD(1)),
    writes           UInt64                CODEC(T64, ZSTD(1)),
    read_bytes       UInt64                CODEC(T64, ZSTD(1)),
    write_bytes      UInt64                CODEC(T64, ZSTD(1)),
    util_pct         Float32               CODEC(Gorilla, ZSTD(1)),
    queue_depth_avg  Float32               CODEC(Gorilla, ZSTD(1)),
    in_flight        UInt32                CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, device, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

CREATE TABLE IF NOT EXISTS system_net
(
    ts           DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host         LowCardinality(String),
    interval_ms  UInt32                CODEC(T64, ZSTD(1)),
    interface    LowCardinality(String),
    rx_bytes     UInt64                CODEC(T64, ZSTD(1)),
    tx_bytes     UInt64                CODEC(T64, ZSTD(1)),
    rx_packets   UInt64                CODEC(T64, ZSTD(1)),
    tx_packets   UInt64                CODEC(T64, ZSTD(1)),
    rx_errors    UInt64                CODEC(T64, ZSTD(1)),
    tx_errors    UInt64                CODEC(T64, ZSTD(1)),
    rx_dropped   UInt64                CODEC(T64, ZSTD(1)),
    tx_dropped   UInt64                CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, interface, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
