/* Announces each (mount namespace, cgroup) the first time a program is exec'd in
 * it, with the pid, waking user space at once: the container is resolved while its
 * first process still lives, so even containers that live for milliseconds
 * are attributed. By exec time runc has already moved the process into the
 * container's cgroups and namespaces. One hash insert attempt per exec.
 *
 * The event also carries the process's cgroup paths (v2, and the memory
 * controller's, which is a v1 hierarchy on hybrid hosts): when user space gets
 * to a container that has already exited, the path still names it.
 *
 * Required -D constants: OFF_TASK_NSPROXY, OFF_NSPROXY_MNT_NS, OFF_MNT_NS_INUM,
 * OFF_TASK_CGROUPS, OFF_CSS_SET_DFL_CGRP, OFF_CSS_SET_SUBSYS, OFF_CSS_CGROUP,
 * OFF_CGROUP_KN, OFF_KN_NAME, OFF_KN_PARENT, MEMORY_SUBSYS (the memory
 * controller's index, its line in /proc/cgroups; -1 when the kernel has none).
 */
#include <uapi/linux/ptrace.h>
#include "common.h"
#include "containers.h"

BPF_TABLE("lru_hash", struct container_key, u8, seen_namespaces, 65536);
BPF_RINGBUF_OUTPUT(new_namespaces, 64);   /* 2 KiB events: 128 container starts between two polls */

/* The kernfs names from a cgroup up to (not including) its hierarchy's root. */
static __always_inline void cgroup_path(void *cgrp, char *out)
{
    void *kn = cgrp ? (void *)read_u64(cgrp, OFF_CGROUP_KN) : 0;
#pragma unroll
    for (int i = 0; i < CGROUP_DEPTH; i++) {
        if (!kn)
            return;
        void *parent = (void *)read_u64(kn, OFF_KN_PARENT);
        if (!parent)
            return;
        bpf_probe_read_kernel_str(out + i * CGROUP_NAME_LEN, CGROUP_NAME_LEN, (void *)read_u64(kn, OFF_KN_NAME));
        kn = parent;
    }
}

RAW_TRACEPOINT_PROBE(sched_process_exec)
{
    struct container_key key = {};
    key.mnt_ns = mount_ns_of(bpf_get_current_task_btf());
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
    /* an empty name ends a path (ring buffer memory is not zeroed; a 2 KiB memset
     * is not a BPF instruction) */
#pragma unroll
    for (int i = 0; i < CGROUP_DEPTH; i++) {
        e->v2_path[i * CGROUP_NAME_LEN] = 0;
        e->memory_path[i * CGROUP_NAME_LEN] = 0;
    }
    void *css_set = BTF_MEMBER(bpf_get_current_task_btf(), void *, OFF_TASK_CGROUPS);
    if (css_set) {
        cgroup_path((void *)read_u64(css_set, OFF_CSS_SET_DFL_CGRP), e->v2_path);
#if MEMORY_SUBSYS >= 0
        void *css = (void *)read_u64(css_set, OFF_CSS_SET_SUBSYS + 8 * MEMORY_SUBSYS);
        if (css)
            cgroup_path((void *)read_u64(css, OFF_CSS_CGROUP), e->memory_path);
#endif
    }
    new_namespaces.ringbuf_submit(e, 0);
    return 0;
}
