/* Shared between bpf/faults.bpf.c and pyperf/probes/faults.py (ProcessFaults). */
#ifndef PYPERF_FAULTS_H
#define PYPERF_FAULTS_H

/* Per process (tgid), cumulative since first seen; per-CPU map. */
struct process_faults {
    u64 minor;            /* faults served from memory (the kernel's min_flt) */
    u64 major;            /* faults that needed I/O (maj_flt) */
    u64 cache_lookups;    /* page-cache pages looked up by reads, mmap faults and fault-around */
    u64 cache_added;      /* pages added to the page cache in this process's context */
    u64 mnt_ns;           /* mount namespace inode (container key) */
    u64 cgroup_id;        /* cgroup v2 id */
    char comm[16];
};

#endif
