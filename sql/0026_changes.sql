-- Changes made by `pyperf apply` and undone by `pyperf undo`
-- (pyperf/analysis/actions.py): who changed what, when, the values before and after.
CREATE TABLE IF NOT EXISTS changes
(
    ts           DateTime64(3, 'UTC'),
    host         LowCardinality(String),
    change_id    String,
    action       LowCardinality(String),
    undoes       String,
    finding      String,
    rule         LowCardinality(String),
    container_id String,
    container    String,
    command      String,
    before       String,
    after        String,
    why          String,
    who          String
)
ENGINE = MergeTree
ORDER BY (host, ts);
