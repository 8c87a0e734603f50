/* Shared between bpf/disk.bpf.c and pyperf/probes/disk.py (SlowIOEvent):
 * tests/test_probe_structs.py checks that both agree on the layout. */
#ifndef PYPERF_DISK_H
#define PYPERF_DISK_H

#include "common.h"

#define DISK_OP_READ 0
#define DISK_OP_WRITE 1
#define DISK_OP_FLUSH 2
#define DISK_OP_DISCARD 3
#define DISK_OP_OTHER 4


struct disk_key {
    u32 dev;      /* (major << 20) | minor, the kernel's dev_t */
    u32 op;       /* DISK_OP_* */
};

/* One value per (device, op), so completing a request costs one map lookup. */
struct disk_stats {
    u64 ios;
    u64 bytes;
    u64 latency_sum_ns;
    u64 hist[HIST_SLOTS];   /* slot i: latency in [2^i, 2^(i+1)) us; slot 0: < 2 us */
};

struct disk_queue {
    s64 inflight;      /* requests started and not yet done (seen since attach) */
    s64 inflight_max;  /* reset by user space every interval */
};

struct disk_slow_event {
    u64 done_ns;       /* bpf_ktime_get_ns() at completion (CLOCK_MONOTONIC) */
    u64 latency_ns;
    u64 bytes;
    u32 dev;
    u32 op;
    u32 pid;
    u32 pad;
    u64 mnt_ns;        /* submitter's mount namespace inode (0 if unknown) */
    u64 cgroup_id;     /* submitter's cgroup v2 id */
    char comm[16];
};

/* Per container: I/O submitted by processes outside the host's mount namespace. */
struct disk_container_key {
    u64 mnt_ns;
    u64 cgroup_id;
    u32 dev;
    u32 op;
};

#endif
