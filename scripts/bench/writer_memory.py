"""Memory a minute of buffered rows leaves behind: a BatchWriter on a fresh
embedded store gets `--drains` drains of sched_process rows (`--rows` a drain,
two 27-slot histograms each, as a busy host's) with one burst drain of
`--burst` rows (a host starting thousands of processes at once), while
long-lived small objects are made between drains (as the agent's caches are);
then one flush and the memory given back, as the agent does. Each drain's
columns either as numpy arrays (the per-process probes now) or as Python lists
(their `.tolist()` before), each case in a fresh interpreter, alternating,
`--rounds` times. Prints the anonymous memory's rise at the buffer's peak and
what stays after the flush, over the level before the first drain, and the CPU
of making the columns Python values (in the drains before, at the flush now)
and of the flush; the flush's own peak is sampled every 2 ms (the thread doing
it takes its share of the CPU figure).

    sudo .venv/bin/python scripts/bench/writer_memory.py [--drains 60] [--rows 700] [--burst 40000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT, anon_mib  # noqa: F401  (sys.path set up there)


def one_case(numpy_columns: bool, drains: int, rows: int, burst: int) -> dict:
    import numpy as np

    from pyperf.analysis.histogram import HIST_SLOTS
    from pyperf.pipeline.writer import BatchWriter
    from pyperf.store.dsn import parse_dsn
    from pyperf.store.store import Store

    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
        writer = BatchWriter(store)
        store.release_memory()
        base = anon_mib()
        cache: dict = {}
        drains_cpu = 0.0          # what the drains spend making and handing over their columns
        start = time.time() - drains
        for d in range(drains):
            n = burst if d == drains // 6 else rows
            columns = {
                "ts": np.full(n, start + d), "interval_ms": np.full(n, 1000),
                "pid": rng.integers(1, 4_000_000, n).astype(np.uint32),
                "comm": np.array([f"worker-{i % 400}" for i in range(n)], "U16"),
                "voluntary_switches": rng.integers(0, 10_000, n).astype(np.uint64),
                "oncpu_us": rng.integers(0, 1_000_000, n).astype(np.uint64),
                "runq_latency_hist": rng.integers(0, 2_000, (n, HIST_SLOTS)).astype(np.uint64),
                "offcpu_hist": rng.integers(0, 2_000, (n, HIST_SLOTS)).astype(np.uint64)}
            started = time.process_time()
            if not numpy_columns:
                columns = {k: v.tolist() for k, v in columns.items()}
            writer.submit({"sched_process": columns})
            del columns
            drains_cpu += time.process_time() - started
            for i in range(300):          # long-lived objects made meanwhile: symbol names, caches
                cache[(d, i)] = f"symbol-{d}-{i}"
        peak = anon_mib()
        highest = [peak]
        done = threading.Event()

        def sample() -> None:          # the flush's own peak: its columns and the inserts
            while not done.wait(0.002):
                highest[0] = max(highest[0], anon_mib())
        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.process_time()
        writer.flush()
        flush_cpu = time.process_time() - started
        done.set()
        sampler.join()
        store.release_memory()
        after = anon_mib()
        stored = store.query("SELECT count() FROM sched_process").rows[0][0]
        store.close()
    return {"peak": peak - base, "flush_peak": highest[0] - base, "after": after - base, "drains_cpu": drains_cpu,
            "flush_cpu": flush_cpu, "rows": stored}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--drains", type=int, default=60)
    ap.add_argument("--rows", type=int, default=700)
    ap.add_argument("--burst", type=int, default=40_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--case", choices=("numpy", "lists"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case == "numpy", args.drains, args.rows, args.burst)))
        return 0
    print(f"{args.drains} drains of {args.rows} sched_process rows, one of {args.burst}, then one flush:")
    results: dict[str, list[dict]] = {"lists": [], "numpy": []}
    for r in range(args.rounds):
        for case in (("lists", "numpy") if r % 2 == 0 else ("numpy", "lists")):
            out = subprocess.run([sys.executable, __file__, "--case", case, "--drains", str(args.drains),
                                  "--rows", str(args.rows), "--burst", str(args.burst)],
                                 capture_output=True, text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results[case].append(result)
            print(f"  round {r + 1}, {case:5}: buffered +{result['peak']:.0f} MiB, during the flush "
                  f"+{result['flush_peak']:.0f} MiB, after it "
                  f"+{result['after']:.0f} MiB; CPU: columns handed over {result['drains_cpu']:.2f} s, "
                  f"flush {result['flush_cpu']:.2f} s; {result['rows']} rows")
    worst = {case: max(x["after"] for x in runs) for case, runs in results.items()}
    peak = {case: max(x["peak"] for x in runs) for case, runs in results.items()}
    print(f"left after the flush (highest): lists +{worst['lists']:.0f} MiB, numpy +{worst['numpy']:.0f} MiB; "
          f"buffered peak: lists +{peak['lists']:.0f}, numpy +{peak['numpy']:.0f} MiB; "
          f"ratio after {worst['numpy'] / max(worst['lists'], 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
