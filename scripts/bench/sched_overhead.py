#!/usr/bin/env python3
"""Overhead of the sched probe against bcc's runqlat on a scheduler-bound workload.

Workload: `perf bench sched pipe` pinned to CPU 1 (two tasks bouncing a byte:
every round trip is two context switches and two wake-ups). The tools run on
CPU 0. Blocks alternate: nothing, `pyperf record --probes sched`,
`pyperf record --probes sched --offcpu-stacks`, `runqlat-bpfcc`, and
`pyperf record --probes faults` (which settles fault counters at every
switch-out) — several rounds in one invocation — and the script prints
each block's throughput, the ratios to the baseline of the same round, and
the in-kernel cost per scheduler event read from kernel.bpf_stats_enabled.

    sudo .venv/bin/python scripts/bench/sched_overhead.py [--rounds 5] [--loops 200000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile

from common import Meter, bpf_stats, start_pyperf, start_tool, stop

RUNQLAT = "/usr/sbin/runqlat-bpfcc"


def pipe_bench(loops: int) -> float:
    out = subprocess.run(["taskset", "-c", "1", "perf", "bench", "sched", "pipe", "-l", str(loops)],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([\d.]+)\s+ops/sec", out).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loops", type=int, default=200000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("sched_overhead.py: run as root", flush=True)
        return 1
    results: dict[str, list] = {"baseline": [], "pyperf": [], "offcpu": [], "runqlat": [], "faults": []}
    with bpf_stats.stats_enabled(), tempfile.TemporaryDirectory() as tmp:
        store = f"chdb://{tmp}/store"
        pipe_bench(20000)
        print(f"{'round':>5} {'tool':>8} {'ops/s':>9} {'ratio':>6} {'ns/event':>9} {'tool CPU':>9}")
        for rnd in range(1, args.rounds + 1):
            base = pipe_bench(args.loops)
            results["baseline"].append(base)
            print(f"{rnd:>5} {'none':>8} {base:>9.0f} {1:>6.3f}")
            for name, starter in (("pyperf", lambda: start_pyperf(store, "sched")),
                                  ("offcpu", lambda: start_pyperf(store, "sched", "--offcpu-stacks")),
                                  ("runqlat", lambda: start_tool([RUNQLAT, "60"])),
                                  ("faults", lambda: start_pyperf(store, "faults"))):
                proc = starter()
                try:
                    meter = Meter(proc.pid)
                    ops = pipe_bench(args.loops)
                    m = meter.stop()
                finally:
                    stop(proc)
                # each round trip: two switches and two wake-ups on CPU 1
                events = args.loops * 2
                per_event = m["bpf_ns"] / events
                results[name].append((ops / base, per_event, m["cpu_share"]))
                print(f"{rnd:>5} {name:>8} {ops:>9.0f} {ops / base:>6.3f} {per_event:>9.0f} "
                      f"{m['cpu_share'] * 100:>8.2f}%")
    print()
    for name in ("pyperf", "offcpu", "runqlat", "faults"):
        ratios = [r[0] for r in results[name]]
        costs = [r[1] for r in results[name]]
        cpus = [r[2] for r in results[name]]
        print(f"{name:>8}: median throughput ratio {statistics.median(ratios):.3f}, "
              f"in-kernel {statistics.median(costs):.0f} ns per context switch "
              f"(all its programs), user-space CPU {statistics.median(cpus) * 100:.2f}% of one CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
