/* Announces each (mount namespace, cgroup) the first time a program is exec'd in
 * it, with the pid, waking user space at once: the container is resolved while its
 * first process still lives, so even containers that live for milliseconds
 * are attributed. By exec time runc has already moved the process into the
 * container's cgroups and namespaces. One hash insert attempt per exec.
 *
 * Required -D constants: OFF_TASK_NSPROXY, OFF_NSPROXY_MNT_NS, OFF_MNT_NS_INUM.
 */
#include <uapi/linux/ptrace.h>
#include "common.h"
#include "containers.h"

BPF_TABLE("lru_hash", struct container_key, u8, seen_namespaces, 65536);
BPF_RINGBUF_OUTPUT(new_namespaces, 16);

RAW_TRACEPOINT_PROBE(sched_process_exec)
{
    struct container_key key = {};
    key.mnt_ns = mount_ns_of((void *)bpf_get_current_task());
    key.cgroup_id = bpf_get_current_cgroup_id();
    u8 one = 1;
    if (!key.mnt_ns || seen_namespaces.insert(&key, &one) != 0)
        return 0;   /* known already */
    struct new_namespace *e = new_namespaces.ringbuf_reserve(sizeof(*e));
    if (!e) {
        seen_namespaces.delete(&key);   /* announce it at its next exec instead */
        return 0;
    }
    e->mnt_ns = key.mnt_ns;
    e->cgroup_id = key.cgroup_id;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->pad = 0;
    new_namespaces.ringbuf_submit(e, 0);
    return 0;
}
