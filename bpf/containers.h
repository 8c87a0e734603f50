/* Shared between bpf/containers.bpf.c and pyperf/containers/watcher.py (NewNamespace). */
#ifndef PYPERF_CONTAINERS_H
#define PYPERF_CONTAINERS_H

/* A container key: mount namespace inodes are reused once a namespace dies, so
 * under churn the cgroup v2 id (never reused) tells containers apart. */
struct container_key {
    u64 mnt_ns;
    u64 cgroup_id;     /* 0 or the root's id on hosts without a cgroup v2 hierarchy */
};

#define CGROUP_DEPTH 8       /* path components kept, leaf first */
#define CGROUP_NAME_LEN 128  /* a runtime's leaf name is under 90 bytes */

struct new_namespace {
    u64 mnt_ns;
    u64 cgroup_id;
    u32 pid;
    u32 pad;
    /* The process's cgroup paths, one name per CGROUP_NAME_LEN bytes from the leaf up (the
     * hierarchy's root left out; an empty name ends the path): the container
     * can be named from them after its process is gone. */
    char v2_path[CGROUP_DEPTH * CGROUP_NAME_LEN];
    char memory_path[CGROUP_DEPTH * CGROUP_NAME_LEN];   /* a v1 hierarchy on hybrid hosts */
};

#endif
