/* Helpers shared by pyperf's BPF programs. */
#ifndef PYPERF_COMMON_H
#define PYPERF_COMMON_H

#define HIST_SLOTS 32

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

/* Two u64 members of one struct, in one read when they sit side by side (the
 * offsets are -D constants: the branch not taken is compiled out). */
static __always_inline void read_u64_pair(void *base, int off_a, int off_b, u64 *a, u64 *b)
{
    if (off_b == off_a + 8) {
        u64 both[2] = {};
        bpf_probe_read_kernel(both, sizeof(both), (char *)base + off_a);
        *a = both[0];
        *b = both[1];
    } else {
        *a = read_u64(base, off_a);
        *b = read_u64(base, off_b);
    }
}

static __always_inline u32 read_u32(void *base, int off)
{
    u32 v = 0;
    bpf_probe_read_kernel(&v, sizeof(v), (char *)base + off);
    return v;
}

#ifdef OFF_TASK_NSPROXY
/* The task's mount-namespace inode (task -> nsproxy -> mnt_ns -> ns.inum), with
 * offsets from BTF: pyperf's container key. */
static __always_inline u64 mount_ns_of(void *task)
{
    void *nsproxy = (void *)read_u64(task, OFF_TASK_NSPROXY);
    if (!nsproxy)
        return 0;
    void *mnt_ns = (void *)read_u64(nsproxy, OFF_NSPROXY_MNT_NS);
    return mnt_ns ? read_u32(mnt_ns, OFF_MNT_NS_INUM) : 0;
}
#endif

#endif
