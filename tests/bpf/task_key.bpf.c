/* Test program: the current task's container key as pyperf's programs read it
 * (bpf/common.h: mount_ns_of(), cgroup_id_of()) next to the kernel helper's
 * cgroup id, on a syscall tracepoint. */
#include <uapi/linux/ptrace.h>
#include "common.h"

struct key {
    u64 mnt_ns;
    u64 cgroup_id;           /* cgroup_id_of(): four loads through BTF offsets */
    u64 helper_cgroup_id;    /* bpf_get_current_cgroup_id() */
    u64 seen;
};

BPF_ARRAY(result, struct key, 1);

RAW_TRACEPOINT_PROBE(sys_enter)
{
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET_TGID)
        return 0;
    struct task_struct *task = bpf_get_current_task_btf();
    struct key out = {};
    out.mnt_ns = mount_ns_of(task);
    out.cgroup_id = cgroup_id_of(task);
    out.helper_cgroup_id = bpf_get_current_cgroup_id();
    out.seen = 1;
    int zero = 0;
    result.update(&zero, &out);
    return 0;
}
