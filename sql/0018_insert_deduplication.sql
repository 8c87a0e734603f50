-- Idempotent inserts: the writer gives every batch an insert_deduplication_token
-- and retries (and replays from the spool) with the same token; each table
-- remembers the last 1000 tokens, so a batch stored before a failure was noticed
-- is not stored twice. (ReplicatedMergeTree tables on a cluster use
-- replicated_deduplication_window, 1000 by default.)
ALTER TABLE disk_io MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE disk_queue MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE disk_slow_io MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE system_cpu MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE system_host MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE system_disk MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE system_net MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE sched_process MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE sched_cpu MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE faults_process MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE tcp_host MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE tcp_process MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE tcp_event MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE profile_stack MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE response_time MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE offcpu_stack MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE tcp_connection_rtt MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE container_resources MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE layer_file_access MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE layer_files MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE disk_container_io MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE containers MODIFY SETTING non_replicated_deduplication_window = 1000;
