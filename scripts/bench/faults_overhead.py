#!/usr/bin/env python3
"""Overhead of the faults probe on a page-fault-bound workload.

Workload: a child pinned to CPU 1 maps and touches fresh anonymous pages (one
minor fault per page), alternately without and with `pyperf record --probes
faults` (pinned to CPU 0), several pairs in one invocation. Prints the fault
rate of each block, the ratio, and the in-kernel cost per fault from
kernel.bpf_stats_enabled.

    sudo .venv/bin/python scripts/bench/faults_overhead.py [--pairs 5] [--pages 200000]
"""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import tempfile
import time

from common import Meter, bpf_stats, start_pyperf, stop


def faults_per_second(pages: int) -> float:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {1})
        start = time.perf_counter()
        region = mmap.mmap(-1, pages * mmap.PAGESIZE)
        for i in range(0, pages * mmap.PAGESIZE, mmap.PAGESIZE):
            region[i] = 1
        os.write(write_fd, repr(time.perf_counter() - start).encode())
        os._exit(0)
    os.close(write_fd)
    elapsed = float(os.read(read_fd, 64))
    os.waitpid(pid, 0)
    os.close(read_fd)
    return pages / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=200000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("faults_overhead.py: run as root")
        return 1
    ratios, costs, cpus = [], [], []
    with bpf_stats.stats_enabled(), tempfile.TemporaryDirectory() as tmp:
        store = f"chdb://{tmp}/store"
        faults_per_second(20000)
        print(f"{'pair':>4} {'baseline faults/s':>18} {'with pyperf':>12} {'ratio':>6} {'ns/fault':>9} {'pyperf CPU':>10}")
        for pair in range(1, args.pairs + 1):
            base = faults_per_second(args.pages)
            proc = start_pyperf(store, "faults")
            try:
                meter = Meter(proc.pid)
                rate = faults_per_second(args.pages)
                m = meter.stop()
            finally:
                stop(proc)
            ratios.append(rate / base)
            costs.append(m["bpf_ns"] / args.pages)
            cpus.append(m["cpu_share"])
            print(f"{pair:>4} {base:>18.0f} {rate:>12.0f} {rate / base:>6.3f} {costs[-1]:>9.0f} "
                  f"{m['cpu_share'] * 100:>9.2f}%")
    print(f"median throughput ratio {statistics.median(ratios):.3f}; in-kernel "
          f"{statistics.median(costs):.0f} ns per fault (all programs); pyperf CPU "
          f"{statistics.median(cpus) * 100:.2f}% of one CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
