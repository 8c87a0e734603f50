/* Page faults per process, minor and major, and page-cache lookups vs pages added.
 *
 * Minor or major is decided by the kernel itself: mm_account_fault() adds each
 * handled fault to the task's min_flt or maj_flt (major = VM_FAULT_MAJOR: the
 * fault had to wait for I/O), the same counters /proc/<pid>/stat shows. So no
 * program runs per fault: when a task is switched out (sched_switch, where the
 * task leaving is still `current`) or exits, we add what its counters gained
 * since it was last settled (kept in task-local storage). A fault-bound task
 * pays nothing per fault; every task pays one settle per switch-out (measured
 * in docs/performance.md). Counts are exact at every switch-out; a task that
 * keeps its CPU without switching is settled at its next switch or exit.
 *
 * The first settle of a task: a task started after the probe loaded
 * (task_struct.start_time, CLOCK_MONOTONIC like ATTACH_MONO_NS) starts from
 * zero, as fork() resets the counters, so a short-lived process that never
 * switched out is still counted at exit; an older task starts from what it had
 * at its first switch-out. Faults the kernel takes on user memory from kernel
 * mode (copy_to_user) are counted too, as they are in /proc.
 *
 * Page cache, from the filemap tracepoints: looked-up pages (filemap_get_pages
 * for read(), filemap_fault and filemap_map_pages for mmap) against pages added
 * (filemap_add_to_page_cache, 2^order pages each). A large read() reports its
 * whole remaining range once per batch, so lookups are over-counted for big
 * reads; pages added by writes and readahead count as added. An estimate.
 *
 * When the sched probe runs too, its sched_switch program settles the counters
 * (-DSETTLED_BY_SCHED here, -DSETTLE_FAULTS there: one program per switch
 * instead of two, measured in docs/performance.md) into maps it exports, and only
 * the page-cache programs run here (bpf/faults_settle.part.c).
 *
 * Required -D constants (from BTF): OFF_TASK_MIN_FLT, OFF_TASK_MAJ_FLT,
 * OFF_TASK_START_TIME, OFF_TASK_NSPROXY, OFF_NSPROXY_MNT_NS, OFF_MNT_NS_INUM;
 * and ATTACH_MONO_NS (when the probe was compiled, CLOCK_MONOTONIC ns).
 */
/* bpf/faults_settle.part.c comes before this text: the maps and settle_faults(). */

#ifndef SETTLED_BY_SCHED
BPF_TASK_STORAGE(fault_marks, struct fault_mark);

static __always_inline void settle_current(void)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((u32)pid_tgid == 0)
        return;
    struct task_struct *task = bpf_get_current_task_btf();
    struct fault_mark *mark = fault_marks.task_storage_get(task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (mark)
        settle_faults(task, pid_tgid >> 32, mark);
}

RAW_TRACEPOINT_PROBE(sched_switch)
{
    settle_current();          /* current is the task being switched out */
    return 0;
}

RAW_TRACEPOINT_PROBE(sched_process_exit)
{
    settle_current();
    return 0;
}
#endif

static __always_inline void count_cache(u64 lookups, u64 added)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    struct process_faults *p = fault_process_for(pid_tgid >> 32);
    if (p) {
        p->cache_lookups += lookups;
        p->cache_added += added;
    }
}

TRACEPOINT_PROBE(filemap, mm_filemap_get_pages)
{
    count_cache(args->last_index - args->index + 1, 0);
    return 0;
}

TRACEPOINT_PROBE(filemap, mm_filemap_map_pages)
{
    count_cache(args->last_index - args->index + 1, 0);
    return 0;
}

TRACEPOINT_PROBE(filemap, mm_filemap_fault)
{
    count_cache(1, 0);
    return 0;
}

TRACEPOINT_PROBE(filemap, mm_filemap_add_to_page_cache)
{
    count_cache(0, 1ULL << args->order);
    return 0;
}
