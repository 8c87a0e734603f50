-- Writes and copy-ups into a container's writable layer (probe: layers).
ALTER TABLE layer_file_access
    ADD COLUMN IF NOT EXISTS dirtied_folios UInt64 CODEC(T64, ZSTD(1));
