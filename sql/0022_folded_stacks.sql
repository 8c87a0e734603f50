-- Stacks as one folded string (root;...;leaf) in a LowCardinality column: a
-- distinct stack is stored once per part and each row keeps a small index,
-- 5x fewer bytes than an array of frames (scripts/bench/store_bytes.py).
-- Rows stored before keep their array in `stack`; `folded` is computed from it
-- when read, so nothing is rewritten and the statement can run twice.
ALTER TABLE profile_stack
    ADD COLUMN IF NOT EXISTS folded LowCardinality(String) DEFAULT arrayStringConcat(stack, ';') CODEC(ZSTD(1)) AFTER stack;

ALTER TABLE offcpu_stack
    ADD COLUMN IF NOT EXISTS folded LowCardinality(String) DEFAULT arrayStringConcat(stack, ';') CODEC(ZSTD(1)) AFTER stack;
