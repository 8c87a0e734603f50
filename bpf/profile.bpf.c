/* On-CPU profile: a perf-event program (CPU_CLOCK, PROFILE_HZ per CPU) counts
 * samples per (process, user stack, kernel stack) in the kernel; stacks live
 * in a stack-trace map. User space reads and deletes the counts once per
 * interval and symbolises the stacks.
 *
 * Required -D constants: OFF_TASK_NSPROXY, OFF_NSPROXY_MNT_NS, OFF_MNT_NS_INUM,
 * STACK_ENTRIES (stack map size).
 */
#include <uapi/linux/ptrace.h>
#include <uapi/linux/bpf_perf_event.h>
#include "common.h"
#include "profile.h"

HASH_MAP(profile_counts, struct sample_key, u64, 40960);
BPF_STACK_TRACE(profile_stacks, STACK_ENTRIES);
BPF_ARRAY(profile_lost, u64, 1);

int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((u32)pid_tgid == 0)
        return 0;   /* idle */
    struct sample_key key = {};
    key.tgid = pid_tgid >> 32;
    key.user_stack_id = profile_stacks.get_stackid(&ctx->regs, BPF_F_USER_STACK);
    key.kernel_stack_id = profile_stacks.get_stackid(&ctx->regs, 0);
    key.mnt_ns = mount_ns_of(bpf_get_current_task_btf());
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    u64 zero = 0, *count = profile_counts.lookup_or_try_init(&key, &zero);
    if (count) {
        __sync_fetch_and_add(count, 1);
    } else {
        int idx = 0;
        u64 *lost = profile_lost.lookup(&idx);
        if (lost)
            __sync_fetch_and_add(lost, 1);
    }
    return 0;
}
