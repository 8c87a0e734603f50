/* Shared between bpf/containers.bpf.c and pyperf/containers/watcher.py (NewNamespace). */
#ifndef PYPERF_CONTAINERS_H
#define PYPERF_CONTAINERS_H

/* A container key: mount namespace inodes are reused once a namespace dies, so
 * under churn the cgroup v2 id (never reused) tells containers apart. */
struct container_key {
    u64 mnt_ns;
    u64 cgroup_id;     /* 0 or the root's id on hosts without a cgroup v2 hierarchy */
};

struct new_namespace {
    u64 mnt_ns;
    u64 cgroup_id;
    u32 pid;
    u32 pad;
};

#endif
