"""What a busy host costs the agent, probe by probe: memory_steady.py's churn
load (a short-lived process every ~5 ms, O_DIRECT reads on a loop device, a
loopback TCP connection every ~10 ms; pinned to CPU 1) with `pyperf record`
(pinned to CPU 0) running one probe at a time, then every probe together, in
one invocation; last, sched and faults in one agent (faults riding on sched's
switch program) against the two in two agents (each its own). Per run: the agent's own CPU (user + system of its threads),
its BPF programs' run time (kernel.bpf_stats_enabled on for the run; they run
in the workload's context), program runs a second and ns per run, and the
agent's own CPU split into Python's threads and the engine's, all as % of one
CPU, and the rows it stored a second. Tells which probe the busy-host goal
(issue 10: ≤ 2 % of one CPU in total, for store_bytes.py's busy mix of ~1 100
rows a second) has to be won from.

`--load mix` replaces the churn by store_bytes.py's busy host as near as this
VM makes it: 300 steady processes that each run every second, touch fresh
memory and read files now and then (memory_steady.WORKER), no new processes;
the disk and TCP loads stay.

    sudo .venv/bin/python scripts/bench/busy_host.py [--seconds 60] [--warmup 15]

`--baseline-tree DIR` (e.g. a `git worktree` of an earlier commit) runs every
measurement with that checkout's pyperf too, alternating, `--rounds` times, and
prints this tree's figures as ratios to the baseline's; `--together-only`
measures only the probes together. `--agent-args` are given to this tree's
agent only: `--baseline-tree . --agent-args="--process-interval 5s"` measures
what one option changes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import Meter, ROOT, bpf_stats, start_pyperf, stop  # noqa: F401  (sys.path set up there)
from memory_steady import PROBES, rows_stored_elsewhere, stop_load, workloads
from workloads import loop_device


def measure(tmp: str, runs: list[str], seconds: float, warmup: float, tree: Path = ROOT, extra=()) -> dict:
    """One agent per entry of `runs` (its probes), side by side; their costs summed."""
    agents, dsns = [], []
    try:
        for probes in runs:
            n = len(list(Path(tmp).glob("store*")))
            dsns.append(f"chdb://{tmp}/store{n}")
            agents.append(start_pyperf(dsns[-1], probes, "--cpu-budget", "0",
                                       "--spool-dir", f"{tmp}/spool{n}", *extra, tree=tree))
        time.sleep(warmup)
        since = time.time()
        meters = [Meter(a.pid) for a in agents]
        time.sleep(seconds)
        got = [m.stop() for m in meters]
    finally:
        for agent in agents:
            stop(agent)
    # the rows each agent stored while measured (the last flush at its stop included)
    rows = sum(rows_stored_elsewhere(dsn, since) for dsn in dsns)
    return {"wall_s": got[0]["wall_s"], "rows": rows, **{k: sum(g[k] for g in got) for k in
                                                         ("cpu_share", "python_share", "chdb_share", "bpf_runs", "bpf_ns")}}


def shares(m: dict) -> tuple[float, float, float]:
    """% of one CPU in the agent's threads, % in its BPF programs, ns a program run."""
    return (100 * m["cpu_share"], 100 * m["bpf_ns"] / 1e9 / m["wall_s"],
            m["bpf_ns"] / m["bpf_runs"] if m["bpf_runs"] else 0.0)


def split(m: dict) -> str:
    """The agent's threads: Python's and pyperf's, the engine's (% of one CPU); rows stored a second."""
    return f"{100 * m['python_share']:>9.2f}{100 * m['chdb_share']:>7.2f}{m['rows'] / m['wall_s']:>8.0f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--probes", default=PROBES, help="the probes measured one by one, then together")
    ap.add_argument("--baseline-tree", type=Path, help="a checkout to compare with, in the same invocation")
    ap.add_argument("--rounds", type=int, default=1, help="with --baseline-tree: alternating rounds")
    ap.add_argument("--together-only", action="store_true")
    ap.add_argument("--agent-args", default="", help="more `pyperf record` options for this tree's agent")
    ap.add_argument("--load", choices=("churn", "mix"), default="churn",
                    help="churn: a new process every ~5 ms; mix: store_bytes.py's busy host as near as this VM "
                         "makes it (memory_steady.workloads)")
    args = ap.parse_args()
    names = args.probes.split(",")
    runs = [(name, [name]) for name in names] if not args.together_only else []
    runs.append(("all together", [args.probes]))
    if args.baseline_tree:
        return compare(args, runs)
    if {"sched", "faults"} <= set(names) and not args.together_only:
        # the faults probe settles its counters in sched's switch program when both run
        # in one agent; in two agents each has its own: the same counting, two programs
        runs.append(("sched+faults", ["sched,faults"]))
        runs.append(("sched|faults", ["sched", "faults"]))
    print(f"{'probes':<16}{'process %':>10}{'BPF %':>8}{'total %':>9}{'BPF runs/s':>12}{'ns/run':>8}"
          f"{'python %':>9}{'chdb %':>7}{'rows/s':>8}")
    with tempfile.TemporaryDirectory() as tmp, bpf_stats.stats_enabled():
        with loop_device(Path(tmp)) as dev:
            load = workloads(dev, args.load)
            try:
                for label, agents in runs:
                    m = measure(tmp, agents, args.seconds, args.warmup, extra=args.agent_args.split())
                    process, bpf, per_run = shares(m)
                    print(f"{label:<16}{process:>10.2f}{bpf:>8.2f}{process + bpf:>9.2f}"
                          f"{m['bpf_runs'] / m['wall_s']:>12.0f}{per_run:>8.0f}{split(m)}", flush=True)
            finally:
                stop_load(load)
    return 0


def compare(args, runs) -> int:
    print(f"this tree {args.agent_args} against {args.baseline_tree}, {args.rounds} alternating round(s); "
          "% of one CPU\n")
    print(f"{'probes':<16}{'tree':<10}{'process %':>10}{'BPF %':>8}{'total %':>9}{'ns/run':>8}"
          f"{'python %':>9}{'chdb %':>7}{'rows/s':>8}")
    totals: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, bpf_stats.stats_enabled():
        with loop_device(Path(tmp)) as dev:
            load = workloads(dev, args.load)
            try:
                for _ in range(args.rounds):
                    for label, agents in runs:
                        for tree_name, tree, extra in (("baseline", args.baseline_tree, ()),
                                                       ("this", ROOT, args.agent_args.split())):
                            m = measure(tmp, agents, args.seconds, args.warmup, tree, extra)
                            process, bpf, per_run = shares(m)
                            totals.setdefault((label, tree_name), []).append((process, bpf))
                            print(f"{label:<16}{tree_name:<10}{process:>10.2f}{bpf:>8.2f}{process + bpf:>9.2f}"
                                  f"{per_run:>8.0f}{split(m)}", flush=True)
            finally:
                stop_load(load)
    print()
    for label, _ in runs:
        base = [sum(x) / len(x) for x in zip(*totals[(label, "baseline")])]
        this = [sum(x) / len(x) for x in zip(*totals[(label, "this")])]
        print(f"{label}: this / baseline — process {this[0] / base[0]:.2f}, BPF {this[1] / base[1]:.2f}, "
              f"total {sum(this) / sum(base):.2f} ({sum(base):.2f} -> {sum(this):.2f} % of one CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
