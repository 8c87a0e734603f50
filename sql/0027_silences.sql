-- Alert silences (pyperf/analysis/alerts.py): while one matches an alert, its
-- changes are still recorded but not notified. A later row with the same id
-- and `ended` set ends it early.
CREATE TABLE IF NOT EXISTS silences
(
    ts          DateTime64(3, 'UTC'),
    host        LowCardinality(String),
    silence_id  String,
    rule        String,
    subject     String,
    ends_at     DateTime64(3, 'UTC'),
    comment     String,
    who         String,
    ended       UInt8
)
ENGINE = MergeTree
ORDER BY (host, ts);
