"""What symbolising profile stacks costs when processes come and go: a new
short-lived process every 100 ms (python3 busy for 2 s, pinned to
CPU 1) under the profile probe at 49 Hz, drained once a second in this
process (pinned to CPU 0). CPU time of the drains (time.thread_time), as % of
one CPU, in one invocation, against no workload as the baseline.

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

# python3: a big symbol table (bcc loads ~40 000 symbols of it per new process). Each lives
# 2 s, so it is still there when the next drain symbolises its stacks (a process that is
# gone by then cannot be symbolised at all: its frames are [unknown] either way).
BUSY = ["python3", "-c", "import time\nend = time.time() + 2\nwhile time.time() < end: pass"]


def spawner(stop: threading.Event, started: list) -> None:
    while not stop.is_set():
        subprocess.Popen(["taskset", "-c", "1", *BUSY])
        started.append(1)
        stop.wait(0.1)


def measure(seconds: float, workload: bool) -> tuple[float, int]:
    probe = ProfileProbe(ProbeOptions())
    probe.attach()
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
    return 100 * spent / wall, len(started)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    os.sched_setaffinity(0, {0})
    idle, _ = measure(args.seconds, workload=False)
    churn, n = measure(args.seconds, workload=True)
    print(f"profile probe at 49 Hz, drained every second, {args.seconds:.0f} s each, % of one CPU in the drains")
    print(f"  no workload:                {idle:6.2f}")
    print(f"  a new process every 100 ms: {churn:6.2f}  ({n} processes; ratio {churn / max(idle, 1e-6):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
