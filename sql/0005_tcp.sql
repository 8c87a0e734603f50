-- TCP per interval, per process, and one row per retransmit or reset (probe: tcp).
CREATE TABLE IF NOT EXISTS tcp_host
(
    ts                   DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host                 LowCardinality(String),
    interval_ms          UInt32                CODEC(T64, ZSTD(1)),
    retransmit_segments  UInt64                CODEC(T64, ZSTD(1)),
    retransmits          UInt64                CODEC(T64, ZSTD(1)),
    retransmits_failed   UInt64                CODEC(T64, ZSTD(1)),
    synack_retransmits   UInt64                CODEC(T64, ZSTD(1)),
    resets_sent          UInt64                CODEC(T64, ZSTD(1)),
    resets_received      UInt64                CODEC(T64, ZSTD(1)),
    active_opens         UInt64                CODEC(T64, ZSTD(1)),
    passive_opens        UInt64                CODEC(T64, ZSTD(1)),
    failed_connects      UInt64                CODEC(T64, ZSTD(1)),
    closes               UInt64                CODEC(T64, ZSTD(1)),
    lifetime_sum_us      UInt64                CODEC(T64, ZSTD(1)),
    lifetime_hist        Array(UInt32)         CODEC(ZSTD(3)),
    out_segments         UInt64                CODEC(T64, ZSTD(1)),
    loss_ratio           Float32               CODEC(Gorilla, ZSTD(1)),
    established          UInt32                CODEC(T64, ZSTD(1)),
    rtt_p50_us           Float32               CODEC(Gorilla, ZSTD(1)),
    rtt_p99_us           Float32               CODEC(Gorilla, ZSTD(1)),
    rtt_hist             Array(UInt32)         CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

CREATE TABLE IF NOT EXISTS tcp_process
(
    ts                   DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host                 LowCardinality(String),
    interval_ms          UInt32                CODEC(T64, ZSTD(1)),
    pid                  UInt32,
    comm                 LowCardinality(String),
    active_opens         UInt64                CODEC(T64, ZSTD(1)),
    failed_connects      UInt64                CODEC(T64, ZSTD(1)),
    closes               UInt64                CODEC(T64, ZSTD(1)),
    retransmit_segments  UInt64                CODEC(T64, ZSTD(1)),
    lifetime_sum_us      UInt64                CODEC(T64, ZSTD(1)),
    lifetime_hist        Array(UInt32)         CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, pid, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;

CREATE TABLE IF NOT EXISTS tcp_event
(
    ts     DateTime64(6, 'UTC')    CODEC(Delta, ZSTD(1)),
    host   LowCardinality(String),
    kind   LowCardinality(String),
    pid    UInt32,
    comm   LowCardinality(String),
    saddr  IPv6,
    sport  UInt16,
    daddr  IPv6,
    dport  UInt16,
    state  LowCardinality(String),
    segs   UInt32,
    err    Int32
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 30 DAY;
