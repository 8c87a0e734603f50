/* Scheduler: context switches (voluntary / involuntary), on-CPU time,
 * run-queue latency and off-CPU time per process, and per CPU.
 *
 * One hook: the sched_switch raw tracepoint, and only the task switching out
 * (the current task) is examined. The kernel already keeps, per task, the
 * cumulative CPU time (se.sum_exec_runtime) and run-queue wait
 * (sched_info.run_delay, sched_info.pcount: what /proc/<pid>/schedstat shows);
 * each task's task-local storage remembers the values at its previous
 * switch-out, so the differences give this cycle's CPU time and run-queue
 * wait. The time it was blocked is that of its wake-up (when it arrived on a
 * CPU, sched_info.last_arrival, less this cycle's run-queue wait) less that of
 * its previous switch-out (its arrival then plus the CPU time it ran: the CPU
 * time a task gains between a switch-out and its next arrival is none). No
 * wake-up hooks, no pid-keyed timestamp maps (runqlat's approach) and no clock
 * read (~110 ns on this VM, on every switch): these are the scheduler's own
 * clock readings, rq_clock, which the kernel's run_delay also subtracts across
 * CPUs. CPU time runs on the task clock (without IRQ and steal time): an
 * interrupt-heavy or stolen stint makes the next blocked period look longer
 * by that much, as timing it between two switch-outs with ktime did.
 *
 * Voluntary means what the kernel's nvcsw means: not preempted and prev_state
 * != TASK_RUNNING, both taken from the tracepoint's arguments.
 *
 * Required -D constants (from BTF): OFF_TASK_SUM_EXEC, OFF_TASK_PREV_SUM_EXEC,
 * OFF_TASK_RUN_DELAY, OFF_TASK_PCOUNT, OFF_TASK_LAST_ARRIVAL and the task key's
 * (common.h: OFF_TASK_NSPROXY, ..., OFF_KN_ID).
 * Optional: OFFCPU_STACKS with OFFCPU_MIN_NS and STACK_ENTRIES; SETTLE_FAULTS with
 * bpf/faults_settle.part.c's constants (the faults probe riding on this program).
 */
#include <uapi/linux/ptrace.h>
#include "sched.h"

/* SETTLE_FAULTS: the faults probe runs too, and bpf/faults_settle.part.c comes
 * before this text: this program settles its counters, one program per switch
 * instead of two. */

struct task_mark {
#ifdef SETTLE_FAULTS
    struct fault_mark faults;
#endif
    u64 out_ns;        /* when it switched out (rq_clock): its arrival plus its stint's CPU time */
    u64 sum_exec;
    u64 run_delay;
    u64 pcount;
    u32 voluntary;     /* how the previous switch-out went */
    u32 seen;
    s32 user_stack_id;     /* stacks at the previous voluntary switch-out (OFFCPU_STACKS) */
    s32 kernel_stack_id;
};

BPF_TASK_STORAGE(sched_marks, struct task_mark);
BPF_PERCPU_HASH(sched_processes, u32, struct sched_process, 16384);
BPF_PERCPU_ARRAY(sched_cpus, struct sched_cpu, 1);
BPF_ARRAY(sched_lost, u64, 1);   /* switches of processes that did not fit the map */
BPF_ARRAY(sched_zero, struct sched_process, 1);   /* never written: the initial value (too big for the stack) */

#ifdef OFFCPU_STACKS
/* Off-CPU stacks: the stack is taken when a task blocks (only then is it the
 * current task), and its blocked time is known at its next switch-out; periods
 * shorter than OFFCPU_MIN_NS are not recorded. Capturing a stack at every
 * voluntary switch is the costly part, hence a compile-time option. */
BPF_STACK_TRACE(offcpu_stacks, STACK_ENTRIES);
HASH_MAP(offcpu_counts, struct offcpu_key, struct offcpu_value, 40960);
#endif

static __always_inline struct sched_process *process_for(u32 tgid, void *task)
{
    struct sched_process *p = sched_processes.lookup(&tgid);
    if (p)
        return p;
    int zero = 0;
    struct sched_process *fresh = sched_zero.lookup(&zero);
    if (fresh)
        sched_processes.insert(&tgid, fresh);   /* BPF_NOEXIST: a racing CPU's entry and counts are kept */
    p = sched_processes.lookup(&tgid);
    if (!p) {
        u64 *lost = sched_lost.lookup(&zero);
        if (lost)
            __sync_fetch_and_add(lost, 1);
        return 0;
    }
    p->mnt_ns = mount_ns_of(task);
    p->cgroup_id = cgroup_id_of(task);
    bpf_get_current_comm(&p->comm, sizeof(p->comm));
    return p;
}

RAW_TRACEPOINT_PROBE(sched_switch)
{
    /* TP_PROTO(bool preempt, struct task_struct *prev, struct task_struct *next,
     *          unsigned int prev_state) */
    u32 preempt = (u32)ctx->args[0];
    u32 prev_state = (u32)ctx->args[3];

    int zero = 0;
    struct sched_cpu *cpu = sched_cpus.lookup(&zero);
    if (cpu)
        cpu->switches++;

    u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((u32)pid_tgid == 0)
        return 0;   /* the idle task */
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_mark *mark = sched_marks.task_storage_get(task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!mark)
        return 0;
#ifdef SETTLE_FAULTS
    settle_faults(task, pid_tgid >> 32, &mark->faults);
#endif
    u64 sum_exec = BTF_MEMBER(task, u64, OFF_TASK_SUM_EXEC);
    u64 pcount = BTF_MEMBER(task, u64, OFF_TASK_PCOUNT);        /* sched_info.pcount */
    u64 run_delay = BTF_MEMBER(task, u64, OFF_TASK_RUN_DELAY);  /* sched_info.run_delay */
    u64 arrival = BTF_MEMBER(task, u64, OFF_TASK_LAST_ARRIVAL); /* this stint's start: set only on arrival */
    u32 voluntary = !preempt && prev_state != 0;
    /* This stint's CPU time: since the previous switch-out or, first seen, since the
     * fair class picked the task (se.prev_sum_exec_runtime; stale for a real-time
     * task, whose first blocked period then comes out short, clamped at zero). */
    u64 picked = BTF_MEMBER(task, u64, OFF_TASK_PREV_SUM_EXEC);
    u64 remembered = mark->sum_exec;
    /* values, not one load through either pointer: the verifier refuses an
     * instruction that loads through a task pointer and a map value's */
    asm volatile("" : "+r"(picked), "+r"(remembered));
    u64 stint = sum_exec - (mark->seen ? remembered : picked);

    struct sched_process *p = process_for(pid_tgid >> 32, task);
    if (p) {
        p->cgroup_id = cgroup_id_of(task);   /* runc moves a new process into its cgroup */
        if (voluntary)
            p->voluntary++;
        else
            p->involuntary++;
        if (mark->seen) {
            u64 runq = run_delay - mark->run_delay;
            p->oncpu_ns += stint;
            if (pcount != mark->pcount) {
                u32 slot = log2_slot_us(runq);
                p->runq_ns += runq;
                p->runq_waits += pcount - mark->pcount;
                p->runq_hist[slot]++;
                if (cpu) {
                    cpu->runq_ns += runq;
                    cpu->runq_waits += pcount - mark->pcount;
                    cpu->runq_hist[slot]++;
                }
            }
            if (mark->voluntary) {
                u64 woke = arrival - runq;
                u64 blocked = woke > mark->out_ns ? woke - mark->out_ns : 0;
                p->offcpu_ns += blocked;
                p->offcpu_count++;
                p->offcpu_hist[log2_slot_us(blocked)]++;
#ifdef OFFCPU_STACKS
                if (blocked >= OFFCPU_MIN_NS && (mark->user_stack_id >= 0 || mark->kernel_stack_id >= 0)) {
                    struct offcpu_key k = {};
                    k.tgid = pid_tgid >> 32;
                    k.user_stack_id = mark->user_stack_id;
                    k.kernel_stack_id = mark->kernel_stack_id;
                    k.mnt_ns = p->mnt_ns;
                    __builtin_memcpy(k.comm, p->comm, sizeof(k.comm));
                    struct offcpu_value zero_v = {}, *v = offcpu_counts.lookup_or_try_init(&k, &zero_v);
                    if (v) {
                        __sync_fetch_and_add(&v->blocked_ns, blocked);
                        __sync_fetch_and_add(&v->count, 1);
                    }
                }
#endif
            }
        }
    }
    mark->out_ns = arrival + stint;
    mark->sum_exec = sum_exec;
    mark->run_delay = run_delay;
    mark->pcount = pcount;
    mark->voluntary = voluntary;
    mark->seen = 1;
#ifdef OFFCPU_STACKS
    if (voluntary) {
        /* Ids stay valid until a colliding stack takes their bucket (REUSE): user space
         * never frees them, since a blocked task's mark may still point at one. */
        mark->user_stack_id = offcpu_stacks.get_stackid(ctx, BPF_F_USER_STACK | BPF_F_REUSE_STACKID);
        mark->kernel_stack_id = offcpu_stacks.get_stackid(ctx, 2 | BPF_F_REUSE_STACKID);   /* skip our two frames */
    }
#endif
    return 0;
}

#ifdef SETTLE_FAULTS
RAW_TRACEPOINT_PROBE(sched_process_exit)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((u32)pid_tgid == 0)
        return 0;
    struct task_struct *task = bpf_get_current_task_btf();
    struct task_mark *mark = sched_marks.task_storage_get(task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (mark)
        settle_faults(task, pid_tgid >> 32, &mark->faults);   /* a process that never switched out too */
    return 0;
}
#endif
