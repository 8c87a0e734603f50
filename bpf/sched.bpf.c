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
 * Per process: each thread adds its counts and histograms to its own
 * task-local storage (already at hand), and what they gained since the last
 * fold is folded into its process's entry of sched_processes: at a switch-out
 * when its last fold is sched_fold_after ns old or more, at its last switch-out
 * (prev_state TASK_DEAD), and by the task iterator below. sched_fold_after is 0
 * (every switch-out folds) unless the host switches so often that the per-process
 * lookup (~110 of the program's ~270 ns: the entry's cache lines are cold)
 * costs more than visiting every task once a drain; then user space sets it
 * to 30 s and runs the iterator before it reads sched_processes (pyperf/probes/
 * sched.py decides, docs/performance.md has the figures), so the counts are
 * exact at every drain either way. Two folds of one thread never overlap (a
 * compare-and-swap flag in its storage: tracing programs may not take a
 * bpf_spin_lock; a fold that finds one under way leaves its counts to the
 * next, and at a task's last switch-out, racing the iterator, loses them); the
 * thread's own switch-outs only ever add to its counts.
 *
 * Voluntary means what the kernel's nvcsw means: not preempted and prev_state
 * != TASK_RUNNING, both taken from the tracepoint's arguments.
 *
 * Required -D constants (from BTF): OFF_TASK_SUM_EXEC, OFF_TASK_PREV_SUM_EXEC,
 * OFF_TASK_RUN_DELAY, OFF_TASK_PCOUNT, OFF_TASK_LAST_ARRIVAL, OFF_TASK_TGID,
 * OFF_TASK_COMM and the task key's (common.h: OFF_TASK_NSPROXY, ..., OFF_KN_ID).
 * Optional: OFFCPU_STACKS with OFFCPU_MIN_NS and STACK_ENTRIES;
 * SETTLE_FAULTS with bpf/faults_settle.part.c's constants (the faults probe riding
 * on this program).
 */
#include <uapi/linux/ptrace.h>
#include "sched.h"

/* SETTLE_FAULTS: the faults probe runs too, and bpf/faults_settle.part.c comes
 * before this text: this program settles its counters, one program per switch
 * instead of two. */

#define TASK_DEAD_STATE 0x80   /* TASK_DEAD in prev_state: the exiting task's last switch-out */

/* One thread's counts since it was first seen (histogram slots as u32: folds
 * take differences, so a slot wrapping between two folds is still right). */
struct sched_counts {
    u64 voluntary;
    u64 involuntary;
    u64 oncpu_ns;
    u64 runq_ns;
    u64 runq_waits;
    u64 offcpu_ns;
    u64 offcpu_count;
    u32 runq_hist[HIST_SLOTS];
    u32 offcpu_hist[HIST_SLOTS];
};

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
    u64 folded_at;         /* the thread's sched_info.last_arrival at its last fold */
    u64 folding;           /* a fold is under way (tracing programs may not take a bpf_spin_lock) */
    struct sched_counts counts;    /* written only by the thread's own switch-outs */
    struct sched_counts folded;    /* what was added to its process: written while `folding` is held */
};

BPF_TASK_STORAGE(sched_marks, struct task_mark);
BPF_PERCPU_HASH(sched_processes, u32, struct sched_process, 16384);
BPF_PERCPU_ARRAY(sched_cpus, struct sched_cpu, 1);
BPF_ARRAY(sched_lost, u64, 1);   /* switches of processes that did not fit the map */
BPF_ARRAY(sched_zero, struct sched_process, 1);   /* never written: the initial value (too big for the stack) */
BPF_PERCPU_ARRAY(sched_sink, struct sched_process, 1);   /* where the folds of processes that did not fit go */
/* A thread folds at a switch-out when its last fold is this many ns old: 0 (every
 * switch) unless user space runs the task iterator each drain (pyperf/probes/sched.py). */
BPF_ARRAY(sched_fold_after, u64, 1);

#ifdef OFFCPU_STACKS
/* Off-CPU stacks: the stack is taken when a task blocks (only then is it the
 * current task), and its blocked time is known at its next switch-out; periods
 * shorter than OFFCPU_MIN_NS are not recorded. Capturing a stack at every
 * voluntary switch is the costly part, hence a compile-time option. */
BPF_STACK_TRACE(offcpu_stacks, STACK_ENTRIES);
BPF_HASH(offcpu_counts, struct offcpu_key, struct offcpu_value, 40960);
#endif

static __always_inline struct sched_process *process_for(u32 tgid, struct task_struct *task)
{
    struct sched_process *p = sched_processes.lookup(&tgid);
    if (p)
        return p;
    int zero = 0;
    struct sched_process *fresh = sched_zero.lookup(&zero);
    if (fresh)
        sched_processes.insert(&tgid, fresh);   /* BPF_NOEXIST: a racing CPU's entry and counts are kept */
    p = sched_processes.lookup(&tgid);
    if (!p)
        return 0;
    p->mnt_ns = mount_ns_of(task);
    bpf_probe_read_kernel(p->comm, sizeof(p->comm), (char *)task + OFF_TASK_COMM);
    return p;
}

/* What `task`'s counts gained since its last fold, into its process's entry (on
 * this CPU's copy). The gains are added and `folded` moved on while `folding` is
 * held, so two folds of one thread never add the same counts; the thread's own
 * switch-outs may add more meanwhile: the next fold takes those. */
static __always_inline void fold(struct task_struct *task, u32 tgid, struct task_mark *mark)
{
    u64 arrival = BTF_MEMBER(task, u64, OFF_TASK_LAST_ARRIVAL);
    asm volatile("" : "+r"(arrival));
    if (mark->counts.voluntary == mark->folded.voluntary && mark->counts.involuntary == mark->folded.involuntary) {
        mark->folded_at = arrival;
        return;   /* every other count moves only at a switch-out */
    }
    int zero = 0;
    struct sched_process *p = process_for(tgid, task);
    int fits = p != 0;
    if (fits)
        p->cgroup_id = cgroup_id_of(task);   /* runc moves a new process into its cgroup */
    else if (!(p = sched_sink.lookup(&zero)))   /* the gains go nowhere, and `folded` moves on */
        return;
    if (__sync_val_compare_and_swap(&mark->folding, 0, 1) != 0)
        return;   /* another fold of this thread is under way: it takes these counts */
    mark->folded_at = arrival;
    u64 switches = 0 - mark->folded.voluntary - mark->folded.involuntary;
#define TAKE(field) { u64 now_ = mark->counts.field; p->field += now_ - mark->folded.field; mark->folded.field = now_; }
    TAKE(voluntary) TAKE(involuntary) TAKE(oncpu_ns) TAKE(runq_ns) TAKE(runq_waits)
    TAKE(offcpu_ns) TAKE(offcpu_count)
#undef TAKE
    /* only the slots that moved: the entry's histogram lines are cold */
#pragma unroll
    for (int i = 0; i < HIST_SLOTS; i++) {
        u32 runq = mark->counts.runq_hist[i], offcpu = mark->counts.offcpu_hist[i];
        if (runq != mark->folded.runq_hist[i]) {
            p->runq_hist[i] += (u32)(runq - mark->folded.runq_hist[i]);
            mark->folded.runq_hist[i] = runq;
        }
        if (offcpu != mark->folded.offcpu_hist[i]) {
            p->offcpu_hist[i] += (u32)(offcpu - mark->folded.offcpu_hist[i]);
            mark->folded.offcpu_hist[i] = offcpu;
        }
    }
    switches += mark->folded.voluntary + mark->folded.involuntary;
    __sync_lock_test_and_set(&mark->folding, 0);   /* an exchange: ordered after the fold's stores */
    if (!fits) {
        u64 *lost = sched_lost.lookup(&zero);
        if (lost)
            __sync_fetch_and_add(lost, switches);
    }
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

    struct sched_counts *c = &mark->counts;
    if (voluntary)
        c->voluntary++;
    else
        c->involuntary++;
    if (mark->seen) {
        u64 runq = run_delay - mark->run_delay;
        c->oncpu_ns += stint;
        if (pcount != mark->pcount) {
            u32 slot = log2_slot_us(runq);
            c->runq_ns += runq;
            c->runq_waits += pcount - mark->pcount;
            c->runq_hist[slot]++;
            if (cpu) {
                cpu->runq_ns += runq;
                cpu->runq_waits += pcount - mark->pcount;
                cpu->runq_hist[slot]++;
            }
        }
        if (mark->voluntary) {
            u64 woke = arrival - runq;
            u64 blocked = woke > mark->out_ns ? woke - mark->out_ns : 0;
            c->offcpu_ns += blocked;
            c->offcpu_count++;
            c->offcpu_hist[log2_slot_us(blocked)]++;
#ifdef OFFCPU_STACKS
            if (blocked >= OFFCPU_MIN_NS && (mark->user_stack_id >= 0 || mark->kernel_stack_id >= 0)) {
                struct offcpu_key k = {};
                k.tgid = pid_tgid >> 32;
                k.user_stack_id = mark->user_stack_id;
                k.kernel_stack_id = mark->kernel_stack_id;
                k.mnt_ns = mount_ns_of(task);
                bpf_get_current_comm(&k.comm, sizeof(k.comm));
                struct offcpu_value zero_v = {}, *v = offcpu_counts.lookup_or_try_init(&k, &zero_v);
                if (v) {
                    __sync_fetch_and_add(&v->blocked_ns, blocked);
                    __sync_fetch_and_add(&v->count, 1);
                }
            }
#endif
        }
    }
    mark->out_ns = arrival + stint;
    mark->sum_exec = sum_exec;
    mark->run_delay = run_delay;
    mark->pcount = pcount;
    mark->voluntary = voluntary;
    mark->seen = 1;
    u64 folded_at = mark->folded_at;
    u64 *after = sched_fold_after.lookup(&zero);
    u64 fold_after = after ? *after : 0;
    asm volatile("" : "+r"(folded_at), "+r"(fold_after));
    if (arrival - folded_at >= fold_after || (prev_state & TASK_DEAD_STATE))
        fold(task, pid_tgid >> 32, mark);   /* stale, or its last switch-out: it is gone after it */
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

/* The drain's fold of every thread (pyperf/probes/task_iterator.py runs it). The
 * context's layout is the kernel's (kernel/bpf/task_iter.c); the 6.1 headers bcc
 * compiles with do not have it, and the verifier checks accesses by BTF. */
struct bpf_iter_meta { void *seq; u64 session_id; u64 seq_num; };
struct bpf_iter__task { struct bpf_iter_meta *meta; struct task_struct *task; };

int bpf_iter__task(struct bpf_iter__task *ctx)
{
    struct task_struct *task = ctx->task;
    if (!task)
        return 0;
    struct task_mark *mark = sched_marks.task_storage_get(task, 0, 0);
    if (mark)
        fold(task, BTF_MEMBER(task, u32, OFF_TASK_TGID), mark);
    return 0;
}
