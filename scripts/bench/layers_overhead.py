#!/usr/bin/env python3
"""Overhead of the layer capture on a file-read-heavy container workload.

A container (pinned to CPU 1) reads a cached 1 MiB file from its image 4 KiB at
a time with busybox dd, many times over (many small cached reads: one
page-cache lookup each), alternately without and with `pyperf record --probes
layers` (pinned to CPU 0), several pairs in one invocation. Prints reads per
second, the ratio, and the in-kernel cost per read from kernel.bpf_stats_enabled.
Needs dockerd running (scripts/test.sh starts it for the tests; start it by
hand for this benchmark).

    sudo .venv/bin/python scripts/bench/layers_overhead.py [--pairs 5] [--loops 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import Meter, bpf_stats, start_pyperf, stop
from docker_env import build_image, ensure_base_image, remove, run_container

NAME = "pyperf-bench-layers"


def reads_per_second(loops: int) -> float:
    script = f"i=0; while [ $i -lt {loops} ]; do dd if=/data/file.bin of=/dev/null bs=4096 2>/dev/null; i=$((i+1)); done"
    start = time.perf_counter()
    subprocess.run(["docker", "exec", NAME, "sh", "-c", script], check=True)
    return loops * 256 / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--loops", type=int, default=100)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("layers_overhead.py: run as root")
        return 1
    ensure_base_image()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp) / "image"
        ctx.mkdir()
        (ctx / "file.bin").write_bytes(os.urandom(1 << 20))
        image = build_image("pyperf-bench-layers:1", ctx, "FROM pyperf-test-base:1\nCOPY file.bin /data/file.bin\n")
        run_container(NAME, "sleep", "3600", extra=("--cpuset-cpus", "1"), image=image)
        ratios, costs, cpus = [], [], []
        try:
            with bpf_stats.stats_enabled():
                reads_per_second(10)
                print(f"{'pair':>4} {'baseline reads/s':>17} {'with pyperf':>12} {'ratio':>6} {'ns/read':>8} {'pyperf CPU':>10}")
                for pair in range(1, args.pairs + 1):
                    base = reads_per_second(args.loops)
                    proc = start_pyperf(f"chdb://{tmp}/store", "layers")
                    try:
                        meter = Meter(proc.pid)
                        rate = reads_per_second(args.loops)
                        m = meter.stop()
                    finally:
                        stop(proc)
                    ratios.append(rate / base)
                    costs.append(m["bpf_ns"] / (args.loops * 256))
                    cpus.append(m["cpu_share"])
                    print(f"{pair:>4} {base:>17.0f} {rate:>12.0f} {rate / base:>6.3f} {costs[-1]:>8.0f} "
                          f"{m['cpu_share'] * 100:>9.2f}%")
        finally:
            remove(NAME)
    print(f"median throughput ratio {statistics.median(ratios):.3f}; in-kernel {statistics.median(costs):.0f} ns "
          f"per 4 KiB read (all programs); pyperf CPU {statistics.median(cpus) * 100:.2f}% of one CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
