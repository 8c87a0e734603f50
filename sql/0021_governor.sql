-- What the overhead governor did (pyperf/pipeline/governor.py).
CREATE TABLE IF NOT EXISTS governor_actions
(
    ts          DateTime64(3, 'UTC'),
    host        LowCardinality(String),
    action      LowCardinality(String),
    step        LowCardinality(String),
    detail      String,
    cost_pct    Float32,
    budget_pct  Float32,
    level       UInt8
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
