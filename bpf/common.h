/* Helpers shared by pyperf's BPF programs. */
#ifndef PYPERF_COMMON_H
#define PYPERF_COMMON_H

#define HIST_SLOTS 32

/* Hash maps are made with HASH_FLAGS, which pyperf/probes/bpf_loader.py sets
 * from the kernel (pyperf/kernel/host.py hash_map_flags): on 6.1+ an entry is
 * allocated when it is inserted, so a map's memory follows its live entries, not
 * max_entries; before 6.1 preallocated. Per-CPU hash maps stay preallocated
 * (BPF_PERCPU_HASH): allocated as inserted, each new key's per-CPU value cost
 * ~20 us in the program inserting it (the switch program 278-317 -> 498-509 ns a
 * run with a new process every 5 ms; docs/performance.md, "Kernel memory of the
 * BPF maps"). */
#ifndef HASH_FLAGS
#define HASH_FLAGS 0
#endif
#define HASH_MAP(_name, _key, _leaf, _entries) BPF_F_TABLE("hash", _key, _leaf, _name, _entries, HASH_FLAGS)

/* Histogram slot of a duration: slot i holds [2^i, 2^(i+1)) us, slot 0
 * everything under 2 us (pyperf/analysis/histogram.py reads them so).
 * bcc's bpf_log2l() is floor(log2(v)) + 1 for v > 0. */
static __always_inline u32 log2_slot_us(u64 ns)
{
    u64 us = ns / 1000;
    u32 slot = us < 2 ? 0 : bpf_log2l(us) - 1;
    return slot < HIST_SLOTS ? slot : HIST_SLOTS - 1;
}

static __always_inline u64 read_u64(void *base, int off)
{
    u64 v = 0;
    bpf_probe_read_kernel(&v, sizeof(v), (char *)base + off);
    return v;
}

static __always_inline u32 read_u32(void *base, int off)
{
    u32 v = 0;
    bpf_probe_read_kernel(&v, sizeof(v), (char *)base + off);
    return v;
}

/* A member of a kernel object reached from bpf_get_current_task_btf(): the
 * verifier knows the pointer's type and checks the offset against BTF, so this
 * is one load (a faulting one reads 0), where bpf_probe_read_kernel costs ~70
 * ns on these VMs. Pointers from tracepoint arguments are untyped: read_u64(). */
#define BTF_MEMBER(ptr, type, off) (*(type *)((char *)(ptr) + (off)))

#ifdef OFF_SK_PROTOCOL
/* Whether a struct sock from a tracepoint argument is a TCP socket (sk_protocol,
 * offset from BTF). */
static __always_inline int sk_is_tcp(void *sk)
{
    u16 protocol = 0;
    bpf_probe_read_kernel(&protocol, sizeof(protocol), (char *)sk + OFF_SK_PROTOCOL);
    return protocol == 6;   /* IPPROTO_TCP */
}
#endif

#ifdef OFF_TASK_NSPROXY
/* The mount-namespace inode of a task from bpf_get_current_task_btf()
 * (task -> nsproxy -> mnt_ns -> ns.inum), with offsets from BTF: pyperf's
 * container key. */
static __always_inline u64 mount_ns_of(struct task_struct *task)
{
    void *nsproxy = BTF_MEMBER(task, void *, OFF_TASK_NSPROXY);
    if (!nsproxy)
        return 0;
    void *mnt_ns = BTF_MEMBER(nsproxy, void *, OFF_NSPROXY_MNT_NS);
    return mnt_ns ? BTF_MEMBER(mnt_ns, u32, OFF_MNT_NS_INUM) : 0;
}
#endif

#ifdef OFF_KN_ID
/* The cgroup v2 id of a task from bpf_get_current_task_btf(), what
 * bpf_get_current_cgroup_id() returns for the current task (task -> cgroups ->
 * dfl_cgrp -> kn -> id, offsets from BTF): four loads, where the helper costs
 * ~24 ns a call on these VMs, and the scheduler's program reads it at every switch. */
static __always_inline u64 cgroup_id_of(struct task_struct *task)
{
    void *cset = BTF_MEMBER(task, void *, OFF_TASK_CGROUPS);
    void *cgrp = cset ? BTF_MEMBER(cset, void *, OFF_CSS_SET_DFL_CGRP) : 0;
    void *kn = cgrp ? BTF_MEMBER(cgrp, void *, OFF_CGROUP_KN) : 0;
    return kn ? BTF_MEMBER(kn, u64, OFF_KN_ID) : 0;
}
#endif

#endif
