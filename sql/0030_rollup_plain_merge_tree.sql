-- Every rollup table as a plain MergeTree instead of an AggregatingMergeTree:
-- every key and bucket is inserted once (under its deduplication token) and
-- every reader sums, so no merge needs to collapse rows, and an
-- AggregatingMergeTree's merges held ~650 B of memory per merged row against
-- ~220 (the agent's highest memory readings under process churn were such
-- merges; docs/performance.md). Column types are kept, so reads are unchanged.
-- Each table is copied into a new one, the two exchanged, the old one dropped;
-- the steps run only while the table is still an AggregatingMergeTree, so a
-- migration stopped half-way resumes. On the embedded store only, as 0029.
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO disk_io_1m__0030 (`ts`, `host`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist`)
SELECT `ts`, `host`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist` FROM disk_io_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-disk_io_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO disk_io_1h__0030 (`ts`, `host`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist`)
SELECT `ts`, `host`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist` FROM disk_io_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-disk_io_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO disk_container_io_1m__0030 (`ts`, `host`, `mnt_ns`, `cgroup_id`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist`)
SELECT `ts`, `host`, `mnt_ns`, `cgroup_id`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist` FROM disk_container_io_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-disk_container_io_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO disk_container_io_1h__0030 (`ts`, `host`, `mnt_ns`, `cgroup_id`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist`)
SELECT `ts`, `host`, `mnt_ns`, `cgroup_id`, `device`, `op`, `samples`, `interval_ms`, `ios`, `bytes`, `latency_sum_us`, `latency_hist` FROM disk_container_io_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-disk_container_io_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO sched_process_1m__0030 (`ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `voluntary_switches`, `involuntary_switches`, `oncpu_us`, `runq_latency_sum_us`, `runq_waits`, `offcpu_sum_us`, `offcpu_count`, `runq_latency_hist`, `offcpu_hist`)
SELECT `ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `voluntary_switches`, `involuntary_switches`, `oncpu_us`, `runq_latency_sum_us`, `runq_waits`, `offcpu_sum_us`, `offcpu_count`, `runq_latency_hist`, `offcpu_hist` FROM sched_process_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-sched_process_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO sched_process_1h__0030 (`ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `voluntary_switches`, `involuntary_switches`, `oncpu_us`, `runq_latency_sum_us`, `runq_waits`, `offcpu_sum_us`, `offcpu_count`, `runq_latency_hist`, `offcpu_hist`)
SELECT `ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `voluntary_switches`, `involuntary_switches`, `oncpu_us`, `runq_latency_sum_us`, `runq_waits`, `offcpu_sum_us`, `offcpu_count`, `runq_latency_hist`, `offcpu_hist` FROM sched_process_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-sched_process_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO sched_cpu_1m__0030 (`ts`, `host`, `cpu`, `samples`, `interval_ms`, `context_switches`, `runq_latency_sum_us`, `runq_waits`, `runq_latency_hist`)
SELECT `ts`, `host`, `cpu`, `samples`, `interval_ms`, `context_switches`, `runq_latency_sum_us`, `runq_waits`, `runq_latency_hist` FROM sched_cpu_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-sched_cpu_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO sched_cpu_1h__0030 (`ts`, `host`, `cpu`, `samples`, `interval_ms`, `context_switches`, `runq_latency_sum_us`, `runq_waits`, `runq_latency_hist`)
SELECT `ts`, `host`, `cpu`, `samples`, `interval_ms`, `context_switches`, `runq_latency_sum_us`, `runq_waits`, `runq_latency_hist` FROM sched_cpu_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-sched_cpu_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO faults_process_1m__0030 (`ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `minor_faults`, `major_faults`, `cache_lookups`, `cache_added`)
SELECT `ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `minor_faults`, `major_faults`, `cache_lookups`, `cache_added` FROM faults_process_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-faults_process_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO faults_process_1h__0030 (`ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `minor_faults`, `major_faults`, `cache_lookups`, `cache_added`)
SELECT `ts`, `host`, `pid`, `comm`, `mnt_ns`, `cgroup_id`, `samples`, `interval_ms`, `minor_faults`, `major_faults`, `cache_lookups`, `cache_added` FROM faults_process_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-faults_process_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO tcp_host_1m__0030 (`ts`, `host`, `samples`, `interval_ms`, `retransmit_segments`, `retransmits`, `retransmits_failed`, `synack_retransmits`, `resets_sent`, `resets_received`, `active_opens`, `passive_opens`, `failed_connects`, `closes`, `lifetime_sum_us`, `out_segments`, `established_min`, `established_max`, `established_sum`, `lifetime_hist`, `rtt_hist`)
SELECT `ts`, `host`, `samples`, `interval_ms`, `retransmit_segments`, `retransmits`, `retransmits_failed`, `synack_retransmits`, `resets_sent`, `resets_received`, `active_opens`, `passive_opens`, `failed_connects`, `closes`, `lifetime_sum_us`, `out_segments`, `established_min`, `established_max`, `established_sum`, `lifetime_hist`, `rtt_hist` FROM tcp_host_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-tcp_host_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO tcp_host_1h__0030 (`ts`, `host`, `samples`, `interval_ms`, `retransmit_segments`, `retransmits`, `retransmits_failed`, `synack_retransmits`, `resets_sent`, `resets_received`, `active_opens`, `passive_opens`, `failed_connects`, `closes`, `lifetime_sum_us`, `out_segments`, `established_min`, `established_max`, `established_sum`, `lifetime_hist`, `rtt_hist`)
SELECT `ts`, `host`, `samples`, `interval_ms`, `retransmit_segments`, `retransmits`, `retransmits_failed`, `synack_retransmits`, `resets_sent`, `resets_received`, `active_opens`, `passive_opens`, `failed_connects`, `closes`, `lifetime_sum_us`, `out_segments`, `established_min`, `established_max`, `established_sum`, `lifetime_hist`, `rtt_hist` FROM tcp_host_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-tcp_host_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO response_time_1m__0030 (`ts`, `host`, `pid`, `comm`, `port`, `samples`, `interval_ms`, `requests`, `latency_sum_us`, `latency_hist`)
SELECT `ts`, `host`, `pid`, `comm`, `port`, `samples`, `interval_ms`, `requests`, `latency_sum_us`, `latency_hist` FROM response_time_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-response_time_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO response_time_1h__0030 (`ts`, `host`, `pid`, `comm`, `port`, `samples`, `interval_ms`, `requests`, `latency_sum_us`, `latency_hist`)
SELECT `ts`, `host`, `pid`, `comm`, `port`, `samples`, `interval_ms`, `requests`, `latency_sum_us`, `latency_hist` FROM response_time_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-response_time_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO container_resources_1m__0030 (`ts`, `host`, `container_id`, `name`, `samples`, `interval_ms`, `throttled_periods`, `periods`, `throttled_us`, `major_faults`, `oom_kills`, `io_read_bytes`, `io_write_bytes`, `io_reads`, `io_writes`, `net_rx_bytes`, `net_tx_bytes`, `cpu_pct_of_host_min`, `cpu_pct_of_host_max`, `cpu_pct_of_host_sum`, `cpu_pct_of_limit_min`, `cpu_pct_of_limit_max`, `cpu_pct_of_limit_sum`, `memory_bytes_min`, `memory_bytes_max`, `memory_bytes_sum`, `memory_pct_of_limit_min`, `memory_pct_of_limit_max`, `memory_pct_of_limit_sum`, `rss_bytes_min`, `rss_bytes_max`, `rss_bytes_sum`, `cache_bytes_min`, `cache_bytes_max`, `cache_bytes_sum`, `pids_min`, `pids_max`, `pids_sum`)
SELECT `ts`, `host`, `container_id`, `name`, `samples`, `interval_ms`, `throttled_periods`, `periods`, `throttled_us`, `major_faults`, `oom_kills`, `io_read_bytes`, `io_write_bytes`, `io_reads`, `io_writes`, `net_rx_bytes`, `net_tx_bytes`, `cpu_pct_of_host_min`, `cpu_pct_of_host_max`, `cpu_pct_of_host_sum`, `cpu_pct_of_limit_min`, `cpu_pct_of_limit_max`, `cpu_pct_of_limit_sum`, `memory_bytes_min`, `memory_bytes_max`, `memory_bytes_sum`, `memory_pct_of_limit_min`, `memory_pct_of_limit_max`, `memory_pct_of_limit_sum`, `rss_bytes_min`, `rss_bytes_max`, `rss_bytes_sum`, `cache_bytes_min`, `cache_bytes_max`, `cache_bytes_sum`, `pids_min`, `pids_max`, `pids_sum` FROM container_resources_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-container_resources_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO container_resources_1h__0030 (`ts`, `host`, `container_id`, `name`, `samples`, `interval_ms`, `throttled_periods`, `periods`, `throttled_us`, `major_faults`, `oom_kills`, `io_read_bytes`, `io_write_bytes`, `io_reads`, `io_writes`, `net_rx_bytes`, `net_tx_bytes`, `cpu_pct_of_host_min`, `cpu_pct_of_host_max`, `cpu_pct_of_host_sum`, `cpu_pct_of_limit_min`, `cpu_pct_of_limit_max`, `cpu_pct_of_limit_sum`, `memory_bytes_min`, `memory_bytes_max`, `memory_bytes_sum`, `memory_pct_of_limit_min`, `memory_pct_of_limit_max`, `memory_pct_of_limit_sum`, `rss_bytes_min`, `rss_bytes_max`, `rss_bytes_sum`, `cache_bytes_min`, `cache_bytes_max`, `cache_bytes_sum`, `pids_min`, `pids_max`, `pids_sum`)
SELECT `ts`, `host`, `container_id`, `name`, `samples`, `interval_ms`, `throttled_periods`, `periods`, `throttled_us`, `major_faults`, `oom_kills`, `io_read_bytes`, `io_write_bytes`, `io_reads`, `io_writes`, `net_rx_bytes`, `net_tx_bytes`, `cpu_pct_of_host_min`, `cpu_pct_of_host_max`, `cpu_pct_of_host_sum`, `cpu_pct_of_limit_min`, `cpu_pct_of_limit_max`, `cpu_pct_of_limit_sum`, `memory_bytes_min`, `memory_bytes_max`, `memory_bytes_sum`, `memory_pct_of_limit_min`, `memory_pct_of_limit_max`, `memory_pct_of_limit_sum`, `rss_bytes_min`, `rss_bytes_max`, `rss_bytes_sum`, `cache_bytes_min`, `cache_bytes_max`, `cache_bytes_sum`, `pids_min`, `pids_max`, `pids_sum` FROM container_resources_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-container_resources_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO system_cpu_1m__0030 (`ts`, `host`, `cpu`, `samples`, `interval_ms`, `user_pct_min`, `user_pct_max`, `user_pct_sum`, `nice_pct_min`, `nice_pct_max`, `nice_pct_sum`, `system_pct_min`, `system_pct_max`, `system_pct_sum`, `idle_pct_min`, `idle_pct_max`, `idle_pct_sum`, `iowait_pct_min`, `iowait_pct_max`, `iowait_pct_sum`, `irq_pct_min`, `irq_pct_max`, `irq_pct_sum`, `softirq_pct_min`, `softirq_pct_max`, `softirq_pct_sum`, `steal_pct_min`, `steal_pct_max`, `steal_pct_sum`, `busy_pct_min`, `busy_pct_max`, `busy_pct_sum`)
SELECT `ts`, `host`, `cpu`, `samples`, `interval_ms`, `user_pct_min`, `user_pct_max`, `user_pct_sum`, `nice_pct_min`, `nice_pct_max`, `nice_pct_sum`, `system_pct_min`, `system_pct_max`, `system_pct_sum`, `idle_pct_min`, `idle_pct_max`, `idle_pct_sum`, `iowait_pct_min`, `iowait_pct_max`, `iowait_pct_sum`, `irq_pct_min`, `irq_pct_max`, `irq_pct_sum`, `softirq_pct_min`, `softirq_pct_max`, `softirq_pct_sum`, `steal_pct_min`, `steal_pct_max`, `steal_pct_sum`, `busy_pct_min`, `busy_pct_max`, `busy_pct_sum` FROM system_cpu_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-system_cpu_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO system_cpu_1h__0030 (`ts`, `host`, `cpu`, `samples`, `interval_ms`, `user_pct_min`, `user_pct_max`, `user_pct_sum`, `nice_pct_min`, `nice_pct_max`, `nice_pct_sum`, `system_pct_min`, `system_pct_max`, `system_pct_sum`, `idle_pct_min`, `idle_pct_max`, `idle_pct_sum`, `iowait_pct_min`, `iowait_pct_max`, `iowait_pct_sum`, `irq_pct_min`, `irq_pct_max`, `irq_pct_sum`, `softirq_pct_min`, `softirq_pct_max`, `softirq_pct_sum`, `steal_pct_min`, `steal_pct_max`, `steal_pct_sum`, `busy_pct_min`, `busy_pct_max`, `busy_pct_sum`)
SELECT `ts`, `host`, `cpu`, `samples`, `interval_ms`, `user_pct_min`, `user_pct_max`, `user_pct_sum`, `nice_pct_min`, `nice_pct_max`, `nice_pct_sum`, `system_pct_min`, `system_pct_max`, `system_pct_sum`, `idle_pct_min`, `idle_pct_max`, `idle_pct_sum`, `iowait_pct_min`, `iowait_pct_max`, `iowait_pct_sum`, `irq_pct_min`, `irq_pct_max`, `irq_pct_sum`, `softirq_pct_min`, `softirq_pct_max`, `softirq_pct_sum`, `steal_pct_min`, `steal_pct_max`, `steal_pct_sum`, `busy_pct_min`, `busy_pct_max`, `busy_pct_sum` FROM system_cpu_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-system_cpu_1h';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND engine = 'AggregatingMergeTree'
INSERT INTO system_host_1m__0030 (`ts`, `host`, `samples`, `interval_ms`, `context_switches`, `interrupts`, `softirqs`, `swap_in_pages`, `swap_out_pages`, `page_faults`, `major_faults`, `procs_running_min`, `procs_running_max`, `procs_running_sum`, `procs_blocked_min`, `procs_blocked_max`, `procs_blocked_sum`, `mem_used_bytes_min`, `mem_used_bytes_max`, `mem_used_bytes_sum`, `mem_available_bytes_min`, `mem_available_bytes_max`, `mem_available_bytes_sum`, `mem_cached_bytes_min`, `mem_cached_bytes_max`, `mem_cached_bytes_sum`, `mem_used_pct_min`, `mem_used_pct_max`, `mem_used_pct_sum`, `swap_used_bytes_min`, `swap_used_bytes_max`, `swap_used_bytes_sum`, `psi_cpu_some_pct_min`, `psi_cpu_some_pct_max`, `psi_cpu_some_pct_sum`, `psi_memory_some_pct_min`, `psi_memory_some_pct_max`, `psi_memory_some_pct_sum`, `psi_memory_full_pct_min`, `psi_memory_full_pct_max`, `psi_memory_full_pct_sum`, `psi_io_some_pct_min`, `psi_io_some_pct_max`, `psi_io_some_pct_sum`, `psi_io_full_pct_min`, `psi_io_full_pct_max`, `psi_io_full_pct_sum`)
SELECT `ts`, `host`, `samples`, `interval_ms`, `context_switches`, `interrupts`, `softirqs`, `swap_in_pages`, `swap_out_pages`, `page_faults`, `major_faults`, `procs_running_min`, `procs_running_max`, `procs_running_sum`, `procs_blocked_min`, `procs_blocked_max`, `procs_blocked_sum`, `mem_used_bytes_min`, `mem_used_bytes_max`, `mem_used_bytes_sum`, `mem_available_bytes_min`, `mem_available_bytes_max`, `mem_available_bytes_sum`, `mem_cached_bytes_min`, `mem_cached_bytes_max`, `mem_cached_bytes_sum`, `mem_used_pct_min`, `mem_used_pct_max`, `mem_used_pct_sum`, `swap_used_bytes_min`, `swap_used_bytes_max`, `swap_used_bytes_sum`, `psi_cpu_some_pct_min`, `psi_cpu_some_pct_max`, `psi_cpu_some_pct_sum`, `psi_memory_some_pct_min`, `psi_memory_some_pct_max`, `psi_memory_some_pct_sum`, `psi_memory_full_pct_min`, `psi_memory_full_pct_max`, `psi_memory_full_pct_sum`, `psi_io_some_pct_min`, `psi_io_some_pct_max`, `psi_io_some_pct_sum`, `psi_io_full_pct_min`, `psi_io_full_pct_max`, `psi_io_full_pct_sum` FROM system_host_1m
SETTINGS insert_deduplication_token = 'pyperf-0030-system_host_1m';
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
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND engine = 'AggregatingMergeTree'
INSERT INTO system_host_1h__0030 (`ts`, `host`, `samples`, `interval_ms`, `context_switches`, `interrupts`, `softirqs`, `swap_in_pages`, `swap_out_pages`, `page_faults`, `major_faults`, `procs_running_min`, `procs_running_max`, `procs_running_sum`, `procs_blocked_min`, `procs_blocked_max`, `procs_blocked_sum`, `mem_used_bytes_min`, `mem_used_bytes_max`, `mem_used_bytes_sum`, `mem_available_bytes_min`, `mem_available_bytes_max`, `mem_available_bytes_sum`, `mem_cached_bytes_min`, `mem_cached_bytes_max`, `mem_cached_bytes_sum`, `mem_used_pct_min`, `mem_used_pct_max`, `mem_used_pct_sum`, `swap_used_bytes_min`, `swap_used_bytes_max`, `swap_used_bytes_sum`, `psi_cpu_some_pct_min`, `psi_cpu_some_pct_max`, `psi_cpu_some_pct_sum`, `psi_memory_some_pct_min`, `psi_memory_some_pct_max`, `psi_memory_some_pct_sum`, `psi_memory_full_pct_min`, `psi_memory_full_pct_max`, `psi_memory_full_pct_sum`, `psi_io_some_pct_min`, `psi_io_some_pct_max`, `psi_io_some_pct_sum`, `psi_io_full_pct_min`, `psi_io_full_pct_max`, `psi_io_full_pct_sum`)
SELECT `ts`, `host`, `samples`, `interval_ms`, `context_switches`, `interrupts`, `softirqs`, `swap_in_pages`, `swap_out_pages`, `page_faults`, `major_faults`, `procs_running_min`, `procs_running_max`, `procs_running_sum`, `procs_blocked_min`, `procs_blocked_max`, `procs_blocked_sum`, `mem_used_bytes_min`, `mem_used_bytes_max`, `mem_used_bytes_sum`, `mem_available_bytes_min`, `mem_available_bytes_max`, `mem_available_bytes_sum`, `mem_cached_bytes_min`, `mem_cached_bytes_max`, `mem_cached_bytes_sum`, `mem_used_pct_min`, `mem_used_pct_max`, `mem_used_pct_sum`, `swap_used_bytes_min`, `swap_used_bytes_max`, `swap_used_bytes_sum`, `psi_cpu_some_pct_min`, `psi_cpu_some_pct_max`, `psi_cpu_some_pct_sum`, `psi_memory_some_pct_min`, `psi_memory_some_pct_max`, `psi_memory_some_pct_sum`, `psi_memory_full_pct_min`, `psi_memory_full_pct_max`, `psi_memory_full_pct_sum`, `psi_io_some_pct_min`, `psi_io_some_pct_max`, `psi_io_some_pct_sum`, `psi_io_full_pct_min`, `psi_io_full_pct_max`, `psi_io_full_pct_sum` FROM system_host_1h
SETTINGS insert_deduplication_token = 'pyperf-0030-system_host_1h';
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND engine = 'AggregatingMergeTree'
EXCHANGE TABLES system_host_1h AND system_host_1h__0030;
-- embedded store only
DROP TABLE IF EXISTS system_host_1h__0030;
