"""Probes: one module per BPF program in bpf/, plus the two sources that read
/proc and cgroup files with the same interface (pyperf.containers.source,
pyperf.system.sampler). The list of them is pyperf.probes.registry."""
