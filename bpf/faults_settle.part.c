/* Settling a task's page-fault counters (min_flt, maj_flt) into its process's
 * entry of fault_processes (bpf/faults.bpf.c's reasoning), and the maps. Joined
 * as text before bpf/faults.bpf.c, and before bpf/sched.bpf.c when the sched
 * probe runs too (pyperf/probes/bpf_loader.py: bcc rewrites map operations only
 * in the text it compiles, not in an #included file). The maps are shared
 * tables made once (bpf/faults_maps.bpf.c). Builds:
 *   SETTLE_FAULTS     in sched's: its switch and exit programs settle;
 *   SETTLED_BY_SCHED  in faults': its own programs only count the page cache;
 *   neither           faults alone: its own switch and exit programs settle.
 *
 * Required -D constants where it settles: OFF_TASK_MIN_FLT, OFF_TASK_MAJ_FLT,
 * OFF_TASK_START_TIME, ATTACH_MONO_NS, and the task key's (common.h: mount_ns_of(),
 * cgroup_id_of()).
 */
#include <uapi/linux/ptrace.h>
#include "common.h"
#include "faults.h"

/* made once by bpf/faults_maps.bpf.c, shared by name */
BPF_TABLE("extern", u32, struct process_faults, fault_processes, 16384);
BPF_TABLE("extern", int, u64, fault_lost, 1);

struct fault_mark {
    u64 min_flt;
    u64 maj_flt;
    u64 seen;
};

static __always_inline struct process_faults *fault_process_for(u32 tgid)
{
    struct process_faults *p = fault_processes.lookup(&tgid);
    if (p)
        return p;
    struct process_faults fresh = {};
    struct task_struct *task = bpf_get_current_task_btf();   /* the current task's: only for a new entry */
    fresh.mnt_ns = mount_ns_of(task);
    fresh.cgroup_id = cgroup_id_of(task);
    bpf_get_current_comm(&fresh.comm, sizeof(fresh.comm));
    fault_processes.insert(&tgid, &fresh);   /* BPF_NOEXIST: a racing CPU's entry and counts are kept */
    p = fault_processes.lookup(&tgid);
    if (!p) {
        int zero = 0;
        u64 *lost = fault_lost.lookup(&zero);
        if (lost)
            __sync_fetch_and_add(lost, 1);
    }
    return p;
}

#ifndef SETTLED_BY_SCHED
/* `task` is the current task (switching out, or exiting). */
static __always_inline void settle_faults(struct task_struct *task, u32 tgid, struct fault_mark *mark)
{
    u64 min_flt = BTF_MEMBER(task, u64, OFF_TASK_MIN_FLT);
    u64 maj_flt = BTF_MEMBER(task, u64, OFF_TASK_MAJ_FLT);
    if (!mark->seen && BTF_MEMBER(task, u64, OFF_TASK_START_TIME) > ATTACH_MONO_NS) {
        mark->min_flt = 0;    /* born after we loaded: every fault it took is news */
        mark->maj_flt = 0;
        mark->seen = 1;
    }
    if (mark->seen && (min_flt != mark->min_flt || maj_flt != mark->maj_flt)) {
        struct process_faults *p = fault_process_for(tgid);
        if (p) {
            p->cgroup_id = cgroup_id_of(task);
            p->minor += min_flt - mark->min_flt;
            p->major += maj_flt - mark->maj_flt;
        }
    }
    mark->min_flt = min_flt;
    mark->maj_flt = maj_flt;
    mark->seen = 1;
}
#endif
