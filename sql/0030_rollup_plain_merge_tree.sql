-- Every rollup table as a plain MergeTree instead of an AggregatingMergeTree:
-- every key and bucket is inserted once (under its deduplication token) and
-- every reader sums, so no merge needs to collapse rows, and an
-- AggregatingMergeTree's merges held ~650 B of memory per merged row against
-- ~370 (the agent's highest memory readings under process churn were such
-- merges; docs/performance.md). Column types and keys are kept, so reads are
-- unchanged. Each table's parts are attached to a new table (hard links: no
-- copy however much it holds), the two exchanged, the old one dropped; each step
-- runs only while its guard says it has not yet, so a migration stopped
-- half-way resumes. On the embedded store only, as 0029.
-- Written by pyperf.schema.generate.plain_rollups_sql(); frozen since.

-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS disk_io_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `device` LowCardinality(String),
    `op` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `ios` SimpleAggregateFunction(sum, UInt64),
    `bytes` SimpleAggregateFunction(sum, UInt64),
    `latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), device, op, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_io_1m__0030' AND active) = 0
ALTER TABLE disk_io_1m__0030 ATTACH PARTITION ALL FROM disk_io_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES disk_io_1m AND disk_io_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS disk_io_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS disk_io_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `device` LowCardinality(String),
    `op` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `ios` SimpleAggregateFunction(sum, UInt64),
    `bytes` SimpleAggregateFunction(sum, UInt64),
    `latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), device, op, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_io_1h__0030' AND active) = 0
ALTER TABLE disk_io_1h__0030 ATTACH PARTITION ALL FROM disk_io_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES disk_io_1h AND disk_io_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS disk_io_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS disk_container_io_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `mnt_ns` UInt64,
    `cgroup_id` UInt64,
    `device` LowCardinality(String),
    `op` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `ios` SimpleAggregateFunction(sum, UInt64),
    `bytes` SimpleAggregateFunction(sum, UInt64),
    `latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), mnt_ns, cgroup_id, device, op, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_container_io_1m__0030' AND active) = 0
ALTER TABLE disk_container_io_1m__0030 ATTACH PARTITION ALL FROM disk_container_io_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES disk_container_io_1m AND disk_container_io_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS disk_container_io_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS disk_container_io_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `mnt_ns` UInt64,
    `cgroup_id` UInt64,
    `device` LowCardinality(String),
    `op` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `ios` SimpleAggregateFunction(sum, UInt64),
    `bytes` SimpleAggregateFunction(sum, UInt64),
    `latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), mnt_ns, cgroup_id, device, op, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_container_io_1h__0030' AND active) = 0
ALTER TABLE disk_container_io_1h__0030 ATTACH PARTITION ALL FROM disk_container_io_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES disk_container_io_1h AND disk_container_io_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS disk_container_io_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS sched_process_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `pid` UInt32,
    `comm` LowCardinality(String),
    `mnt_ns` UInt64,
    `cgroup_id` UInt64,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `voluntary_switches` SimpleAggregateFunction(sum, UInt64),
    `involuntary_switches` SimpleAggregateFunction(sum, UInt64),
    `oncpu_us` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `runq_waits` SimpleAggregateFunction(sum, UInt64),
    `offcpu_sum_us` SimpleAggregateFunction(sum, UInt64),
    `offcpu_count` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_hist` AggregateFunction(sumForEach, Array(UInt32)),
    `offcpu_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), pid, comm, mnt_ns, cgroup_id, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_process_1m__0030' AND active) = 0
ALTER TABLE sched_process_1m__0030 ATTACH PARTITION ALL FROM sched_process_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES sched_process_1m AND sched_process_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS sched_process_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS sched_process_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `pid` UInt32,
    `comm` LowCardinality(String),
    `mnt_ns` UInt64,
    `cgroup_id` UInt64,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `voluntary_switches` SimpleAggregateFunction(sum, UInt64),
    `involuntary_switches` SimpleAggregateFunction(sum, UInt64),
    `oncpu_us` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `runq_waits` SimpleAggregateFunction(sum, UInt64),
    `offcpu_sum_us` SimpleAggregateFunction(sum, UInt64),
    `offcpu_count` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_hist` AggregateFunction(sumForEach, Array(UInt32)),
    `offcpu_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), pid, comm, mnt_ns, cgroup_id, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_process_1h__0030' AND active) = 0
ALTER TABLE sched_process_1h__0030 ATTACH PARTITION ALL FROM sched_process_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES sched_process_1h AND sched_process_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS sched_process_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS sched_cpu_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `cpu` UInt16,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `context_switches` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `runq_waits` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), cpu, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_cpu_1m__0030' AND active) = 0
ALTER TABLE sched_cpu_1m__0030 ATTACH PARTITION ALL FROM sched_cpu_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES sched_cpu_1m AND sched_cpu_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS sched_cpu_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS sched_cpu_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `cpu` UInt16,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `context_switches` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `runq_waits` SimpleAggregateFunction(sum, UInt64),
    `runq_latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), cpu, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_cpu_1h__0030' AND active) = 0
ALTER TABLE sched_cpu_1h__0030 ATTACH PARTITION ALL FROM sched_cpu_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES sched_cpu_1h AND sched_cpu_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS sched_cpu_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS faults_process_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `pid` UInt32,
    `comm` LowCardinality(String),
    `mnt_ns` UInt64,
    `cgroup_id` UInt64,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `minor_faults` SimpleAggregateFunction(sum, UInt64),
    `major_faults` SimpleAggregateFunction(sum, UInt64),
    `cache_lookups` SimpleAggregateFunction(sum, UInt64),
    `cache_added` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), pid, comm, mnt_ns, cgroup_id, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'faults_process_1m__0030' AND active) = 0
ALTER TABLE faults_process_1m__0030 ATTACH PARTITION ALL FROM faults_process_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES faults_process_1m AND faults_process_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS faults_process_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS faults_process_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `pid` UInt32,
    `comm` LowCardinality(String),
    `mnt_ns` UInt64,
    `cgroup_id` UInt64,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `minor_faults` SimpleAggregateFunction(sum, UInt64),
    `major_faults` SimpleAggregateFunction(sum, UInt64),
    `cache_lookups` SimpleAggregateFunction(sum, UInt64),
    `cache_added` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), pid, comm, mnt_ns, cgroup_id, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'faults_process_1h__0030' AND active) = 0
ALTER TABLE faults_process_1h__0030 ATTACH PARTITION ALL FROM faults_process_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES faults_process_1h AND faults_process_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS faults_process_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS tcp_host_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `retransmit_segments` SimpleAggregateFunction(sum, UInt64),
    `retransmits` SimpleAggregateFunction(sum, UInt64),
    `retransmits_failed` SimpleAggregateFunction(sum, UInt64),
    `synack_retransmits` SimpleAggregateFunction(sum, UInt64),
    `resets_sent` SimpleAggregateFunction(sum, UInt64),
    `resets_received` SimpleAggregateFunction(sum, UInt64),
    `active_opens` SimpleAggregateFunction(sum, UInt64),
    `passive_opens` SimpleAggregateFunction(sum, UInt64),
    `failed_connects` SimpleAggregateFunction(sum, UInt64),
    `closes` SimpleAggregateFunction(sum, UInt64),
    `lifetime_sum_us` SimpleAggregateFunction(sum, UInt64),
    `out_segments` SimpleAggregateFunction(sum, UInt64),
    `established_min` SimpleAggregateFunction(min, Float64),
    `established_max` SimpleAggregateFunction(max, Float64),
    `established_sum` SimpleAggregateFunction(sum, Float64),
    `lifetime_hist` AggregateFunction(sumForEach, Array(UInt32)),
    `rtt_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_host_1m__0030' AND active) = 0
ALTER TABLE tcp_host_1m__0030 ATTACH PARTITION ALL FROM tcp_host_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES tcp_host_1m AND tcp_host_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS tcp_host_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS tcp_host_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `retransmit_segments` SimpleAggregateFunction(sum, UInt64),
    `retransmits` SimpleAggregateFunction(sum, UInt64),
    `retransmits_failed` SimpleAggregateFunction(sum, UInt64),
    `synack_retransmits` SimpleAggregateFunction(sum, UInt64),
    `resets_sent` SimpleAggregateFunction(sum, UInt64),
    `resets_received` SimpleAggregateFunction(sum, UInt64),
    `active_opens` SimpleAggregateFunction(sum, UInt64),
    `passive_opens` SimpleAggregateFunction(sum, UInt64),
    `failed_connects` SimpleAggregateFunction(sum, UInt64),
    `closes` SimpleAggregateFunction(sum, UInt64),
    `lifetime_sum_us` SimpleAggregateFunction(sum, UInt64),
    `out_segments` SimpleAggregateFunction(sum, UInt64),
    `established_min` SimpleAggregateFunction(min, Float64),
    `established_max` SimpleAggregateFunction(max, Float64),
    `established_sum` SimpleAggregateFunction(sum, Float64),
    `lifetime_hist` AggregateFunction(sumForEach, Array(UInt32)),
    `rtt_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_host_1h__0030' AND active) = 0
ALTER TABLE tcp_host_1h__0030 ATTACH PARTITION ALL FROM tcp_host_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES tcp_host_1h AND tcp_host_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS tcp_host_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS response_time_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `pid` UInt32,
    `comm` LowCardinality(String),
    `port` UInt16,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `requests` SimpleAggregateFunction(sum, UInt64),
    `latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), pid, comm, port, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'response_time_1m__0030' AND active) = 0
ALTER TABLE response_time_1m__0030 ATTACH PARTITION ALL FROM response_time_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES response_time_1m AND response_time_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS response_time_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS response_time_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `pid` UInt32,
    `comm` LowCardinality(String),
    `port` UInt16,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `requests` SimpleAggregateFunction(sum, UInt64),
    `latency_sum_us` SimpleAggregateFunction(sum, UInt64),
    `latency_hist` AggregateFunction(sumForEach, Array(UInt32))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), pid, comm, port, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'response_time_1h__0030' AND active) = 0
ALTER TABLE response_time_1h__0030 ATTACH PARTITION ALL FROM response_time_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES response_time_1h AND response_time_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS response_time_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS container_resources_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `container_id` LowCardinality(String),
    `name` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `throttled_periods` SimpleAggregateFunction(sum, UInt64),
    `periods` SimpleAggregateFunction(sum, UInt64),
    `throttled_us` SimpleAggregateFunction(sum, UInt64),
    `major_faults` SimpleAggregateFunction(sum, UInt64),
    `oom_kills` SimpleAggregateFunction(sum, UInt64),
    `io_read_bytes` SimpleAggregateFunction(sum, UInt64),
    `io_write_bytes` SimpleAggregateFunction(sum, UInt64),
    `io_reads` SimpleAggregateFunction(sum, UInt64),
    `io_writes` SimpleAggregateFunction(sum, UInt64),
    `net_rx_bytes` SimpleAggregateFunction(sum, UInt64),
    `net_tx_bytes` SimpleAggregateFunction(sum, UInt64),
    `cpu_pct_of_host_min` SimpleAggregateFunction(min, Float64),
    `cpu_pct_of_host_max` SimpleAggregateFunction(max, Float64),
    `cpu_pct_of_host_sum` SimpleAggregateFunction(sum, Float64),
    `cpu_pct_of_limit_min` SimpleAggregateFunction(min, Float64),
    `cpu_pct_of_limit_max` SimpleAggregateFunction(max, Float64),
    `cpu_pct_of_limit_sum` SimpleAggregateFunction(sum, Float64),
    `memory_bytes_min` SimpleAggregateFunction(min, Float64),
    `memory_bytes_max` SimpleAggregateFunction(max, Float64),
    `memory_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `memory_pct_of_limit_min` SimpleAggregateFunction(min, Float64),
    `memory_pct_of_limit_max` SimpleAggregateFunction(max, Float64),
    `memory_pct_of_limit_sum` SimpleAggregateFunction(sum, Float64),
    `rss_bytes_min` SimpleAggregateFunction(min, Float64),
    `rss_bytes_max` SimpleAggregateFunction(max, Float64),
    `rss_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `cache_bytes_min` SimpleAggregateFunction(min, Float64),
    `cache_bytes_max` SimpleAggregateFunction(max, Float64),
    `cache_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `pids_min` SimpleAggregateFunction(min, Float64),
    `pids_max` SimpleAggregateFunction(max, Float64),
    `pids_sum` SimpleAggregateFunction(sum, Float64)
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), container_id, name, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'container_resources_1m__0030' AND active) = 0
ALTER TABLE container_resources_1m__0030 ATTACH PARTITION ALL FROM container_resources_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES container_resources_1m AND container_resources_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS container_resources_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS container_resources_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `container_id` LowCardinality(String),
    `name` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `throttled_periods` SimpleAggregateFunction(sum, UInt64),
    `periods` SimpleAggregateFunction(sum, UInt64),
    `throttled_us` SimpleAggregateFunction(sum, UInt64),
    `major_faults` SimpleAggregateFunction(sum, UInt64),
    `oom_kills` SimpleAggregateFunction(sum, UInt64),
    `io_read_bytes` SimpleAggregateFunction(sum, UInt64),
    `io_write_bytes` SimpleAggregateFunction(sum, UInt64),
    `io_reads` SimpleAggregateFunction(sum, UInt64),
    `io_writes` SimpleAggregateFunction(sum, UInt64),
    `net_rx_bytes` SimpleAggregateFunction(sum, UInt64),
    `net_tx_bytes` SimpleAggregateFunction(sum, UInt64),
    `cpu_pct_of_host_min` SimpleAggregateFunction(min, Float64),
    `cpu_pct_of_host_max` SimpleAggregateFunction(max, Float64),
    `cpu_pct_of_host_sum` SimpleAggregateFunction(sum, Float64),
    `cpu_pct_of_limit_min` SimpleAggregateFunction(min, Float64),
    `cpu_pct_of_limit_max` SimpleAggregateFunction(max, Float64),
    `cpu_pct_of_limit_sum` SimpleAggregateFunction(sum, Float64),
    `memory_bytes_min` SimpleAggregateFunction(min, Float64),
    `memory_bytes_max` SimpleAggregateFunction(max, Float64),
    `memory_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `memory_pct_of_limit_min` SimpleAggregateFunction(min, Float64),
    `memory_pct_of_limit_max` SimpleAggregateFunction(max, Float64),
    `memory_pct_of_limit_sum` SimpleAggregateFunction(sum, Float64),
    `rss_bytes_min` SimpleAggregateFunction(min, Float64),
    `rss_bytes_max` SimpleAggregateFunction(max, Float64),
    `rss_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `cache_bytes_min` SimpleAggregateFunction(min, Float64),
    `cache_bytes_max` SimpleAggregateFunction(max, Float64),
    `cache_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `pids_min` SimpleAggregateFunction(min, Float64),
    `pids_max` SimpleAggregateFunction(max, Float64),
    `pids_sum` SimpleAggregateFunction(sum, Float64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), container_id, name, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'container_resources_1h__0030' AND active) = 0
ALTER TABLE container_resources_1h__0030 ATTACH PARTITION ALL FROM container_resources_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES container_resources_1h AND container_resources_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS container_resources_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS system_cpu_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `cpu` Int16,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `user_pct_min` SimpleAggregateFunction(min, Float64),
    `user_pct_max` SimpleAggregateFunction(max, Float64),
    `user_pct_sum` SimpleAggregateFunction(sum, Float64),
    `nice_pct_min` SimpleAggregateFunction(min, Float64),
    `nice_pct_max` SimpleAggregateFunction(max, Float64),
    `nice_pct_sum` SimpleAggregateFunction(sum, Float64),
    `system_pct_min` SimpleAggregateFunction(min, Float64),
    `system_pct_max` SimpleAggregateFunction(max, Float64),
    `system_pct_sum` SimpleAggregateFunction(sum, Float64),
    `idle_pct_min` SimpleAggregateFunction(min, Float64),
    `idle_pct_max` SimpleAggregateFunction(max, Float64),
    `idle_pct_sum` SimpleAggregateFunction(sum, Float64),
    `iowait_pct_min` SimpleAggregateFunction(min, Float64),
    `iowait_pct_max` SimpleAggregateFunction(max, Float64),
    `iowait_pct_sum` SimpleAggregateFunction(sum, Float64),
    `irq_pct_min` SimpleAggregateFunction(min, Float64),
    `irq_pct_max` SimpleAggregateFunction(max, Float64),
    `irq_pct_sum` SimpleAggregateFunction(sum, Float64),
    `softirq_pct_min` SimpleAggregateFunction(min, Float64),
    `softirq_pct_max` SimpleAggregateFunction(max, Float64),
    `softirq_pct_sum` SimpleAggregateFunction(sum, Float64),
    `steal_pct_min` SimpleAggregateFunction(min, Float64),
    `steal_pct_max` SimpleAggregateFunction(max, Float64),
    `steal_pct_sum` SimpleAggregateFunction(sum, Float64),
    `busy_pct_min` SimpleAggregateFunction(min, Float64),
    `busy_pct_max` SimpleAggregateFunction(max, Float64),
    `busy_pct_sum` SimpleAggregateFunction(sum, Float64)
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), cpu, ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_cpu_1m__0030' AND active) = 0
ALTER TABLE system_cpu_1m__0030 ATTACH PARTITION ALL FROM system_cpu_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES system_cpu_1m AND system_cpu_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS system_cpu_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS system_cpu_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `cpu` Int16,
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `user_pct_min` SimpleAggregateFunction(min, Float64),
    `user_pct_max` SimpleAggregateFunction(max, Float64),
    `user_pct_sum` SimpleAggregateFunction(sum, Float64),
    `nice_pct_min` SimpleAggregateFunction(min, Float64),
    `nice_pct_max` SimpleAggregateFunction(max, Float64),
    `nice_pct_sum` SimpleAggregateFunction(sum, Float64),
    `system_pct_min` SimpleAggregateFunction(min, Float64),
    `system_pct_max` SimpleAggregateFunction(max, Float64),
    `system_pct_sum` SimpleAggregateFunction(sum, Float64),
    `idle_pct_min` SimpleAggregateFunction(min, Float64),
    `idle_pct_max` SimpleAggregateFunction(max, Float64),
    `idle_pct_sum` SimpleAggregateFunction(sum, Float64),
    `iowait_pct_min` SimpleAggregateFunction(min, Float64),
    `iowait_pct_max` SimpleAggregateFunction(max, Float64),
    `iowait_pct_sum` SimpleAggregateFunction(sum, Float64),
    `irq_pct_min` SimpleAggregateFunction(min, Float64),
    `irq_pct_max` SimpleAggregateFunction(max, Float64),
    `irq_pct_sum` SimpleAggregateFunction(sum, Float64),
    `softirq_pct_min` SimpleAggregateFunction(min, Float64),
    `softirq_pct_max` SimpleAggregateFunction(max, Float64),
    `softirq_pct_sum` SimpleAggregateFunction(sum, Float64),
    `steal_pct_min` SimpleAggregateFunction(min, Float64),
    `steal_pct_max` SimpleAggregateFunction(max, Float64),
    `steal_pct_sum` SimpleAggregateFunction(sum, Float64),
    `busy_pct_min` SimpleAggregateFunction(min, Float64),
    `busy_pct_max` SimpleAggregateFunction(max, Float64),
    `busy_pct_sum` SimpleAggregateFunction(sum, Float64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), cpu, ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_cpu_1h__0030' AND active) = 0
ALTER TABLE system_cpu_1h__0030 ATTACH PARTITION ALL FROM system_cpu_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES system_cpu_1h AND system_cpu_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS system_cpu_1h__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS system_host_1m__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `context_switches` SimpleAggregateFunction(sum, UInt64),
    `interrupts` SimpleAggregateFunction(sum, UInt64),
    `softirqs` SimpleAggregateFunction(sum, UInt64),
    `swap_in_pages` SimpleAggregateFunction(sum, UInt64),
    `swap_out_pages` SimpleAggregateFunction(sum, UInt64),
    `page_faults` SimpleAggregateFunction(sum, UInt64),
    `major_faults` SimpleAggregateFunction(sum, UInt64),
    `procs_running_min` SimpleAggregateFunction(min, Float64),
    `procs_running_max` SimpleAggregateFunction(max, Float64),
    `procs_running_sum` SimpleAggregateFunction(sum, Float64),
    `procs_blocked_min` SimpleAggregateFunction(min, Float64),
    `procs_blocked_max` SimpleAggregateFunction(max, Float64),
    `procs_blocked_sum` SimpleAggregateFunction(sum, Float64),
    `mem_used_bytes_min` SimpleAggregateFunction(min, Float64),
    `mem_used_bytes_max` SimpleAggregateFunction(max, Float64),
    `mem_used_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `mem_available_bytes_min` SimpleAggregateFunction(min, Float64),
    `mem_available_bytes_max` SimpleAggregateFunction(max, Float64),
    `mem_available_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `mem_cached_bytes_min` SimpleAggregateFunction(min, Float64),
    `mem_cached_bytes_max` SimpleAggregateFunction(max, Float64),
    `mem_cached_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `mem_used_pct_min` SimpleAggregateFunction(min, Float64),
    `mem_used_pct_max` SimpleAggregateFunction(max, Float64),
    `mem_used_pct_sum` SimpleAggregateFunction(sum, Float64),
    `swap_used_bytes_min` SimpleAggregateFunction(min, Float64),
    `swap_used_bytes_max` SimpleAggregateFunction(max, Float64),
    `swap_used_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `psi_cpu_some_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_cpu_some_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_cpu_some_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_memory_some_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_memory_some_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_memory_some_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_memory_full_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_memory_full_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_memory_full_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_io_some_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_io_some_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_io_some_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_io_full_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_io_full_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_io_full_pct_sum` SimpleAggregateFunction(sum, Float64)
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (host, toStartOfHour(ts), ts)
TTL ts + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_host_1m__0030' AND active) = 0
ALTER TABLE system_host_1m__0030 ATTACH PARTITION ALL FROM system_host_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES system_host_1m AND system_host_1m__0030;
-- embedded store only
DROP TABLE IF EXISTS system_host_1m__0030;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND engine = 'AggregatingMergeTree'
CREATE TABLE IF NOT EXISTS system_host_1h__0030
(
    `ts` DateTime('UTC'),
    `host` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `interval_ms` SimpleAggregateFunction(sum, UInt64),
    `context_switches` SimpleAggregateFunction(sum, UInt64),
    `interrupts` SimpleAggregateFunction(sum, UInt64),
    `softirqs` SimpleAggregateFunction(sum, UInt64),
    `swap_in_pages` SimpleAggregateFunction(sum, UInt64),
    `swap_out_pages` SimpleAggregateFunction(sum, UInt64),
    `page_faults` SimpleAggregateFunction(sum, UInt64),
    `major_faults` SimpleAggregateFunction(sum, UInt64),
    `procs_running_min` SimpleAggregateFunction(min, Float64),
    `procs_running_max` SimpleAggregateFunction(max, Float64),
    `procs_running_sum` SimpleAggregateFunction(sum, Float64),
    `procs_blocked_min` SimpleAggregateFunction(min, Float64),
    `procs_blocked_max` SimpleAggregateFunction(max, Float64),
    `procs_blocked_sum` SimpleAggregateFunction(sum, Float64),
    `mem_used_bytes_min` SimpleAggregateFunction(min, Float64),
    `mem_used_bytes_max` SimpleAggregateFunction(max, Float64),
    `mem_used_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `mem_available_bytes_min` SimpleAggregateFunction(min, Float64),
    `mem_available_bytes_max` SimpleAggregateFunction(max, Float64),
    `mem_available_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `mem_cached_bytes_min` SimpleAggregateFunction(min, Float64),
    `mem_cached_bytes_max` SimpleAggregateFunction(max, Float64),
    `mem_cached_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `mem_used_pct_min` SimpleAggregateFunction(min, Float64),
    `mem_used_pct_max` SimpleAggregateFunction(max, Float64),
    `mem_used_pct_sum` SimpleAggregateFunction(sum, Float64),
    `swap_used_bytes_min` SimpleAggregateFunction(min, Float64),
    `swap_used_bytes_max` SimpleAggregateFunction(max, Float64),
    `swap_used_bytes_sum` SimpleAggregateFunction(sum, Float64),
    `psi_cpu_some_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_cpu_some_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_cpu_some_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_memory_some_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_memory_some_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_memory_some_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_memory_full_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_memory_full_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_memory_full_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_io_some_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_io_some_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_io_some_pct_sum` SimpleAggregateFunction(sum, Float64),
    `psi_io_full_pct_min` SimpleAggregateFunction(min, Float64),
    `psi_io_full_pct_max` SimpleAggregateFunction(max, Float64),
    `psi_io_full_pct_sum` SimpleAggregateFunction(sum, Float64)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (host, toStartOfDay(ts), ts)
TTL ts + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 1000;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND engine = 'AggregatingMergeTree') > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_host_1h__0030' AND active) = 0
ALTER TABLE system_host_1h__0030 ATTACH PARTITION ALL FROM system_host_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES system_host_1h AND system_host_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS system_host_1h__0030;
