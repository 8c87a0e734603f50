-- Every table but the migration ledger rebuilt with granules of at most 512 KiB
-- uncompressed (index_granularity_bytes; the engine's default is 10 MiB, a
-- setting it lets no ALTER change): a merge holds a granule of every part it
-- reads, and a per-process table's granules were 8 192 rows of ~400 bytes, so
-- the merges of sched_process and faults_process were the agent's highest
-- memory readings (docs/performance.md). CREATE ... AS keeps each table's
-- columns, keys, TTL and settings; its parts are attached (hard links), the two
-- tables exchanged, the old one dropped, each step only while its guard says it
-- has not run, so a migration stopped half-way resumes. Old parts keep their
-- granules until they are merged. On the embedded store only, as 0030.
-- Written by pyperf.schema.generate.small_granules_sql(); frozen since.

-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'agent_counters' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS agent_counters__0031 AS agent_counters
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'agent_counters' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'agent_counters__0031' AND active) = 0
ALTER TABLE agent_counters__0031 ATTACH PARTITION ALL FROM agent_counters;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'agent_counters' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES agent_counters AND agent_counters__0031;
-- embedded store only
DROP TABLE IF EXISTS agent_counters__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'alerts' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS alerts__0031 AS alerts
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'alerts' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'alerts__0031' AND active) = 0
ALTER TABLE alerts__0031 ATTACH PARTITION ALL FROM alerts;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'alerts' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES alerts AND alerts__0031;
-- embedded store only
DROP TABLE IF EXISTS alerts__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'changes' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS changes__0031 AS changes
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'changes' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'changes__0031' AND active) = 0
ALTER TABLE changes__0031 ATTACH PARTITION ALL FROM changes;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'changes' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES changes AND changes__0031;
-- embedded store only
DROP TABLE IF EXISTS changes__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS container_resources__0031 AS container_resources
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'container_resources__0031' AND active) = 0
ALTER TABLE container_resources__0031 ATTACH PARTITION ALL FROM container_resources;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES container_resources AND container_resources__0031;
-- embedded store only
DROP TABLE IF EXISTS container_resources__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS container_resources_1h__0031 AS container_resources_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'container_resources_1h__0031' AND active) = 0
ALTER TABLE container_resources_1h__0031 ATTACH PARTITION ALL FROM container_resources_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES container_resources_1h AND container_resources_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS container_resources_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS container_resources_1m__0031 AS container_resources_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'container_resources_1m__0031' AND active) = 0
ALTER TABLE container_resources_1m__0031 ATTACH PARTITION ALL FROM container_resources_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'container_resources_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES container_resources_1m AND container_resources_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS container_resources_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'containers' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS containers__0031 AS containers
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'containers' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'containers__0031' AND active) = 0
ALTER TABLE containers__0031 ATTACH PARTITION ALL FROM containers;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'containers' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES containers AND containers__0031;
-- embedded store only
DROP TABLE IF EXISTS containers__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_container_io__0031 AS disk_container_io
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_container_io__0031' AND active) = 0
ALTER TABLE disk_container_io__0031 ATTACH PARTITION ALL FROM disk_container_io;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_container_io AND disk_container_io__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_container_io__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_container_io_1h__0031 AS disk_container_io_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_container_io_1h__0031' AND active) = 0
ALTER TABLE disk_container_io_1h__0031 ATTACH PARTITION ALL FROM disk_container_io_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_container_io_1h AND disk_container_io_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_container_io_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_container_io_1m__0031 AS disk_container_io_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_container_io_1m__0031' AND active) = 0
ALTER TABLE disk_container_io_1m__0031 ATTACH PARTITION ALL FROM disk_container_io_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_container_io_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_container_io_1m AND disk_container_io_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_container_io_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_io__0031 AS disk_io
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_io__0031' AND active) = 0
ALTER TABLE disk_io__0031 ATTACH PARTITION ALL FROM disk_io;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_io AND disk_io__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_io__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_io_1h__0031 AS disk_io_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_io_1h__0031' AND active) = 0
ALTER TABLE disk_io_1h__0031 ATTACH PARTITION ALL FROM disk_io_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_io_1h AND disk_io_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_io_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_io_1m__0031 AS disk_io_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_io_1m__0031' AND active) = 0
ALTER TABLE disk_io_1m__0031 ATTACH PARTITION ALL FROM disk_io_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_io_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_io_1m AND disk_io_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_io_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_queue' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_queue__0031 AS disk_queue
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_queue' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_queue__0031' AND active) = 0
ALTER TABLE disk_queue__0031 ATTACH PARTITION ALL FROM disk_queue;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_queue' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_queue AND disk_queue__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_queue__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_slow_io' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS disk_slow_io__0031 AS disk_slow_io
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_slow_io' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'disk_slow_io__0031' AND active) = 0
ALTER TABLE disk_slow_io__0031 ATTACH PARTITION ALL FROM disk_slow_io;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'disk_slow_io' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES disk_slow_io AND disk_slow_io__0031;
-- embedded store only
DROP TABLE IF EXISTS disk_slow_io__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS faults_process__0031 AS faults_process
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'faults_process__0031' AND active) = 0
ALTER TABLE faults_process__0031 ATTACH PARTITION ALL FROM faults_process;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES faults_process AND faults_process__0031;
-- embedded store only
DROP TABLE IF EXISTS faults_process__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS faults_process_1h__0031 AS faults_process_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'faults_process_1h__0031' AND active) = 0
ALTER TABLE faults_process_1h__0031 ATTACH PARTITION ALL FROM faults_process_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES faults_process_1h AND faults_process_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS faults_process_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS faults_process_1m__0031 AS faults_process_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'faults_process_1m__0031' AND active) = 0
ALTER TABLE faults_process_1m__0031 ATTACH PARTITION ALL FROM faults_process_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'faults_process_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES faults_process_1m AND faults_process_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS faults_process_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'governor_actions' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS governor_actions__0031 AS governor_actions
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'governor_actions' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'governor_actions__0031' AND active) = 0
ALTER TABLE governor_actions__0031 ATTACH PARTITION ALL FROM governor_actions;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'governor_actions' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES governor_actions AND governor_actions__0031;
-- embedded store only
DROP TABLE IF EXISTS governor_actions__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'layer_file_access' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS layer_file_access__0031 AS layer_file_access
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'layer_file_access' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'layer_file_access__0031' AND active) = 0
ALTER TABLE layer_file_access__0031 ATTACH PARTITION ALL FROM layer_file_access;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'layer_file_access' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES layer_file_access AND layer_file_access__0031;
-- embedded store only
DROP TABLE IF EXISTS layer_file_access__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'layer_files' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS layer_files__0031 AS layer_files
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'layer_files' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'layer_files__0031' AND active) = 0
ALTER TABLE layer_files__0031 ATTACH PARTITION ALL FROM layer_files;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'layer_files' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES layer_files AND layer_files__0031;
-- embedded store only
DROP TABLE IF EXISTS layer_files__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'offcpu_stack' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS offcpu_stack__0031 AS offcpu_stack
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'offcpu_stack' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'offcpu_stack__0031' AND active) = 0
ALTER TABLE offcpu_stack__0031 ATTACH PARTITION ALL FROM offcpu_stack;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'offcpu_stack' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES offcpu_stack AND offcpu_stack__0031;
-- embedded store only
DROP TABLE IF EXISTS offcpu_stack__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'profile_stack' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS profile_stack__0031 AS profile_stack
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'profile_stack' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'profile_stack__0031' AND active) = 0
ALTER TABLE profile_stack__0031 ATTACH PARTITION ALL FROM profile_stack;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'profile_stack' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES profile_stack AND profile_stack__0031;
-- embedded store only
DROP TABLE IF EXISTS profile_stack__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS response_time__0031 AS response_time
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'response_time__0031' AND active) = 0
ALTER TABLE response_time__0031 ATTACH PARTITION ALL FROM response_time;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES response_time AND response_time__0031;
-- embedded store only
DROP TABLE IF EXISTS response_time__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS response_time_1h__0031 AS response_time_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'response_time_1h__0031' AND active) = 0
ALTER TABLE response_time_1h__0031 ATTACH PARTITION ALL FROM response_time_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES response_time_1h AND response_time_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS response_time_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS response_time_1m__0031 AS response_time_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'response_time_1m__0031' AND active) = 0
ALTER TABLE response_time_1m__0031 ATTACH PARTITION ALL FROM response_time_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'response_time_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES response_time_1m AND response_time_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS response_time_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS sched_cpu__0031 AS sched_cpu
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_cpu__0031' AND active) = 0
ALTER TABLE sched_cpu__0031 ATTACH PARTITION ALL FROM sched_cpu;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES sched_cpu AND sched_cpu__0031;
-- embedded store only
DROP TABLE IF EXISTS sched_cpu__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS sched_cpu_1h__0031 AS sched_cpu_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_cpu_1h__0031' AND active) = 0
ALTER TABLE sched_cpu_1h__0031 ATTACH PARTITION ALL FROM sched_cpu_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES sched_cpu_1h AND sched_cpu_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS sched_cpu_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS sched_cpu_1m__0031 AS sched_cpu_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_cpu_1m__0031' AND active) = 0
ALTER TABLE sched_cpu_1m__0031 ATTACH PARTITION ALL FROM sched_cpu_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_cpu_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES sched_cpu_1m AND sched_cpu_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS sched_cpu_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS sched_process__0031 AS sched_process
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_process__0031' AND active) = 0
ALTER TABLE sched_process__0031 ATTACH PARTITION ALL FROM sched_process;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES sched_process AND sched_process__0031;
-- embedded store only
DROP TABLE IF EXISTS sched_process__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS sched_process_1h__0031 AS sched_process_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_process_1h__0031' AND active) = 0
ALTER TABLE sched_process_1h__0031 ATTACH PARTITION ALL FROM sched_process_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES sched_process_1h AND sched_process_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS sched_process_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS sched_process_1m__0031 AS sched_process_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'sched_process_1m__0031' AND active) = 0
ALTER TABLE sched_process_1m__0031 ATTACH PARTITION ALL FROM sched_process_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'sched_process_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES sched_process_1m AND sched_process_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS sched_process_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'settings' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS settings__0031 AS settings
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'settings' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'settings__0031' AND active) = 0
ALTER TABLE settings__0031 ATTACH PARTITION ALL FROM settings;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'settings' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES settings AND settings__0031;
-- embedded store only
DROP TABLE IF EXISTS settings__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'silences' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS silences__0031 AS silences
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'silences' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'silences__0031' AND active) = 0
ALTER TABLE silences__0031 ATTACH PARTITION ALL FROM silences;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'silences' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES silences AND silences__0031;
-- embedded store only
DROP TABLE IF EXISTS silences__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_cpu__0031 AS system_cpu
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_cpu__0031' AND active) = 0
ALTER TABLE system_cpu__0031 ATTACH PARTITION ALL FROM system_cpu;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_cpu AND system_cpu__0031;
-- embedded store only
DROP TABLE IF EXISTS system_cpu__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_cpu_1h__0031 AS system_cpu_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_cpu_1h__0031' AND active) = 0
ALTER TABLE system_cpu_1h__0031 ATTACH PARTITION ALL FROM system_cpu_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_cpu_1h AND system_cpu_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS system_cpu_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_cpu_1m__0031 AS system_cpu_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_cpu_1m__0031' AND active) = 0
ALTER TABLE system_cpu_1m__0031 ATTACH PARTITION ALL FROM system_cpu_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_cpu_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_cpu_1m AND system_cpu_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS system_cpu_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_disk' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_disk__0031 AS system_disk
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_disk' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_disk__0031' AND active) = 0
ALTER TABLE system_disk__0031 ATTACH PARTITION ALL FROM system_disk;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_disk' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_disk AND system_disk__0031;
-- embedded store only
DROP TABLE IF EXISTS system_disk__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_host__0031 AS system_host
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_host__0031' AND active) = 0
ALTER TABLE system_host__0031 ATTACH PARTITION ALL FROM system_host;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_host AND system_host__0031;
-- embedded store only
DROP TABLE IF EXISTS system_host__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_host_1h__0031 AS system_host_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_host_1h__0031' AND active) = 0
ALTER TABLE system_host_1h__0031 ATTACH PARTITION ALL FROM system_host_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_host_1h AND system_host_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS system_host_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_host_1m__0031 AS system_host_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_host_1m__0031' AND active) = 0
ALTER TABLE system_host_1m__0031 ATTACH PARTITION ALL FROM system_host_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_host_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_host_1m AND system_host_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS system_host_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_net' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS system_net__0031 AS system_net
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_net' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'system_net__0031' AND active) = 0
ALTER TABLE system_net__0031 ATTACH PARTITION ALL FROM system_net;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'system_net' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES system_net AND system_net__0031;
-- embedded store only
DROP TABLE IF EXISTS system_net__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_connection_rtt' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS tcp_connection_rtt__0031 AS tcp_connection_rtt
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_connection_rtt' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_connection_rtt__0031' AND active) = 0
ALTER TABLE tcp_connection_rtt__0031 ATTACH PARTITION ALL FROM tcp_connection_rtt;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_connection_rtt' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES tcp_connection_rtt AND tcp_connection_rtt__0031;
-- embedded store only
DROP TABLE IF EXISTS tcp_connection_rtt__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_event' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS tcp_event__0031 AS tcp_event
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_event' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_event__0031' AND active) = 0
ALTER TABLE tcp_event__0031 ATTACH PARTITION ALL FROM tcp_event;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_event' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES tcp_event AND tcp_event__0031;
-- embedded store only
DROP TABLE IF EXISTS tcp_event__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS tcp_host__0031 AS tcp_host
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_host__0031' AND active) = 0
ALTER TABLE tcp_host__0031 ATTACH PARTITION ALL FROM tcp_host;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES tcp_host AND tcp_host__0031;
-- embedded store only
DROP TABLE IF EXISTS tcp_host__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS tcp_host_1h__0031 AS tcp_host_1h
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_host_1h__0031' AND active) = 0
ALTER TABLE tcp_host_1h__0031 ATTACH PARTITION ALL FROM tcp_host_1h;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1h' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES tcp_host_1h AND tcp_host_1h__0031;
-- embedded store only
DROP TABLE IF EXISTS tcp_host_1h__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS tcp_host_1m__0031 AS tcp_host_1m
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_host_1m__0031' AND active) = 0
ALTER TABLE tcp_host_1m__0031 ATTACH PARTITION ALL FROM tcp_host_1m;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_host_1m' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES tcp_host_1m AND tcp_host_1m__0031;
-- embedded store only
DROP TABLE IF EXISTS tcp_host_1m__0031;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_process' AND position(create_table_query, 'index_granularity_bytes') = 0
CREATE TABLE IF NOT EXISTS tcp_process__0031 AS tcp_process
SETTINGS index_granularity_bytes = 524288;
-- embedded store only
-- when: SELECT (SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_process' AND position(create_table_query, 'index_granularity_bytes') = 0) > 0 AND (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'tcp_process__0031' AND active) = 0
ALTER TABLE tcp_process__0031 ATTACH PARTITION ALL FROM tcp_process;
-- embedded store only
-- when: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'tcp_process' AND position(create_table_query, 'index_granularity_bytes') = 0
EXCHANGE TABLES tcp_process AND tcp_process__0031;
-- embedded store only
DROP TABLE IF EXISTS tcp_process__0031;
