-- Image layer analytics (probe: layers).
CREATE TABLE IF NOT EXISTS layer_file_access
(
    ts            DateTime64(3, 'UTC')  CODEC(DoubleDelta, ZSTD(1)),
    host          LowCardinality(String),
    mnt_ns        UInt64,
    dev           UInt32,
    inode         UInt64,
    reads         UInt64                CODEC(T64, ZSTD(1)),
    first_page    UInt64                CODEC(ZSTD(1)),
    last_page     UInt64                CODEC(ZSTD(1)),
    mmap_pages    UInt64                CODEC(T64, ZSTD(1)),
    added_pages   UInt64                CODEC(T64, ZSTD(1)),
    first_access  DateTime64(6, 'UTC')  CODEC(Delta, ZSTD(1)),
    last_access   DateTime64(6, 'UTC')  CODEC(Delta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, mnt_ns, dev, inode, ts)
TTL toDateTime(ts) + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS layer_files
(
    ts              DateTime64(3, 'UTC'),
    host            LowCardinality(String),
    mnt_ns          UInt64,
    container_id    LowCardinality(String),
    container_name  LowCardinality(String),
    image           LowCardinality(String),
    layer_index     UInt16,
    layer_id        LowCardinality(String),
    layer_path      LowCardinality(String),
    path            String                CODEC(ZSTD(3)),
    kind            LowCardinality(String),
    dev             UInt32,
    inode           UInt64,
    size            UInt64                CODEC(T64, ZSTD(1))
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (host, mnt_ns, layer_index, path)
TTL toDateTime(ts) + INTERVAL 30 DAY;
