"""What one BPF helper call or map operation costs on this machine, in ns: for
each, a raw-tracepoint program on sys_enter that makes the call REPS times
(unrolled) for this process's syscalls only, against the same program making
none, in one invocation; run time from the kernel's own statistics
(kernel.bpf_stats_enabled). The per-event cost of a probe is its helper calls
summed (design.md: helpers are slow on these VMs): this tells which ones are
worth replacing, e.g. bpf_get_current_cgroup_id() by four loads through BTF
offsets (bpf/common.h cgroup_id_of(), the row "cgroup_id_of (BTF)").

    sudo .venv/bin/python scripts/bench/bpf_helpers.py [--syscalls 200000]
"""

from __future__ import annotations

import argparse
import os
import sys

from common import ROOT  # noqa: F401  (sys.path set up there)
from pyperf.kernel import bpf_stats
from pyperf.kernel.btf import offset_cflags
from pyperf.probes.bpf_loader import full_cflags
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS

REPS = 16
CALLS = {
    "none (the baseline)": "",
    "bpf_get_current_pid_tgid": "v += bpf_get_current_pid_tgid();",
    "bpf_get_current_task": "v += bpf_get_current_task();",
    "bpf_get_current_cgroup_id": "v += bpf_get_current_cgroup_id();",
    "cgroup_id_of (BTF)": "v += cgroup_id_of(bpf_get_current_task_btf());",
    "mount_ns_of (BTF)": "v += mount_ns_of(bpf_get_current_task_btf());",
    "bpf_ktime_get_ns": "v += bpf_ktime_get_ns();",
    "bpf_get_current_comm": "char c[16]; bpf_get_current_comm(&c, 16); v += c[0];",
    "bpf_probe_read_kernel (8 B)": "u64 x = 0; bpf_probe_read_kernel(&x, 8, (void *)ctx->args[0]); v += x;",
    "hash lookup": "u32 k = 7; u64 *p = hash.lookup(&k); if (p) v += *p;",
    "per-CPU hash lookup": "u32 k = 7; u64 *p = percpu_hash.lookup(&k); if (p) v += *p;",
    "per-CPU array lookup": "int k = 0; u64 *p = percpu_array.lookup(&k); if (p) v += *p;",
    "task storage get": "u64 *p = storage.task_storage_get(bpf_get_current_task_btf(), 0, "
                        "BPF_LOCAL_STORAGE_GET_F_CREATE); if (p) v += *p;",
    "hash update + delete": "u64 k = v + 1, x = 1; big_hash.update(&k, &x); big_hash.delete(&k);",
    "LRU hash update + delete": "u64 k = v + 1, x = 1; lru.update(&k, &x); lru.delete(&k);",
}

PROGRAM = """
#include "common.h"
BPF_HASH(hash, u32, u64, 1024);
BPF_PERCPU_HASH(percpu_hash, u32, u64, 1024);
BPF_PERCPU_ARRAY(percpu_array, u64, 1);
BPF_HASH(big_hash, u64, u64, 16384);
BPF_TABLE("lru_hash", u64, u64, lru, 16384);
BPF_TASK_STORAGE(storage, u64);
BPF_ARRAY(sink, u64, 1);
RAW_TRACEPOINT_PROBE(sys_enter)
{
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    u64 v = 0;
#pragma unroll
    for (int i = 0; i < REPS; i++) { CALL }
    int zero = 0;
    u64 *out = sink.lookup(&zero);
    if (out)
        *out += v;   /* used, so nothing is optimised away */
    return 0;
}
"""


def ns_per_run(call: str, syscalls: int) -> float:
    from bcc import BPF

    text = PROGRAM.replace("CALL", call)
    cflags = full_cflags(offset_cflags(TASK_KEY_OFFSETS) + [f"-DTGID={os.getpid()}", f"-DREPS={REPS}"])
    bpf = BPF(text=text.encode(), cflags=cflags)
    try:
        fds = [fn.fd for fn in bpf.funcs.values()]
        with bpf_stats.stats_enabled():
            runs0, ns0 = bpf_stats.total(bpf_stats.of_fds(fds))
            for _ in range(syscalls):
                os.getppid()
            runs1, ns1 = bpf_stats.total(bpf_stats.of_fds(fds))
    finally:
        bpf.cleanup()
    return (ns1 - ns0) / max(runs1 - runs0, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--syscalls", type=int, default=200_000)
    args = ap.parse_args()
    base = None
    print(f"{'call':<30}{'ns a run':>10}{'ns a call':>11}   ({REPS} calls a run, less the baseline's run)")
    for name, call in CALLS.items():
        per_run = ns_per_run(call, args.syscalls)
        base = per_run if base is None else base
        print(f"{name:<30}{per_run:>10.0f}{(per_run - base) / REPS:>11.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
