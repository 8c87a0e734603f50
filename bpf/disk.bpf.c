/* Disk I/O latency, throughput and queue depth, aggregated in the kernel.
 *
 * Hooks (raw tracepoints, so the struct request pointer is the key and partial
 * completions or merged requests cannot confuse start/done matching):
 *   start: block_io_start (6.5+) or block_rq_issue (DISK_LEGACY_HOOKS)
 *   bytes: block_rq_complete, once per partial or full completion (nr_bytes),
 *          kept in the request's start entry until done (one map update per I/O)
 *   done:  block_io_done (6.5+) or the final block_rq_complete
 * Latency runs from rq->start_time_ns (what /proc/diskstats uses) when the
 * kernel set it, else from our own start timestamp, so requests issued before
 * attach are timed too.
 *
 * A request's start (who submitted it, its bytes so far) waits for its done in
 * a slot of an array, not a hash map: a hash map's insert and delete were ~450
 * of the ~1 600 ns an I/O cost here (docs/performance.md). The slot is picked
 * by hashing the request's address; of the two slots of a pair, a start takes
 * the free one, else the first, whose request then goes on without its start
 * (its done counts it like one issued before attach, without container or
 * process; such starts are counted in disk_lost[1]). A slot's owner field is
 * claimed and published with atomics, so a done reads only its own request's
 * start: it copies the slot, then releases it only if it still owns it. (The
 * bytes of partial completions kept in a start that is taken go with it, and a
 * completion racing the taking may add to the taker's: both need a crowded
 * pair and a request completed in parts.)
 *
 * Every struct offset arrives as a -D constant read
 * from BTF by pyperf/kernel/btf.py; header layouts are never trusted.
 *
 * Required -D constants: OFF_RQ_Q, OFF_RQ_CMD_FLAGS, OFF_RQ_DATA_LEN,
 * OFF_RQ_START_TIME_NS, OFF_Q_DISK, OFF_DISK_MAJOR, OFF_DISK_FIRST_MINOR,
 * SLOW_NS (slow I/O threshold), HOST_MNT_NS and the MOUNT_NS offsets
 * (OFF_TASK_NSPROXY, ...): I/O submitted outside the host's mount namespace is
 * also counted per (mount namespace, cgroup id), the container key, at the cost
 * of three pointer reads per request start. Writeback submitted by kernel
 * threads is the host's, as in the kernel's own per-cgroup accounting without
 * blk-cgroup writeback; optional: RINGBUF_PAGES (power of two), DISK_LEGACY_HOOKS when the 6.5+ hooks
 * are missing, START_BITS (1 to 20: 2^(START_BITS+1) start slots; tests crowd them with 1).
 */
#include <uapi/linux/ptrace.h>
#include "common.h"
#include "disk.h"

#define REQ_OP_MASK 0xff

struct start_info {
    u64 ts_ns;
    u64 bytes;
    u32 dev;
    u32 op;
    u32 pid;
    u32 pad;
    u64 mnt_ns;
    u64 cgroup_id;
    char comm[16];
};

/* Per CPU: a request completes on whichever CPU takes its interrupt, often not
 * the one that counted the last; one shared value made every completion's
 * atomic adds pull its cache line across. */
BPF_PERCPU_HASH(disk_stats, struct disk_key, struct disk_stats, 1024);
/* LRU: keys of containers long gone make room; user space forgets them too. */
BPF_TABLE("lru_hash", struct disk_container_key, struct disk_stats, disk_container_stats, 8192);
HASH_MAP(disk_queue, u32, struct disk_queue, 256);
/* Two slots a pair, the pair from the request's address (START_BITS bits of it):
 * 16 384 slots, ~1.2 MB, as many as the hash map this replaced held. */
#ifndef START_BITS
#define START_BITS 13
#endif
#define SLOT_FREE 0
#define SLOT_BUSY 1    /* being written: no request lives at address 1 */
struct start_slot {
    u64 rq;            /* the request whose start this is, or SLOT_FREE / SLOT_BUSY */
    struct start_info info;
};
BPF_ARRAY(disk_start, struct start_slot, 2 << START_BITS);
BPF_ARRAY(disk_lost, u64, 2);   /* [0] slow I/O events the ring buffer had no room for; [1] starts not kept */
#ifndef RINGBUF_PAGES
#define RINGBUF_PAGES 64   /* 256 KiB: 4096 slow I/O events per interval */
#endif
BPF_RINGBUF_OUTPUT(disk_slow_events, RINGBUF_PAGES);

static __always_inline u32 rq_dev(void *rq)
{
    void *q = (void *)read_u64(rq, OFF_RQ_Q);
    if (!q)
        return 0;
    void *disk = (void *)read_u64(q, OFF_Q_DISK);
    if (!disk)
        return 0;
#if OFF_DISK_FIRST_MINOR == OFF_DISK_MAJOR + 4
    u64 both = read_u64(disk, OFF_DISK_MAJOR);   /* adjacent ints: one read */
    u32 major = (u32)both, minor = (u32)(both >> 32);
#else
    u32 major = read_u32(disk, OFF_DISK_MAJOR);
    u32 minor = read_u32(disk, OFF_DISK_FIRST_MINOR);
#endif
    return (major << 20) | minor;
}

/* The same grouping as the kernel's op_stat_group(), with flush apart. */
static __always_inline u32 rq_op(void *rq)
{
    u32 op = read_u32(rq, OFF_RQ_CMD_FLAGS) & REQ_OP_MASK;
    if (op == 0)
        return DISK_OP_READ;
    if (op == 2)
        return DISK_OP_FLUSH;
    if (op == 3 || op == 5)   /* DISCARD, SECURE_ERASE */
        return DISK_OP_DISCARD;
    if (op & 1)               /* WRITE, WRITE_ZEROES, ... */
        return DISK_OP_WRITE;
    return DISK_OP_OTHER;
}

static __always_inline u32 pair_of(u64 rq)
{
#if START_BITS < 1 || START_BITS > 20
#error "START_BITS: 1 to 20"
#endif
    return (u32)((rq >> 6) * 0x9E3779B97F4A7C15ULL >> (64 - START_BITS)) << 1;
}

/* The slot holding `rq`'s start, or 0. */
static __always_inline struct start_slot *slot_of(u64 rq)
{
    u32 i = pair_of(rq);
    struct start_slot *slot = disk_start.lookup(&i);
    if (slot && slot->rq == rq)
        return slot;
    i |= 1;
    slot = disk_start.lookup(&i);
    return slot && slot->rq == rq ? slot : 0;
}

/* `rq`'s start, copied into `copy`, and its slot freed: 1 if it had one. A slot
 * only changes hands through SLOT_BUSY, so if the release finds `rq` still there,
 * nobody wrote the slot while it was copied. */
static __always_inline int take_start(u64 rq, struct start_info *copy)
{
    struct start_slot *slot = slot_of(rq);
    if (!slot)
        return 0;
    *copy = slot->info;
    return __sync_val_compare_and_swap(&slot->rq, rq, SLOT_FREE) == rq;
}

static __always_inline void count_lost_start(void)
{
    int one = 1;
    u64 *lost = disk_lost.lookup(&one);
    if (lost)
        __sync_fetch_and_add(lost, 1);
}

static __always_inline void on_start(void *rq)
{
    struct start_info info = {};
    info.ts_ns = bpf_ktime_get_ns();
    info.dev = rq_dev(rq);
    info.op = rq_op(rq);
    info.pid = bpf_get_current_pid_tgid() >> 32;
    struct task_struct *task = bpf_get_current_task_btf();
    info.mnt_ns = mount_ns_of(task);
    info.cgroup_id = cgroup_id_of(task);
    bpf_get_current_comm(&info.comm, sizeof(info.comm));
    u64 key = (u64)rq;
    u32 i = pair_of(key);
    struct start_slot *slot = disk_start.lookup(&i);
    i |= 1;
    struct start_slot *other = disk_start.lookup(&i);
    if (!slot || !other)
        return;
    struct start_slot *again = slot->rq == key ? slot : other->rq == key ? other : 0;
    if (again) {
#ifndef DISK_LEGACY_HOOKS
        /* block_io_start fires once per request: a start under this request's
         * address is one whose done we never saw (a skipped run). Replace it, so
         * the stale owner is not charged for this I/O; it already counts in flight. */
        if (__sync_val_compare_and_swap(&again->rq, key, SLOT_BUSY) == key) {
            again->info = info;
            __sync_lock_test_and_set(&again->rq, key);
        }
#endif
        return;   /* legacy hooks: issued again after a requeue, the first start stands */
    }
    u64 owner = slot->rq;
    if (owner != SLOT_FREE && other->rq == SLOT_FREE) {
        slot = other;
        owner = SLOT_FREE;
    }
    if (owner == SLOT_BUSY || __sync_val_compare_and_swap(&slot->rq, owner, SLOT_BUSY) != owner) {
        count_lost_start();   /* another CPU is writing this slot: this request goes on without it */
        return;
    }
    if (owner != SLOT_FREE) {
        /* both slots hold requests in flight: the first goes on without its start,
         * and out of the in-flight count, as its done will not find it */
        struct disk_queue *evicted = disk_queue.lookup(&slot->info.dev);
        if (evicted)
            __sync_fetch_and_add(&evicted->inflight, -1);
        count_lost_start();
    }
    slot->info = info;
    __sync_lock_test_and_set(&slot->rq, key);   /* an exchange: published after the start */

    struct disk_queue zero = {}, *q = disk_queue.lookup_or_try_init(&info.dev, &zero);
    if (!q)
        return;
    __sync_fetch_and_add(&q->inflight, 1);
    s64 now = q->inflight;
    if (now > q->inflight_max)
        q->inflight_max = now;
}

static __always_inline struct disk_stats *stats_for(struct disk_key *k)
{
    struct disk_stats *s = disk_stats.lookup(k);
    if (s)
        return s;
    struct disk_stats zero = {};
    return disk_stats.lookup_or_try_init(k, &zero);   /* BPF_NOEXIST: keeps a racing CPU's counts */
}

static __always_inline void on_done(void *rq, u64 last_bytes)
{
    u64 now = bpf_ktime_get_ns();
    struct start_info copy;
    struct start_info *info = take_start((u64)rq, &copy) ? &copy : 0;
    u64 start = read_u64(rq, OFF_RQ_START_TIME_NS);
    if (start == 0 || start > now)
        start = info ? info->ts_ns : now;
    u64 latency = now - start;

    struct disk_key k = {};
    k.dev = info ? info->dev : rq_dev(rq);
    k.op = info ? info->op : rq_op(rq);
    u32 slot = log2_slot_us(latency);
    struct disk_stats *s = stats_for(&k);
    if (s) {
        __sync_fetch_and_add(&s->ios, 1);
        __sync_fetch_and_add(&s->latency_sum_ns, latency);
        /* bytes of requests we saw start are added here, at once */
        if (info)
            __sync_fetch_and_add(&s->bytes, info->bytes + last_bytes);
        __sync_fetch_and_add(&s->hist[slot], 1);
    }
    if (info && info->mnt_ns && info->mnt_ns != HOST_MNT_NS) {
        struct disk_container_key ck = {};
        ck.mnt_ns = info->mnt_ns;
        ck.cgroup_id = info->cgroup_id;
        ck.dev = k.dev;
        ck.op = k.op;
        struct disk_stats zero = {};
        struct disk_stats *c = disk_container_stats.lookup_or_try_init(&ck, &zero);
        if (c) {
            __sync_fetch_and_add(&c->ios, 1);
            __sync_fetch_and_add(&c->latency_sum_ns, latency);
            __sync_fetch_and_add(&c->bytes, info->bytes + last_bytes);
            __sync_fetch_and_add(&c->hist[slot], 1);
        }
    }

    if (latency >= SLOW_NS) {
        struct disk_slow_event *e = disk_slow_events.ringbuf_reserve(sizeof(*e));
        if (e) {
            e->done_ns = now;
            e->latency_ns = latency;
            e->bytes = (info ? info->bytes : 0) + last_bytes;
            e->dev = k.dev;
            e->op = k.op;
            e->pid = info ? info->pid : 0;
            e->pad = 0;
            e->mnt_ns = info ? info->mnt_ns : 0;
            e->cgroup_id = info ? info->cgroup_id : 0;
            if (info)
                __builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
            else
                __builtin_memset(e->comm, 0, sizeof(e->comm));
            disk_slow_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
        } else {
            int zero_idx = 0;
            u64 *lost = disk_lost.lookup(&zero_idx);
            if (lost)
                __sync_fetch_and_add(lost, 1);
        }
    }

    if (info) {
        struct disk_queue *q = disk_queue.lookup(&k.dev);
        if (q)
            __sync_fetch_and_add(&q->inflight, -1);
    }
}

/* Bytes are counted per completion, as /proc/diskstats counts sectors: into the
 * request's start entry (added to the device at done), or straight into the
 * device's counters for a request that started before we attached. */
static __always_inline void on_complete_bytes(void *rq, u64 nr_bytes)
{
    struct start_slot *slot = slot_of((u64)rq);
    if (slot) {
        __sync_fetch_and_add(&slot->info.bytes, nr_bytes);
        return;
    }
    struct disk_key k = {};
    k.dev = rq_dev(rq);
    k.op = rq_op(rq);
    struct disk_stats *s = stats_for(&k);
    if (s)
        __sync_fetch_and_add(&s->bytes, nr_bytes);
}

#ifndef DISK_LEGACY_HOOKS
RAW_TRACEPOINT_PROBE(block_io_start)
{
    on_start((void *)ctx->args[0]);
    return 0;
}

RAW_TRACEPOINT_PROBE(block_io_done)
{
    on_done((void *)ctx->args[0], 0);
    return 0;
}

RAW_TRACEPOINT_PROBE(block_rq_complete)
{
    on_complete_bytes((void *)ctx->args[0], (u32)ctx->args[2]);
    return 0;
}
#else
RAW_TRACEPOINT_PROBE(block_rq_issue)
{
    on_start((void *)ctx->args[0]);
    return 0;
}

/* Without block_io_done, the completion that covers all remaining bytes is the end. */
RAW_TRACEPOINT_PROBE(block_rq_complete)
{
    void *rq = (void *)ctx->args[0];
    u64 nr_bytes = (u32)ctx->args[2];
    u64 remaining = read_u32(rq, OFF_RQ_DATA_LEN);
    if (nr_bytes < remaining) {
        on_complete_bytes(rq, nr_bytes);
        return 0;
    }
    if (slot_of((u64)rq))
        on_done(rq, nr_bytes);
    else {
        on_complete_bytes(rq, nr_bytes);
        on_done(rq, 0);
    }
    return 0;
}
#endif
