"""Histogram codecs compared: stored bytes and the CPU of writing and merging one
hour of sched_process (the busy mix of store_bytes.py: 300 processes a second,
two 32-slot histograms a row), with its histogram columns under each codec, in
one invocation, rounds alternating so that the VM's speed drifts alike for all.

Each round copies the hour (one INSERT ... SELECT, then OPTIMIZE FINAL, as the
agent's merges rewrite it) into a table like sched_process but for the codec of
the two histogram columns; the CPU is this process's (chDB runs in it), the
decompression of the source the same for every codec. Ratios are against the
first codec (the one before sql/0032).

    sudo .venv/bin/python scripts/bench/histogram_codec.py [--rounds 3] [--codec 'T64, ZSTD(3)' ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import numpy as np

from common import ROOT  # noqa: F401  (sys.path set up there)
from store_bytes import Generator, fixed_start
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

TABLE = "sched_process"
HISTOGRAMS = ("runq_latency_hist", "offcpu_hist")
CODECS = ("ZSTD(3)", "T64, ZSTD(3)", "ZSTD(1)", "T64, ZSTD(1)", "ZSTD(6)")


def column_bytes(store, table: str) -> tuple[int, int]:
    """(histogram columns, whole table) compressed bytes of the active parts."""
    rows = store.query("SELECT column, sum(column_data_compressed_bytes) FROM system.parts_columns "
                       "WHERE database = currentDatabase() AND table = {t:String} AND active GROUP BY column",
                       {"t": table}).rows
    sizes = dict(rows)
    return sum(sizes[c] for c in HISTOGRAMS), sum(sizes.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--codec", action="append", help="a histogram codec (repeatable); the first is the baseline")
    args = ap.parse_args()
    codecs = args.codec or list(CODECS)
    gen = Generator(np.random.default_rng(42))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="busy-host").open()
        columns = [(c, ty) for c, ty, _ in store.tables()[TABLE]]
        t0 = fixed_start()
        for start in range(0, 3600, 60):
            store.insert(TABLE, gen.batch(TABLE, columns, t0 + start, 60))
        store.command(f"OPTIMIZE TABLE {TABLE} FINAL")
        cpu: dict[str, list[float]] = {c: [] for c in codecs}
        size: dict[str, tuple[int, int]] = {}
        for r in range(args.rounds):
            for i, codec in enumerate(codecs):
                name = f"codec_{i}"
                store.command(f"DROP TABLE IF EXISTS {name} SYNC")
                store.command(f"CREATE TABLE {name} AS {TABLE}")
                for h in HISTOGRAMS:
                    store.command(f"ALTER TABLE {name} MODIFY COLUMN `{h}` Array(UInt32) CODEC({codec})")
                c0 = time.process_time()
                store.command(f"INSERT INTO {name} SELECT * FROM {TABLE}")
                store.command(f"OPTIMIZE TABLE {name} FINAL")
                cpu[codec].append(time.process_time() - c0)
                size[codec] = column_bytes(store, name)
        store.close()
    base = codecs[0]
    print(f"{TABLE}, one hour ({args.rounds} rounds, CPU the median of the rounds)\n")
    print(f"{'histogram codec':<18}{'hist MB':>9}{'table MB':>10}{'table ratio':>13}{'CPU s':>8}{'CPU ratio':>11}")
    for codec in codecs:
        hist, table = size[codec]
        c = statistics.median(cpu[codec])
        print(f"{codec:<18}{hist / 1e6:>9.2f}{table / 1e6:>10.2f}{table / size[base][1]:>13.3f}"
              f"{c:>8.2f}{c / statistics.median(cpu[base]):>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
