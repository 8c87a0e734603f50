"""What evaluating the alerts costs the agent on an idle host: `pyperf up`
(every default probe, nothing shed) with alerts evaluated every 10 s (the
default) against the same agent evaluating them once a day (in effect never),
one after the other in one invocation; % of one CPU, BPF run time included.

    sudo .venv/bin/python scripts/bench/alerts_cost.py [--seconds 120] [--warmup 30] [--every 10s]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from agent_idle import measure, show


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--warmup", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=18322)
    ap.add_argument("--every", default="10s", help="the evaluation period measured (default 10s)")
    args = ap.parse_args()
    previous = Path("/proc/sys/kernel/bpf_stats_enabled").read_text().strip()
    Path("/proc/sys/kernel/bpf_stats_enabled").write_text("1")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            never, _, _ = measure(f"chdb://{tmp}/a", args.port, args.seconds, args.warmup, False,
                                  extra=("--alert-every", "86400s"))
            every, _, _ = measure(f"chdb://{tmp}/b", args.port, args.seconds, args.warmup, False,
                                  extra=("--alert-every", args.every))
    finally:
        Path("/proc/sys/kernel/bpf_stats_enabled").write_text(previous)
    print(f"pyperf up, every default probe, idle host, {args.seconds:.0f} s after {args.warmup:.0f} s warm-up")
    a = show("  alerts evaluated once a day (baseline)", never)
    b = show(f"  alerts evaluated every {args.every}", every)
    print(f"  evaluating the alerts adds {b - a:.2f} % of one CPU (ratio {b / max(a, 0.01):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
