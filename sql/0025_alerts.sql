-- Alert state changes (pyperf/analysis/alerts.py): one row each time an alert
-- goes pending, fires or resolves, with the value and evidence of that moment.
-- The newest row per (host, fingerprint) is its state.
CREATE TABLE IF NOT EXISTS alerts
(
    ts          DateTime64(3, 'UTC'),
    host        LowCardinality(String),
    fingerprint String,
    rule        LowCardinality(String),
    state       LowCardinality(String),
    severity    LowCardinality(String),
    scope       LowCardinality(String),
    subject     String,
    container   String,
    value       Float64,
    threshold   Float64,
    summary     String,
    evidence    String,
    starts_at   DateTime64(3, 'UTC'),
    ends_at     Nullable(DateTime64(3, 'UTC'))
)
ENGINE = MergeTree
ORDER BY (host, ts)
TTL toDateTime(ts) + INTERVAL 365 DAY;
