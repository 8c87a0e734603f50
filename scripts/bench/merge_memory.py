"""Peak memory of the embedded store's background merges: a fresh store gets
`--flushes` one-minute flushes of the busy-host mix (store_bytes.py's rows, one
insert per table per flush, as the writer makes them), `--pause-s` apart, and
the process's anonymous memory is read every 10 ms. Every configuration runs in
a process of its own (the engine reads its server settings once) in one
invocation, the project's sql/embedded_engine.xml first as the baseline, then
each variant (that file with extra settings). Prints the highest rise over
the memory after the first flush, the median of the per-flush highs, the
merges the engine made (system.part_log is off, so: parts before and after)
and the CPU the process used.

    sudo .venv/bin/python scripts/bench/merge_memory.py [--flushes 20] [--pause-s 3] [--repeat 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, anon_mib

# server settings (top level) and <merge_tree> settings set or replaced,
# whether the rollup tables get back schema 28's time projection, and the
# tables' granule bytes (None: the schema's), by name
VARIANTS = {
    "project (baseline)": ({}, {}, False, None),
    "engine's merge pool (16)": ({"background_pool_size": 16, "background_merges_mutations_concurrency_ratio": 2},
                                 {}, False, None),
    "schema 28's projection": ({}, {}, True, None),
    "engine's granules (10 MiB)": ({}, {}, False, 10 * 1024 * 1024),
}


def config_with(base: Path, top: dict, merge_tree: dict, out: Path) -> Path:
    text = base.read_text()
    for k in (*top, *merge_tree):
        text = re.sub(rf"\s*<{k}>[^<]*</{k}>", "", text)
    extra = "".join(f"    <{k}>{v}</{k}>\n" for k, v in top.items())
    tree = "".join(f"        <{k}>{v}</{k}>\n" for k, v in merge_tree.items())
    text = text.replace("    <merge_tree>\n", extra + "    <merge_tree>\n" + tree, 1)
    out.write_text(text)
    return out


def child(config: str, flushes: int, pause_s: float, projection: bool, granule_bytes: int | None) -> dict:
    import numpy as np

    from store_bytes import RATES, Generator
    from pyperf.store import rollups, store as store_module
    from pyperf.store.dsn import parse_dsn

    store_module.EMBEDDED_OPTIONS = {"config-file": config}
    gen = Generator(np.random.default_rng(3))
    with tempfile.TemporaryDirectory() as tmp:
        store = store_module.Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
        schema = store.tables()
        merge_trees = [r[0] for r in store.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                                 "AND engine LIKE '%MergeTree'").rows]
        for table in merge_trees if granule_bytes else ():
            store.command(f"CREATE TABLE {table}__bench AS {table} SETTINGS index_granularity_bytes = {granule_bytes}")
            store.command(f"EXCHANGE TABLES {table} AND {table}__bench")
            store.command(f"DROP TABLE {table}__bench")
        if projection:
            for table in rollups.stored():
                for level in ("1m", "1h"):
                    store.command(f"ALTER TABLE {table}_{level} MODIFY SETTING deduplicate_merge_projection_mode = "
                                  f"'rebuild'")
                    store.command(f"ALTER TABLE {table}_{level} ADD PROJECTION by_time (SELECT * ORDER BY host, ts)")
        t0 = (time.time() // 3600 - 1) * 3600 - flushes * 60
        work = [[(t, gen.batch(t, [(c, ty) for c, ty, _ in schema[t]], t0 + i * 60, 60)) for t in RATES]
                for i in range(flushes)]
        high, stop = [0.0], threading.Event()

        def sample():
            while not stop.wait(0.01):
                high[0] = max(high[0], anon_mib())
        sampler = threading.Thread(target=sample, daemon=True)
        highs, base = [], None
        cpu0 = time.process_time()
        for i, flush in enumerate(work):
            for table, columns in flush:
                store.insert(table, columns, token=f"bench-{i}-{table}")
            if i % 5 == 4:      # the agent rolls up every five minutes
                rollups.roll_up(store, dt.datetime.fromtimestamp(t0 + (i + 1) * 60, dt.timezone.utc))
            if base is None:
                store.release_memory()
                base = high[0] = anon_mib()
                sampler.start()
            time.sleep(pause_s)
            highs.append(high[0] - base)
            high[0] = anon_mib()
        stop.set()
        parts = store.query("SELECT count() FROM system.parts WHERE database = currentDatabase() AND active").rows[0][0]
        cpu = time.process_time() - cpu0
        store.close()
    inserted = flushes * len(RATES)
    return {"peak": max(highs), "median": float(np.median(highs)), "parts": int(parts), "inserted": inserted,
            "cpu_s": cpu, "rows": flushes * 60 * sum(RATES.values())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flushes", type=int, default=20)
    ap.add_argument("--pause-s", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--projection", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--granule-bytes", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.flushes, args.pause_s, args.projection, args.granule_bytes)))
        return 0
    base = ROOT / "sql" / "embedded_engine.xml"
    print(f"{args.flushes} one-minute flushes of the busy-host mix, {args.pause_s:g} s apart; "
          f"anonymous memory above the level after the first flush, MiB\n")
    print(f"{'configuration':<26}{'highest':>9}{'median':>9}{'parts left':>12}{'CPU s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            for name, (top, tree, projection, granule_bytes) in VARIANTS.items():
                config = config_with(base, top, tree, Path(tmp) / f"{len(top)}-{len(tree)}-{round_}.xml")
                out = subprocess.run([sys.executable, __file__, "--child", str(config), "--flushes",
                                      str(args.flushes), "--pause-s", str(args.pause_s)]
                                     + (["--projection"] if projection else [])
                                     + (["--granule-bytes", str(granule_bytes)] if granule_bytes else []),
                                     capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{name:<26}{r['peak']:>9.0f}{r['median']:>9.0f}{r['parts']:>7} of {r['inserted']:<4}"
                      f"{r['cpu_s']:>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
