-- Per interval, the established TCP connections with the highest RTT (probe: tcp).
CREATE TABLE IF NOT EXISTS tcp_connection_rtt
(
    ts             DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host           LowCardinality(String),
    saddr          IPv6,
    sport          UInt16,
    daddr          IPv6,
    dport          UInt16,
    rtt_us         UInt32                CODEC(T64, ZSTD(1)),
    rttvar_us      UInt32                CODEC(T64, ZSTD(1)),
    total_retrans  UInt32                CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 3 DAY;
