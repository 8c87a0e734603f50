/* Shared between bpf/profile.bpf.c and pyperf/probes/profile.py (SampleKey). */
#ifndef PYPERF_PROFILE_H
#define PYPERF_PROFILE_H

struct sample_key {
    u32 tgid;
    u32 pad;
    s32 user_stack_id;      /* negative: no user stack (kernel thread, or it could not be walked) */
    s32 kernel_stack_id;    /* negative: the sample hit user mode */
    u64 mnt_ns;             /* mount namespace inode (container key) */
    char comm[16];
};

#endif
