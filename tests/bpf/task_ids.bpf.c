/* Test program: reads the current task's pid, tgid and mount-namespace inode
 * through offsets that pyperf/kernel/btf.py computed, on a syscall tracepoint. */
#include <uapi/linux/ptrace.h>

struct ids {
    u32 pid;
    u32 tgid;
    u32 mnt_ns_inum;
    u32 seen;
};

BPF_ARRAY(result, struct ids, 1);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid)
{
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET_TGID)
        return 0;
    char *task = (char *)bpf_get_current_task();
    struct ids out = {};
    bpf_probe_read_kernel(&out.pid, sizeof(out.pid), task + OFF_TASK_PID);
    bpf_probe_read_kernel(&out.tgid, sizeof(out.tgid), task + OFF_TASK_TGID);
    char *nsproxy = 0, *mnt_ns = 0;
    bpf_probe_read_kernel(&nsproxy, sizeof(nsproxy), task + OFF_TASK_NSPROXY);
    if (nsproxy)
        bpf_probe_read_kernel(&mnt_ns, sizeof(mnt_ns), nsproxy + OFF_NSPROXY_MNT_NS);
    if (mnt_ns)
        bpf_probe_read_kernel(&out.mnt_ns_inum, sizeof(out.mnt_ns_inum), mnt_ns + OFF_MNT_NS_INUM);
    out.seen = 1;
    int zero = 0;
    result.update(&zero, &out);
    return 0;
}
