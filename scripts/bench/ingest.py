"""Sustained ingest through the real store path (Store.insert, one insert per
table per 15 s batch as the writer does, with deduplication tokens) into the
embedded chDB store and into the chDB-backed ClickHouse-HTTP test server, in
one invocation: rows per second and CPU seconds per 100k rows (this process,
plus the server process for HTTP), and the HTTP/embedded ratios.

The rows are the busy-host mix of store_bytes.py (sched_process, faults_process,
profile_stack, container_resources, system_cpu, disk_io).

    sudo .venv/bin/python scripts/bench/ingest.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from common import ROOT  # noqa: F401  (sys.path set up there)
from conftest import ClickHouseTestServer, unused_port
from store_bytes import Generator
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

TABLES = ("sched_process", "faults_process", "profile_stack", "container_resources", "system_cpu", "disk_io")
BATCH_S = 60       # the writer flushes once a minute


def batches(store) -> list[tuple[str, dict]]:
    """Ten one-minute batches per table, generated once, reused."""
    gen = Generator(np.random.default_rng(7))
    schema = store.tables()
    t0 = time.time() - 3600
    return [(table, gen.batch(table, [(c, ty) for c, ty, _ in schema[table]], t0 + i * BATCH_S, BATCH_S))
            for i in range(10) for table in TABLES]


def run(store, work, seconds: float, extra_process: psutil.Process | None) -> dict:
    me = psutil.Process()
    cpu0 = sum(me.cpu_times()[:2]) + (sum(extra_process.cpu_times()[:2]) if extra_process else 0)
    start = time.perf_counter()
    rows = inserts = 0
    while time.perf_counter() - start < seconds:
        for table, columns in work:
            rows += store.insert(table, columns, token=f"bench-{inserts}")
            inserts += 1
    wall = time.perf_counter() - start
    cpu = sum(me.cpu_times()[:2]) + (sum(extra_process.cpu_times()[:2]) if extra_process else 0) - cpu0
    return {"rows_per_s": rows / wall, "cpu_per_100k": cpu / rows * 1e5, "inserts": inserts, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        embedded = Store(parse_dsn(f"chdb://{tmp}/embedded"), host_name="bench").open()
        work = batches(embedded)
        per_round = sum(len(next(iter(c.values()))) for _, c in work)
        print(f"{len(work)} batches, {per_round} rows per round (≈{per_round / (10 * BATCH_S):.0f} rows/s of a busy host)")
        chdb = run(embedded, work, args.seconds, None)
        embedded.close()
        server = ClickHouseTestServer(Path(tmp) / "server", unused_port()).start()
        try:
            remote = Store(parse_dsn(server.dsn), host_name="bench").open()
            http = run(remote, work, args.seconds, psutil.Process(server.proc.pid))
            remote.close()
        finally:
            server.stop()
    for name, r in (("embedded chDB", chdb), ("HTTP test server", http)):
        print(f"{name:<17} {r['rows_per_s']:>10.0f} rows/s  {r['cpu_per_100k']:6.3f} CPU s per 100k rows "
              f"({r['inserts']} inserts, {r['rows']} rows)")
    print(f"HTTP / embedded: throughput {http['rows_per_s'] / chdb['rows_per_s']:.2f}, "
          f"CPU per row {http['cpu_per_100k'] / chdb['cpu_per_100k']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
