#!/usr/bin/env python3
"""Overhead of the disk probe on a fixed O_DIRECT workload.

Runs the same workload (4 KiB O_DIRECT writes then reads on a loop device
backed by tmpfs, so the device is steady and fast and the probe's cost shows;
pinned to CPU 1) alternately without and with `pyperf record --probes disk`
(pinned to CPU 0), several pairs in one invocation, and prints the throughput
ratio of each pair, the median, the extra cost per I/O, and pyperf's own CPU
time per second of wall time. With kernel.bpf_stats_enabled the kernel also
times every run of pyperf's BPF programs: that gives the in-kernel cost per
I/O exactly, where the throughput ratio is only as steady as the machine.

    sudo .venv/bin/python scripts/bench/overhead.py [--pairs 5] [--ios 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import Meter, bpf_stats, start_pyperf, stop
from workloads import direct_io, loop_device


def timed_workload(dev: str, ios: int) -> float:
    """I/Os per second of the workload, run in a child pinned to CPU 1."""
    pid = os.fork()
    if pid == 0:
        try:
            os.sched_setaffinity(0, {1})
            direct_io(dev, ios // 2, ios // 2)
        finally:
            os._exit(0)
    start = time.perf_counter()
    os.waitpid(pid, 0)
    return ios / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--ios", type=int, default=20000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("overhead.py: run as root (it loads BPF programs)", file=sys.stderr)
        return 1
    with bpf_stats.stats_enabled(), tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(dir="/dev/shm") as shm, \
            loop_device(Path(shm), size_mb=128, backing_direct_io=False) as dev:
        store = f"chdb://{tmp}/store"
        timed_workload(dev, 2000)        # warm up the loop device and page tables
        ratios, costs_ns, cpu_shares, bpf_ns_per_io, bpf_shares, rates = [], [], [], [], [], []
        print(f"{'pair':>4} {'baseline IO/s':>14} {'with pyperf':>12} {'ratio':>7} {'pyperf CPU':>11} "
              f"{'BPF ns/IO':>10} {'BPF CPU':>8}")
        for pair in range(1, args.pairs + 1):
            baseline = timed_workload(dev, args.ios)
            proc = start_pyperf(store, "disk")
            try:
                time.sleep(1.0)
                meter = Meter(proc.pid)
                with_probe = timed_workload(dev, args.ios)
                time.sleep(0.2)
                m = meter.stop()
            finally:
                stop(proc)
            wall, cpu_share = m["wall_s"], m["cpu_share"]
            ratio = with_probe / baseline
            rates.append(with_probe)
            ratios.append(ratio)
            costs_ns.append((1 / with_probe - 1 / baseline) * 1e9)
            cpu_shares.append(cpu_share)
            bpf_ns_per_io.append(m["bpf_ns"] / args.ios)
            bpf_shares.append(m["bpf_ns"] / 1e9 / wall)
            print(f"{pair:>4} {baseline:>14.0f} {with_probe:>12.0f} {ratio:>7.3f} {cpu_share * 100:>10.2f}% "
                  f"{bpf_ns_per_io[-1]:>10.0f} {bpf_shares[-1] * 100:>7.2f}%")
        print(f"median throughput ratio (with / without): {statistics.median(ratios):.3f}")
        print(f"median extra time per I/O: {statistics.median(costs_ns):.0f} ns")
        print(f"in-kernel BPF time per I/O (all programs): {statistics.median(bpf_ns_per_io):.0f} ns; "
              f"BPF CPU {statistics.median(bpf_shares) * 100:.3f}% of one CPU at "
              f"{statistics.median(rates):.0f} I/O per second")
        print(f"pyperf process CPU: {statistics.median(cpu_shares) * 100:.2f}% of one CPU "
              f"({statistics.median(cpu_shares) * 100 / os.cpu_count():.2f}% of the host)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
