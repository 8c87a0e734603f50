"""What symbolising profile stacks costs when processes come and go: a new
short-lived process every 100 ms (a shell loop busy for ~50 ms, pinned to
CPU 1) under the profile probe at 49 Hz, drained once a second in this
process (pinned to CPU 0). CPU time of the drains (time.thread_time), as % of
one CPU, in one invocation: symbols cached per binary (pyperf's way) against
per process (the per-binary cache switched off, what bcc alone does), and no
workload as the baseline.

    sudo .venv/bin/python scripts/bench/symbolize.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import threading
import time

import common  # noqa: F401  (puts the project on sys.path)

from pyperf.probes.base import ProbeOptions
from pyperf.probes.profile import ProfileProbe

BUSY = "i=0; while [ $i -lt 6000 ]; do i=$((i+1)); done"


def spawner(stop: threading.Event, started: list) -> None:
    while not stop.is_set():
        subprocess.Popen(["taskset", "-c", "1", "sh", "-c", BUSY])
        started.append(1)
        stop.wait(0.1)


def measure(seconds: float, workload: bool, per_binary: bool) -> tuple[float, int, int]:
    probe = ProfileProbe(ProbeOptions())
    probe.attach()
    if not per_binary:
        probe.symbolizer._locate = lambda pid, address: None
    stop, started = threading.Event(), []
    thread = threading.Thread(target=spawner, args=(stop, started), daemon=True)
    try:
        if workload:
            thread.start()
        time.sleep(1.0)
        probe.drain(time.time())
        spent, begin = 0.0, time.monotonic()
        while time.monotonic() - begin < seconds:
            time.sleep(1.0)
            t0 = time.thread_time()
            probe.drain(time.time())
            spent += time.thread_time() - t0
        wall = time.monotonic() - begin
    finally:
        stop.set()
        probe.detach()
    return 100 * spent / wall, len(started), probe.symbolizer.resolved if probe.symbolizer else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    os.sched_setaffinity(0, {0})
    idle, _, _ = measure(args.seconds, workload=False, per_binary=True)
    per_process, n1, r1 = measure(args.seconds, workload=True, per_binary=False)
    per_binary, n2, r2 = measure(args.seconds, workload=True, per_binary=True)
    print(f"profile probe at 49 Hz, drained every second, {args.seconds:.0f} s each, % of one CPU in the drains")
    print(f"  no workload:                                 {idle:6.2f}")
    print(f"  a new process every 100 ms, cache per process: {per_process:6.2f}  ({n1} processes, {r1} bcc lookups)")
    print(f"  a new process every 100 ms, cache per binary:  {per_binary:6.2f}  ({n2} processes, {r2} bcc lookups)")
    print(f"  per binary / per process: {per_binary / max(per_process, 1e-6):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
