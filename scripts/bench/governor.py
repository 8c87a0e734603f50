"""The overhead governor at work: two busy CPUs profiled at 999 Hz cost more
than the budget; prints pyperf's own measured cost per period (process +
BPF), the steps it took, and the cost after shedding as a ratio of the cost
before, from one `pyperf record --json`.

    sudo .venv/bin/python scripts/bench/governor.py [--budget 2] [--seconds 60] [--period 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

from common import ROOT
from workloads import spinners


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=2.0, help="%% of the host's CPUs")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--period", type=int, default=5)
    ap.add_argument("--probes", default="profile")
    args = ap.parse_args()
    pids = [pid for cpu in range(min(2, os.cpu_count())) for pid in spinners(1, cpu)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-m", "pyperf", "--store", f"chdb://{tmp}/store", "record", "--probes", args.probes,
                 "--profile-hz", "999", "--cpu-budget", str(args.budget), "--governor-period", f"{args.period}s",
                 "--duration", f"{args.seconds}s", "--json"], capture_output=True, text=True, cwd=ROOT, check=True)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    governor = json.loads(out.stdout)["governor"]
    print(f"budget {args.budget} % of the host's CPUs; cost per {args.period} s period (steps in force):")
    print("  " + "  ".join(f"{cost:.2f}({level})" for cost, level in governor["history"]))
    for line in out.stderr.splitlines():
        if "overhead governor" in line:
            print("  " + line.split("pyperf.governor: ", 1)[-1])
    before = governor["history"][0][0]
    after = [cost for cost, level in governor["history"][1:] if level >= 1]
    if after:
        print(f"cost after shedding / before: {sum(after) / len(after) / before:.2f} "
              f"({sum(after) / len(after):.2f} % vs {before:.2f} %); periods over budget after the first step: "
              f"{sum(cost > args.budget for cost in after)} of {len(after)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
