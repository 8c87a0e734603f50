"""CPU per drain of every default probe on this host, in-process: each probe is
attached on its own, drained `--drains` times `--spacing` seconds apart, and
the calling thread's CPU time (time.thread_time: Python, map reads and /proc
reads, not the kernel's BPF run time) is summed per probe. Prints ms per drain
and what that costs at a 1 s interval, as % of one CPU.

A host runs more processes than this VM: `--processes N` starts N processes
after each probe attaches, each waking once a second (`sleep` in a shell loop
would fork: these are `python3 -c` loops), so the per-process maps hold N
entries of which most do not move between drains, as on a real idle host.

    sudo .venv/bin/python scripts/bench/drain_cost.py --drains 60 --spacing 0.25
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import common  # noqa: F401  (puts the project on sys.path)

from pyperf.probes.base import ProbeOptions
from pyperf.probes.registry import REGISTRY


WAKER = "import time\nwhile True: time.sleep(1)"


def measure(name: str, drains: int, spacing: float, processes: int) -> float:
    probe = REGISTRY[name](ProbeOptions())
    probe.attach()
    wakers = [subprocess.Popen([sys.executable, "-S", "-c", WAKER]) for _ in range(processes)]
    try:
        time.sleep(max(spacing, 2.0 if processes else 0))
        probe.drain(time.time())          # first drain after attach: caches fill
        spent = 0.0
        for _ in range(drains):
            time.sleep(spacing)
            started = time.thread_time()
            probe.drain(time.time())
            spent += time.thread_time() - started
        return spent / drains
    finally:
        for w in wakers:
            w.kill()
            w.wait()
        probe.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drains", type=int, default=60)
    parser.add_argument("--spacing", type=float, default=0.25)
    parser.add_argument("--probes", default=",".join(sorted(REGISTRY)))
    parser.add_argument("--processes", type=int, default=0, help="waking processes started per probe")
    args = parser.parse_args()
    total = 0.0
    print(f"{'probe':<12} {'ms per drain':>12} {'% of one CPU at 1 s':>20}")
    for name in args.probes.split(","):
        per_drain = measure(name, args.drains, args.spacing, args.processes)
        total += per_drain
        print(f"{name:<12} {per_drain * 1000:>12.3f} {per_drain * 100:>20.3f}")
    print(f"{'all':<12} {total * 1000:>12.3f} {total * 100:>20.3f}")


if __name__ == "__main__":
    main()
