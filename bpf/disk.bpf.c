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
 * attach are timed too. Every struct offset arrives as a -D constant read
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
 * are missing.
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
BPF_HASH(disk_queue, u32, struct disk_queue, 256);
BPF_TABLE("lru_hash", u64, struct start_info, disk_start, 16384);
BPF_ARRAY(disk_lost, u64, 1);
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
    if (disk_start.insert(&key, &info) != 0) {
#ifndef DISK_LEGACY_HOOKS
        /* block_io_start fires once per request: an entry under this request's
         * address is one whose done we never saw (a skipped run). Replace it, so
         * the stale owner is not charged for this I/O; it already counts in flight. */
        disk_start.update(&key, &info);
#endif
        return;   /* legacy hooks: issued again after a requeue, the first start stands */
    }

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
    u64 key = (u64)rq;
    struct start_info *info = disk_start.lookup(&key);
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
        disk_start.delete(&key);
    }
}

/* Bytes are counted per completion, as /proc/diskstats counts sectors: into the
 * request's start entry (added to the device at done), or straight into the
 * device's counters for a request that started before we attached. */
static __always_inline void on_complete_bytes(void *rq, u64 nr_bytes)
{
    u64 key = (u64)rq;
    struct start_info *info = disk_start.lookup(&key);
    if (info) {
        __sync_fetch_and_add(&info->bytes, nr_bytes);
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
    u64 key = (u64)rq;
    if (disk_start.lookup(&key))
        on_done(rq, nr_bytes);
    else {
        on_complete_bytes(rq, nr_bytes);
        on_done(rq, 0);
    }
    return 0;
}
#endif
