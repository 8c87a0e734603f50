"""Latency of the common dashboard queries over 24 hours of data for 50
containers, in the embedded store: p50 and p99 of 20 runs each. Over 24 h the
query helper reads the 1-minute rollups; the same queries forced onto the raw
rows are the baseline, and the ratios show what the rollups buy.

Data (generated inside ClickHouse with INSERT ... SELECT FROM numbers(), so the
materialized views fill the rollups as they would live): per second 50
container_resources rows, 200 sched_process rows (4 processes per container),
8 disk_io rows, 3 system_cpu rows; 1 slow I/O a second; 50 containers.

    sudo .venv/bin/python scripts/bench/query_latency.py [--hours 24] [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time

import numpy as np

from common import ROOT  # noqa: F401  (sys.path set up there)
from pyperf.store import rollups
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

HOST = "bench-host"
CONTAINERS = 50


def generate(store, hours: float) -> None:
    seconds = int(hours * 3600)
    start = int(time.time()) - seconds
    base = f"toDateTime64({start}, 3, 'UTC') + toIntervalSecond(intDiv(number, {{per}}))"
    statements = [
        ("container_resources", 50,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, concat('c', toString(number % 50)) AS container_id, "
         "concat('svc-', toString(number % 50)) AS name, 'docker' AS runtime, 4026532000 + number % 50 AS mnt_ns, "
         "toFloat32(rand() % 100 / 10) AS cpu_pct_of_host, toFloat32(rand() % 1000 / 10) AS cpu_pct_of_limit, "
         "toFloat32(2) AS cpu_limit_cores, rand() % 3 AS throttled_periods, 10 AS periods, rand() % 5000 AS throttled_us, "
         "300000000 + rand() % 1000000 AS memory_bytes, 1073741824 AS memory_limit_bytes, "
         "toFloat32(28 + rand() % 10 / 10) AS memory_pct_of_limit, 200000000 AS rss_bytes, 100000000 AS cache_bytes, "
         "0 AS major_faults, 0 AS oom_kills, rand() % 100000 AS io_read_bytes, rand() % 100000 AS io_write_bytes, "
         "rand() % 30 AS io_reads, rand() % 30 AS io_writes, rand() % 1000000 AS net_rx_bytes, "
         "rand() % 1000000 AS net_tx_bytes, 10 AS pids"),
        ("sched_process", 200,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, 1000 + number % 200 AS pid, "
         "concat('worker-', toString(number % 200)) AS comm, 4026532000 + intDiv(number % 200, 4) AS mnt_ns, "
         "0 AS cgroup_id, rand() % 200 AS voluntary_switches, rand() % 20 AS involuntary_switches, "
         "rand() % 100000 AS oncpu_us, rand() % 5000 AS runq_latency_sum_us, rand() % 200 AS runq_waits, "
         "arrayMap(i -> toUInt32(if(i BETWEEN 3 + number % 5 AND 6 + number % 5, rand(i) % 40, 0)), range(32)) "
         "AS runq_latency_hist, 0 AS offcpu_sum_us, 0 AS offcpu_count, [] AS offcpu_hist"),
        ("disk_io", 8,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, concat('vd', char(97 + number % 4)) AS device, "
         "if(number % 2 = 0, 'read', 'write') AS op, rand() % 1000 AS ios, (rand() % 1000) * 4096 AS bytes, "
         "rand() % 500000 AS latency_sum_us, "
         "arrayMap(i -> toUInt32(if(i BETWEEN 5 AND 9, rand(i) % 200, 0)), range(32)) AS latency_hist"),
        ("system_cpu", 3,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, toInt16(number % 3) - 1 AS cpu, "
         "toFloat32(rand() % 60) AS user_pct, 0 AS nice_pct, toFloat32(rand() % 20) AS system_pct, "
         "toFloat32(20) AS idle_pct, 0 AS iowait_pct, 0 AS irq_pct, 0 AS softirq_pct, 0 AS steal_pct, "
         "toFloat32(rand() % 80) AS busy_pct"),
        ("disk_slow_io", 1,
         "SELECT toDateTime64({start} + number, 6, 'UTC') AS ts, '" + HOST + "' AS host, 'vda' AS device, "
         "'read' AS op, 4096 AS bytes, 10000 + rand() % 50000 AS latency_us, 1000 + number % 200 AS pid, "
         "'worker' AS comm, 4026532000 + number % 50 AS mnt_ns, 0 AS cgroup_id"),
    ]
    for table, per, select in statements:
        sql = select.replace("{ts}", base.replace("{per}", str(per))).replace("{start}", str(start))
        started = time.perf_counter()
        store.command(f"INSERT INTO {table} {sql} FROM numbers({seconds * per})")
        print(f"  {table}: {seconds * per} rows in {time.perf_counter() - started:.1f} s", flush=True)
    store.insert("containers", {
        "ts": [time.time() - seconds] * CONTAINERS, "mnt_ns": [4026532000 + i for i in range(CONTAINERS)],
        "cgroup_id": [0] * CONTAINERS, "id": [f"c{i}" for i in range(CONTAINERS)],
        "name": [f"svc-{i}" for i in range(CONTAINERS)], "image": ["app:1"] * CONTAINERS,
        "runtime": ["docker"] * CONTAINERS, "pod_uid": [""] * CONTAINERS, "cgroup_path": [""] * CONTAINERS,
        "started": [""] * CONTAINERS, "stopped": [None] * CONTAINERS, "layers": [[]] * CONTAINERS,
        "net_ns": [0] * CONTAINERS, "pod_name": [""] * CONTAINERS, "namespace": [""] * CONTAINERS})


RUNQ_BY_CONTAINER = """
SELECT c.name, sum(s.runq_waits) AS waits, {hist} AS hist
FROM {table} AS s JOIN container_by_ns AS c ON c.host = s.host AND c.mnt_ns = s.mnt_ns
WHERE s.host = {{host:String}} AND s.ts >= now() - toIntervalSecond({{seconds:UInt32}})
GROUP BY c.name ORDER BY waits DESC LIMIT 10
"""
TOP_CPU = """
SELECT name, avg(cpu_pct_of_host) AS cpu FROM container_resources
WHERE host = {host:String} AND ts >= now() - toIntervalSecond({seconds:UInt32})
GROUP BY name ORDER BY cpu DESC LIMIT 10
"""
SLOW = "SELECT * FROM disk_slow_io WHERE host = {host:String} ORDER BY ts DESC LIMIT 50"


def timed(fn, runs: int) -> tuple[float, float]:
    fn()   # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name=HOST).open()
        print(f"generating {args.hours:g} h for {CONTAINERS} containers:")
        generate(store, args.hours)
        now = dt.datetime.now(dt.timezone.utc)
        day = int(args.hours * 3600)
        p = {"host": HOST}
        cases = [
            ("disk series, last 5 min (raw)", lambda: rollups.series(store, "disk_io", now - dt.timedelta(minutes=5),
                                                                       now, by=("device",)), None),
            ("disk series, 24 h (helper)", lambda: rollups.series(store, "disk_io", now - dt.timedelta(seconds=day),
                                                                    now, by=("device",)),
             lambda: rollups.series(store, "disk_io", now - dt.timedelta(seconds=day), now, by=("device",),
                                    source="raw")),
            ("container CPU series, 24 h (helper)",
             lambda: rollups.series(store, "container_resources", now - dt.timedelta(seconds=day), now,
                                    where={"name": "svc-7"}),
             lambda: rollups.series(store, "container_resources", now - dt.timedelta(seconds=day), now,
                                    where={"name": "svc-7"}, source="raw")),
            ("top 10 containers by CPU, last 1 h", lambda: store.query(TOP_CPU, {**p, "seconds": 3600}), None),
            ("run-queue latency by container, 1 h",
             lambda: store.query(RUNQ_BY_CONTAINER.format(table="sched_process", hist="sumForEach(s.runq_latency_hist)"),
                                 {**p, "seconds": 3600}), None),
            ("run-queue latency by container, 24 h (1m rollup)",
             lambda: store.query(RUNQ_BY_CONTAINER.format(table="sched_process_1m",
                                                          hist="sumForEachMerge(s.runq_latency_hist)"),
                                 {**p, "seconds": day}),
             lambda: store.query(RUNQ_BY_CONTAINER.format(table="sched_process", hist="sumForEach(s.runq_latency_hist)"),
                                 {**p, "seconds": day})),
            ("last 50 slow I/Os", lambda: store.query(SLOW, p), None),
        ]
        print(f"\n{'query':<50}{'p50 ms':>9}{'p99 ms':>9}{'raw p50':>9}{'ratio':>7}")
        for name, fn, baseline in cases:
            p50, p99 = timed(fn, args.runs)
            line = f"{name:<50}{p50:>9.1f}{p99:>9.1f}"
            if baseline is not None:
                b50, _ = timed(baseline, max(3, args.runs // 4))
                line += f"{b50:>9.1f}{p50 / b50:>7.2f}"
            print(line, flush=True)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
