-- What the Settings page changed (pyperf/settings.py): the newest value per host
-- and key is in force; older rows are the history (who, when).
CREATE TABLE IF NOT EXISTS settings
(
    ts     DateTime64(3, 'UTC'),
    host   LowCardinality(String),
    key    LowCardinality(String),
    value  String,
    who    String
)
ENGINE = MergeTree
ORDER BY (host, key, ts);
