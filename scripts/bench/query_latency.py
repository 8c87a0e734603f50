"""Latency of the common dashboard queries over 24 hours of data for 50
containers, in the embedded store: p50 and p99 of 20 runs each. Over 24 h the
query helper reads the 1-minute rollups; the same queries forced onto the raw
rows are the baseline, and the ratios show what the rollups buy.

Every page's data partial twice: with the store answering everything (a host
picked that is not this agent's), and as `pyperf up` serves its own host, the
minutes not rolled up yet from the agent's in-memory window (filled, as a
running agent's, with as many of the data's last minutes as it holds: 15,
moved to now). Last, every page's live refresh (what the
browser asks for each second) from that window.

Data (generated inside ClickHouse with INSERT ... SELECT FROM numbers(), so the
materialized views fill the rollups as they would live): per second 50
container_resources rows, 200 sched_process rows (4 processes per container),
8 disk_io rows, 3 system_cpu rows, 50 response_time and faults_process rows (one
server and one faulting process per container), system_host and tcp_host; 1 slow
I/O a second; 50 containers. Then every page's data partial, as the dashboard
asks for it, over 5 minutes and over 24 h.

    sudo .venv/bin/python scripts/bench/query_latency.py [--hours 24] [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ROOT, vm_speed_ms  # noqa: F401  (sys.path set up there)
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
        ("system_host", 1,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, toFloat32(1) AS load1, toFloat32(1) AS load5, "
         "toFloat32(1) AS load15, rand() % 5000 AS context_switches, rand() % 3000 AS interrupts, 0 AS softirqs, "
         "2 AS procs_running, 0 AS procs_blocked, 25769803776 AS mem_total_bytes, 8000000000 + rand() % 1000000 "
         "AS mem_used_bytes, 17000000000 AS mem_available_bytes, 4000000000 AS mem_cached_bytes, "
         "toFloat32(31) AS mem_used_pct, 0 AS swap_total_bytes, 0 AS swap_used_bytes, 0 AS swap_in_pages, "
         "0 AS swap_out_pages, rand() % 10000 AS page_faults, rand() % 3 AS major_faults, "
         "toFloat32(0) AS psi_cpu_some_pct, toFloat32(0) AS psi_memory_some_pct, toFloat32(0) AS psi_memory_full_pct, "
         "toFloat32(0) AS psi_io_some_pct, toFloat32(0) AS psi_io_full_pct, map() AS tcp_states"),
        ("tcp_host", 1,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, rand() % 5 AS retransmit_segments, "
         "rand() % 5 AS retransmits, 0 AS retransmits_failed, 0 AS synack_retransmits, rand() % 2 AS resets_sent, "
         "rand() % 2 AS resets_received, rand() % 50 AS active_opens, rand() % 50 AS passive_opens, "
         "rand() % 2 AS failed_connects, rand() % 50 AS closes, 0 AS lifetime_sum_us, [] AS lifetime_hist, "
         "rand() % 10000 AS out_segments, toFloat32(0) AS loss_ratio, 40 AS established, toFloat32(0) AS rtt_p50_us, "
         "toFloat32(0) AS rtt_p99_us, arrayMap(i -> toUInt32(if(i BETWEEN 6 AND 9, rand(i) % 20, 0)), range(32)) "
         "AS rtt_hist"),
        ("response_time", 50,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, 1000 + (number % 50) * 4 AS pid, "
         "concat('worker-', toString((number % 50) * 4)) AS comm, 8080 AS port, rand() % 100 AS requests, "
         "rand() % 1000000 AS latency_sum_us, "
         "arrayMap(i -> toUInt32(if(i BETWEEN 8 AND 14, rand(i) % 20, 0)), range(32)) AS latency_hist, "
         "toFloat32(1000) AS p50_us, toFloat32(50000) AS p99_us"),
        ("faults_process", 50,
         "SELECT {ts} AS ts, '" + HOST + "' AS host, 1000 AS interval_ms, 1000 + (number % 50) * 4 AS pid, "
         "concat('worker-', toString((number % 50) * 4)) AS comm, 4026532000 + number % 50 AS mnt_ns, "
         "0 AS cgroup_id, rand() % 1000 AS minor_faults, rand() % 3 AS major_faults, rand() % 5000 AS cache_lookups, "
         "rand() % 50 AS cache_added, toFloat32(0.99) AS cache_hit_ratio"),
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


# The engine compiles (LLVM) an expression the third time it sees it; those runs
# take 50-250 ms more, once per query shape in the agent's life. Warmed past
# them, the runs measure what a page costs from then on; the first is printed apart.
WARM_RUNS = 4


def timed(fn, runs: int) -> tuple[float, float, float]:
    """(first run, p50, p99) in ms, p50 and p99 over `runs` after WARM_RUNS."""
    times = []
    for _ in range(WARM_RUNS + runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    steady = times[WARM_RUNS:]
    return times[0], float(np.percentile(steady, 50)), float(np.percentile(steady, 99))


def pages(store, runs: int, collector=None) -> None:
    """Every page's data partial as the dashboard asks for it (server time, in
    process), over the last 5 minutes and over 24 h. Without `collector` the store
    answers everything (the slower case: a host picked that is not this agent's);
    with one holding the live window, the minutes not rolled up yet come from
    memory, as `pyperf up` serves its own host."""
    from pyperf.pipeline.collector import Collector
    from pyperf.web.app import create_app
    from pyperf.web.pages import PAGES

    client = create_app(store, collector or Collector([], writer=None), user_sql=None).test_client()
    urls = [f"{p.path}/data" for p in PAGES if p.has_data] + ["/containers/c7/data"]
    source = "the agent's window + store" if collector else "store only"
    print(f"\n{'page partial (server time, ' + source + ')':<50}{'p50 ms':>9}{'p99 ms':>9}{'first':>9}")
    for range_name in ("5m", "24h"):
        for url in urls:
            def get(url=url):
                response = client.get(f"{url}?range={range_name}", headers={"HX-Request": "true"})
                assert response.status_code == 200, (url, response.status_code)
            first, p50, p99 = timed(get, runs)
            print(f"{url + ' ' + range_name:<50}{p50:>9.1f}{p99:>9.1f}{first:>9.1f}", flush=True)


def agent_collector(store):
    """A collector whose live window holds as much of the stored mix's newest rows as
    the agent's does (LiveWindow's default: 15 minutes), moved to now: what `pyperf
    up` reads its own host's recent minutes from. (Until 2026-12-03 it held 5, so
    the minutes between the rollups and the window were read from the raw rows,
    which a running agent reads from memory.)"""
    from pyperf.pipeline.collector import Collector
    from pyperf.pipeline.live_window import DEFAULT_TABLES, LiveWindow

    window = LiveWindow()
    newest = store.query("SELECT max(ts) FROM system_cpu WHERE host = {host:String}", {"host": HOST}).rows[0][0]
    shift = time.time() - 1 - newest.replace(tzinfo=dt.timezone.utc).timestamp()
    per_second: dict[int, dict] = {}
    for table in DEFAULT_TABLES:
        got = store.query_columns(f"SELECT * EXCEPT host FROM {table} WHERE host = {{host:String}} "
                                  f"AND ts > {{since:DateTime64(3)}} ORDER BY ts",
                                  {"host": HOST, "since": newest - dt.timedelta(seconds=window.seconds)})
        if not got.rows:
            continue
        columns = dict(zip(got.column_names, got.rows))
        ts = np.array([t.replace(tzinfo=dt.timezone.utc).timestamp() + shift for t in columns["ts"]])
        for second in np.unique(np.floor(ts)).tolist():
            at = np.flatnonzero(np.floor(ts) == second)
            batch = {name: [values[i] for i in at] for name, values in columns.items()}
            batch["ts"] = ts[at].tolist()
            per_second.setdefault(int(second), {})[table] = batch
    for second in sorted(per_second):
        window.add(per_second[second], second + 1.0, covers=DEFAULT_TABLES)
    collector = Collector([], writer=None)
    collector.window = window
    return collector


def live(store, runs: int, collector) -> None:
    """Every page's live refresh as the browser asks for it each second (the charts
    for the seconds after the newest point it holds), served from the agent's
    in-memory window."""
    from pyperf.web.app import create_app
    from pyperf.web.pages import PAGES

    client = create_app(store, collector, user_sql=None).test_client()
    print(f"\n{'live refresh (server time, from memory)':<50}{'p50 ms':>9}{'p99 ms':>9}{'first':>9}"
          f"{'points':>8}")
    for url in [f"{p.path}/data" for p in PAGES if p.has_data] + ["/containers/c7/data"]:
        sent = []

        def get(url=url):
            since = int(time.time()) - 2
            response = client.get(f"{url}?range=live&only=charts&since={since}", headers={"HX-Request": "true"})
            assert response.status_code in (200, 204), (url, response.status_code)
            sent.append(response.get_data(as_text=True))
        first, p50, p99 = timed(get, runs)
        # the chart times a refresh sent (0: a page whose live part is not charts)
        points = sum(len(c.get("t", [])) for c in _charts(sent[-1]).values() if isinstance(c, dict))
        print(f"{url + ' live':<50}{p50:>9.1f}{p99:>9.1f}{first:>9.1f}{points:>8}", flush=True)


def _charts(html: str) -> dict:
    import json
    import re

    found = re.search(r'class="chart-data"[^>]*>(.*?)</script>', html, re.S)
    return json.loads(found[1]) if found else {}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR once and reuse it (to profile a change)")
    args = ap.parse_args()
    print("VM speed before: a fixed loop in %.0f-%.0f ms" % vm_speed_ms(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        fresh = not (folder / "store").exists()
        store = Store(parse_dsn(f"chdb://{folder}/store"), host_name=HOST).open()
        if fresh:
            print(f"generating {args.hours:g} h for {CONTAINERS} containers:")
            generate(store, args.hours)
            started = time.perf_counter()
            rollups.roll_up(store, dt.datetime.now(dt.timezone.utc))       # as the agent does every five minutes
            print(f"  rolled up in {time.perf_counter() - started:.1f} s", flush=True)
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
            _, p50, p99 = timed(fn, args.runs)
            line = f"{name:<50}{p50:>9.1f}{p99:>9.1f}"
            if baseline is not None:
                _, b50, _ = timed(baseline, max(3, args.runs // 4))
                line += f"{b50:>9.1f}{p50 / b50:>7.2f}"
            print(line, flush=True)
        pages(store, args.runs)
        pages(store, args.runs, agent_collector(store))
        live(store, args.runs, agent_collector(store))     # its newest second just now, as a running agent's
        store.close()
    print("\nVM speed after: a fixed loop in %.0f-%.0f ms" % vm_speed_ms())
    return 0


if __name__ == "__main__":
    sys.exit(main())
