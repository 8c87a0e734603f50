-- The agent's own counters: kernel-side losses per probe, rows per table by outcome (pyperf/pipeline/counters.py).
CREATE TABLE IF NOT EXISTS agent_counters
(
    ts       DateTime64(3, 'UTC')    CODEC(DoubleDelta, ZSTD(1)),
    host     LowCardinality(String),
    started  DateTime64(3, 'UTC'),
    source   LowCardinality(String),
    name     LowCardinality(String),
    counter  LowCardinality(String),
    value    Float64                 CODEC(Gorilla, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, source, name, counter, ts)
TTL toDateTime(ts) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
