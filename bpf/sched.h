/* Shared between bpf/sched.bpf.c and pyperf/probes/sched.py (ProcessSched,
 * CpuSched, OffcpuKey): tests/test_probe_structs.py checks that both agree on the layout. */
#ifndef PYPERF_SCHED_H
#define PYPERF_SCHED_H

#include "common.h"

/* Per process (tgid), cumulative since the process was first seen; per-CPU map. */
struct sched_process {
    u64 voluntary;         /* switched out while blocking (prev_state != 0, not preempted) */
    u64 involuntary;       /* switched out while runnable (preempted) */
    u64 oncpu_ns;          /* CPU time, from se.sum_exec_runtime */
    u64 runq_ns;           /* time runnable but waiting for a CPU, from sched_info.run_delay */
    u64 runq_waits;        /* arrivals on a CPU (sched_info.pcount) */
    u64 offcpu_ns;         /* time blocked (voluntary switches only, run-queue wait excluded) */
    u64 offcpu_count;
    u64 mnt_ns;            /* mount namespace inode of the process (container key) */
    u64 cgroup_id;         /* latest cgroup v2 id (0 on v1-only hosts) */
    char comm[16];
    /* 32-bit slots, wrapping (user space differences them modulo 2^32): half of
     * each entry's size, in a map sized max_entries x every possible CPU */
    u32 runq_hist[HIST_SLOTS];
    u32 offcpu_hist[HIST_SLOTS];
};

/* Per CPU, cumulative; per-CPU array with one element. */
struct sched_cpu {
    u64 switches;
    u64 runq_ns;
    u64 runq_waits;
    u64 runq_hist[HIST_SLOTS];
};

/* Off-CPU stacks (with -DOFFCPU_STACKS): blocked time per process and stack. */
struct offcpu_key {
    u32 tgid;
    s32 user_stack_id;
    s32 kernel_stack_id;
    u32 pad;
    u64 mnt_ns;
    char comm[16];
};

struct offcpu_value {
    u64 blocked_ns;
    u64 count;
};

#endif
