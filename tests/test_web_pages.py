"""The dashboard's pages without a browser: the time range in the URL, the CPU
page's queries against the real engine (chDB), and the routes' answers to bad
input and to a store that is down."""

import datetime as dt

import numpy as np
import pytest

from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store
from pyperf.web import cpu_queries
from pyperf.web.timerange import TimeRange, parse_range

NOW = dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.timezone.utc)


def test_ranges_by_name_and_custom():
    assert parse_range({}, NOW) == TimeRange("live", NOW - dt.timedelta(minutes=5), NOW)
    assert parse_range({"range": "24h"}, NOW).start == NOW - dt.timedelta(days=1)
    custom = parse_range({"range": "custom", "from": "2026-12-01T10:00:00", "to": "2026-12-01T11:30:00+00:00"}, NOW)
    assert custom.seconds == 5400 and custom.start.tzinfo is not None
    assert custom.query_args() == {"range": "custom", "from": "2026-12-01T10:00:00+00:00",
                                   "to": "2026-12-01T11:30:00+00:00"}
    assert parse_range({"range": "7d"}, NOW).query_args() == {"range": "7d"}


@pytest.mark.parametrize("args, message", [
    ({"range": "1y"}, "unknown range"),
    ({"range": "custom", "from": "2026-12-01T10:00:00"}, "needs 'from' and 'to'"),
    ({"range": "custom", "from": "yesterday", "to": "2026-12-01T10:00:00"}, "'from' is not an ISO 8601 time"),
    ({"range": "custom", "from": "2026-12-01T11:00:00", "to": "2026-12-01T10:00:00"}, "'to' must be after"),
    ({"range": "custom", "from": "2020-01-01T00:00:00", "to": "2026-12-01T10:00:00"}, "at most"),
    ({"range": "<script>alert(1)</script>" * 10}, "unknown range"),
])
def test_bad_ranges_say_why_in_one_line(args, message):
    with pytest.raises(ValueError, match=message) as e:
        parse_range(args, NOW)
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


@pytest.fixture
def store(tmp_path, monkeypatch):
    from pyperf.store import rollups

    s = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="host-a").open()
    # the rows here are stamped around NOW, a fixed day: the pages read them as on that
    # day (a range's age picks raw rows or a rollup) ...
    monkeypatch.setattr(rollups, "clock", lambda: NOW + dt.timedelta(minutes=10))
    # ... and without this, the tables' retention (3 days for raw rows) drops them at
    # insert once that day is old enough
    for (table,) in s.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                            "AND engine LIKE '%MergeTree' AND create_table_query LIKE '% TTL %'").rows:
        s.command(f"ALTER TABLE `{table}` REMOVE TTL")
    yield s
    s.close()


def fill(store, start: float):
    """Three seconds of two CPUs and three processes."""
    hist = lambda **slots: [slots.get(f"s{i}", 0) for i in range(32)]    # noqa: E731
    for second in range(3):
        ts = start + second
        store.insert("sched_cpu", {"ts": [ts, ts], "interval_ms": [1000, 1000], "cpu": [0, 1],
                                   "context_switches": [100 * (second + 1), 50], "runq_latency_sum_us": [300, 40],
                                   "runq_waits": [10, 4], "runq_latency_hist": [hist(s3=9, s10=1), hist(s2=4)]})
        store.insert("system_cpu", {"ts": [ts] * 3, "interval_ms": [1000] * 3, "cpu": [-1, 0, 1],
                                    **{f"{k}_pct": [0.0] * 3 for k in ("user", "nice", "system", "iowait", "irq",
                                                                       "softirq", "steal")},
                                    "idle_pct": [50.0, 20.0, 80.0], "busy_pct": [50.0, 80.0, 20.0]})
        store.insert("sched_process", {
            "ts": [ts] * 3, "interval_ms": [1000] * 3, "pid": [11, 22, 33], "comm": ["nginx", "postgres", "cron"],
            "mnt_ns": [1, 1, 1], "cgroup_id": [0, 0, 0], "voluntary_switches": [5, 5, 5],
            "involuntary_switches": [1, 1, 1], "oncpu_us": [1000, 2000, 10], "runq_latency_sum_us": [500, 2500, 0],
            "runq_waits": [5, 5, 0], "runq_latency_hist": [hist(s6=5), hist(s9=5), hist()],
            "offcpu_sum_us": [0, 0, 0], "offcpu_count": [0, 0, 0], "offcpu_hist": [hist(), hist(), hist()]})


def test_cpu_page_queries(store):
    start = NOW.timestamp() - 120
    fill(store, start)
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)

    switches = cpu_queries.context_switches(store, tr)
    assert list(switches["series"]) == ["0", "1"] and switches["step_s"] == 1
    assert switches["series"]["0"] == [100.0, 200.0, 300.0] and switches["series"]["1"] == [50.0] * 3
    assert switches["t"] == [start, start + 1, start + 2]

    busy = cpu_queries.cpu_busy(store, tr)
    assert busy["series"] == {"0": [80.0] * 3, "1": [20.0] * 3, "all": [50.0] * 3}

    heat = cpu_queries.runq_heatmap(store, tr)
    assert len(heat["slots_us"]) == 11                   # up to the highest slot used (10)
    assert heat["counts"][3] == [9, 9, 9] and heat["counts"][2] == [4, 4, 4] and heat["counts"][10] == [1, 1, 1]
    assert all(8 <= p <= 16 for p in heat["p50_us"])     # slot 3: [8, 16) µs
    assert all(p >= 1024 for p in heat["p99_us"])        # the one wait in slot 10

    waiters = cpu_queries.top_waiters(store, tr)
    assert [w["comm"] for w in waiters] == ["postgres", "nginx", "cron"]
    assert waiters[0] == {"pid": 22, "comm": "postgres", "runq_ms": 7.5, "waits": 15, "mean_us": 500.0,
                          "p99_us": waiters[0]["p99_us"], "oncpu_ms": 6.0}
    assert 512 <= waiters[0]["p99_us"] <= 1024
    assert waiters[2]["mean_us"] is None


class _NoCollector:
    window = None
    interval_s, governor, probes, candidates = 1.0, None, [], []

    def status(self):
        return {"probes": {}, "writer": {}, "governor": None}


def test_pages_over_a_range_the_store_and_the_live_window_share(store):
    """An agent up longer than its window: an hour reads its older part from the
    store and its recent minutes from memory, and every page renders both (their
    times were naive and aware once, and a chart's rows could not be sorted)."""
    import time

    from pyperf.pipeline.live_window import LiveWindow
    from pyperf.web.app import create_app
    from pyperf.web.pages import PAGES

    now = int(time.time())
    recent = now - now % 12 - 60          # an hour's buckets are 12 s: each fill's 3 seconds in one
    fill(store, recent - 1740)
    fill(store, recent)
    tables = ("sched_cpu", "system_cpu", "sched_process")
    window = LiveWindow(tables=tables)
    for table in tables:
        got = store.query_columns(f"SELECT * EXCEPT host FROM {table} WHERE ts >= {{since:DateTime64(3)}}",
                                  {"since": dt.datetime.fromtimestamp(recent, dt.timezone.utc)})
        rows = dict(zip(got.column_names, got.rows))
        rows["ts"] = [t.replace(tzinfo=dt.timezone.utc).timestamp() for t in rows["ts"]]
        window.add({table: rows}, recent, covers=tables)
    collector = _NoCollector()
    collector.window = window
    client = create_app(store, collector, user_sql=None).test_client()
    for page in PAGES:
        if page.has_data:
            assert client.get(f"{page.path}/data?range=1h").status_code == 200, page
            if page.charts:
                for name, chart in page.charts(store, parse_range({"range": "1h"}), None, window).items():
                    assert isinstance(chart.get("unit"), str), (page.name, name)    # every chart says its unit
    switches = cpu_queries.context_switches(store, parse_range({"range": "1h"}), window=window)
    assert len(switches["t"]) == 2 and switches["t"] == sorted(switches["t"])    # both parts (12 s buckets), in order


def test_routes_answer_bad_input_and_a_store_that_is_down(store, tmp_path):
    from pyperf.web.app import create_app

    fill(store, NOW.timestamp())
    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    page = client.get("/cpu?range=1h")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'hx-get="/cpu/data?host=host-a&amp;range=1h"' in body
    assert 'aria-current="page"' in body and "every 1s" not in body      # not live: loaded once
    assert "every 1s" in client.get("/cpu").get_data(as_text=True)        # live by default

    bad = client.get("/cpu/data?range=%3Cscript%3E")
    assert bad.status_code == 400 and b"<script>" not in bad.data

    data = client.get("/cpu/data?range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z")
    assert data.status_code == 200 and b'class="chart-data"' in data.data and b'data-pid="22"' in data.data

    down = Store(parse_dsn("http://127.0.0.1:9/"), host_name="host-a")
    down_client = create_app(down, _NoCollector(), user_sql=None).test_client()
    answer = down_client.get("/cpu/data?range=1h")
    assert answer.status_code == 503 and b'role="alert"' in answer.data


def test_memory_page_queries(store):
    from pyperf.web import memory_queries

    start = NOW.timestamp() - 120
    gib = 1024**3
    for second in range(2):
        ts = start + second
        store.insert("system_host", {
            "ts": [ts], "interval_ms": [1000], "load1": [0.5], "load5": [0.4], "load15": [0.3],
            "context_switches": [1000], "interrupts": [500], "softirqs": [100], "procs_running": [2],
            "procs_blocked": [0], "mem_total_bytes": [8 * gib], "mem_used_bytes": [(3 + second) * gib],
            "mem_available_bytes": [4 * gib], "mem_cached_bytes": [gib], "mem_used_pct": [50.0],
            "swap_total_bytes": [gib], "swap_used_bytes": [0], "swap_in_pages": [10 * second], "swap_out_pages": [0],
            "page_faults": [2000], "major_faults": [4], "psi_cpu_some_pct": [0.0], "psi_memory_some_pct": [1.5],
            "psi_memory_full_pct": [0.5], "psi_io_some_pct": [0.0], "psi_io_full_pct": [0.0], "tcp_states": [{}]})
        store.insert("faults_process", {
            "ts": [ts, ts], "interval_ms": [1000, 1000], "pid": [7, 8], "comm": ["java", "sh"], "mnt_ns": [1, 1],
            "cgroup_id": [0, 0], "minor_faults": [100, 900], "major_faults": [3, 0], "cache_lookups": [50, 0],
            "cache_added": [5, 0], "cache_hit_ratio": [0.9, float("nan")]})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    charts = memory_queries.memory_charts(store, tr)
    assert charts["memory"]["series"]["used"] == [3.0 * gib, 4.0 * gib]
    assert charts["swap"]["series"]["in"] == [0.0, 10.0]
    # units from the column spec: bytes, pages per second, % of time, a count per second
    assert [charts[c]["unit"] for c in ("memory", "swap", "pressure", "faults")] == ["B", "pages/s", "%", "/s"]
    assert charts["pressure"]["series"] == {"some": [1.5, 1.5], "full": [0.5, 0.5]}
    assert charts["faults"]["series"] == {"all": [2000.0, 2000.0], "major": [4.0, 4.0]}
    faulting = memory_queries.top_faulting(store, tr)
    assert faulting == [{"pid": 7, "comm": "java", "major": 6, "minor": 200, "cache_lookups": 100, "cache_hit_ratio": 0.9},
                        {"pid": 8, "comm": "sh", "major": 0, "minor": 1800, "cache_lookups": 0, "cache_hit_ratio": None}]


def test_every_page_is_in_the_navigation_and_renders(store):
    from pyperf.web.app import create_app
    from pyperf.web.pages import PAGES

    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    for page in PAGES:
        answer = client.get(f"{page.path}?range=5m")
        assert answer.status_code == 200, page
        body = answer.get_data(as_text=True)
        assert all(f'href="{p.path}?host=host-a&amp;range=5m"' in body for p in PAGES)
        if page.has_data:
            assert client.get(f"{page.path}/data?range=5m").status_code == 200


def test_network_page_queries(store):
    import ipaddress

    from pyperf.probes.tcp import as_ipv6
    from pyperf.web import network_queries

    start = NOW.timestamp() - 120
    zero = {k: [0] for k in ("retransmits", "retransmits_failed", "closes", "lifetime_sum_us")}
    for second in range(2):
        ts = start + second
        store.insert("tcp_host", {"ts": [ts], "interval_ms": [1000], **zero, "retransmit_segments": [6],
                                  "synack_retransmits": [0], "resets_sent": [2], "resets_received": [1],
                                  "active_opens": [10], "passive_opens": [4], "failed_connects": [3],
                                  "lifetime_hist": [[0] * 32], "out_segments": [1000], "loss_ratio": [0.006],
                                  "established": [12], "rtt_p50_us": [150.0], "rtt_p99_us": [300.0],
                                  "rtt_hist": [[0] * 7 + [5, 1] + [0] * 23]})
    peer = as_ipv6(ipaddress.ip_address("10.0.0.9"))
    me = as_ipv6(ipaddress.ip_address("10.0.0.1"))
    store.insert("tcp_event", {"ts": [start, start + 1, start + 1], "kind": ["retransmit", "retransmit", "reset_sent"],
                               "pid": [5, 5, 6], "comm": ["curl", "curl", "nginx"], "saddr": [me] * 3,
                               "sport": [40000] * 3, "daddr": [peer] * 3, "dport": [443, 443, 80],
                               "state": ["ESTABLISHED"] * 3, "segs": [1, 2, 0], "err": [0] * 3, "net_ns": [7, 7, 1]})
    store.insert("containers", {"ts": [start], "mnt_ns": [70], "cgroup_id": [0], "id": ["id-api"], "name": ["api"],
                                "image": ["img"], "runtime": ["docker"], "pod_uid": [""], "cgroup_path": [""],
                                "started": [""], "stopped": [None], "layers": [[]], "net_ns": [7], "pod_name": [""],
                                "namespace": [""]})
    store.insert("tcp_process", {"ts": [start], "interval_ms": [1000], "pid": [5], "comm": ["curl"],
                                 "active_opens": [4], "failed_connects": [2], "closes": [4],
                                 "retransmit_segments": [3], "lifetime_sum_us": [0], "lifetime_hist": [[0] * 32]})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    charts = network_queries.tcp_charts(store, tr)
    assert charts["retransmits"]["series"]["segments retransmitted"] == [6.0, 6.0]
    assert charts["connections"]["series"]["failed"] == [3.0, 3.0]
    assert charts["established"]["series"]["established"] == [12.0, 12.0]
    assert charts["rtt"]["counts"][7] == [5, 5] and len(charts["rtt"]["slots_us"]) == 9
    assert network_queries.peers(store, tr) == [
        {"kind": "retransmit", "peer": "10.0.0.9", "port": 443, "comm": "curl", "container": "api",
         "container_id": "id-api", "events": 2, "segments": 3},
        {"kind": "reset_sent", "peer": "10.0.0.9", "port": 80, "comm": "nginx", "container": "", "container_id": "",
         "events": 1, "segments": 0}]
    assert [p["comm"] for p in network_queries.peers(store, tr, net_ns=[7])] == ["curl"]
    assert network_queries.failing_processes(store, tr) == [
        {"pid": 5, "comm": "curl", "failed": 2, "opened": 4, "retransmits": 3}]


def test_response_page_queries(store):
    from pyperf.web import response_queries

    start = NOW.timestamp() - 120
    fast, slow = [0] * 32, [0] * 32
    fast[9], slow[17] = 100, 10               # ~0.5-1 ms; ~131-262 ms: over the threshold
    for second in range(2):
        ts = start + second
        store.insert("response_time", {"ts": [ts, ts], "interval_ms": [1000, 1000], "pid": [70, 80],
                                       "comm": ["nginx", "slowapp"], "port": [80, 8080], "requests": [100, 10],
                                       "latency_sum_us": [70000, 1500000], "latency_hist": [fast, slow],
                                       "p50_us": [700.0, 150000.0], "p99_us": [1000.0, 250000.0]})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    servers = response_queries.servers(store, tr)
    assert [(s["comm"], s["port"], s["requests"], s["over_threshold"]) for s in servers] == [
        ("nginx", 80, 200, False), ("slowapp", 8080, 20, True)]
    charts = response_queries.response_charts(store, tr)
    assert charts["requests"]["series"] == {"nginx:80": [100.0, 100.0], "slowapp:8080": [10.0, 10.0]}
    assert all(512 <= v <= 1024 for v in charts["p99"]["series"]["nginx:80"])
    assert all(v > 100_000 for v in charts["p99"]["series"]["slowapp:8080"])
    assert charts["p99"]["series"]["threshold 100 ms"] == [100_000, 100_000]


def test_response_chart_draws_the_busiest_servers_only(store):
    """More servers than a chart draws: the busiest MAX_SERVERS (command:port) by
    requests over the range, none else, not even another port of a command drawn
    (the store is asked for the drawn commands and ports, a superset)."""
    from pyperf.web import response_queries

    ts = NOW.timestamp() - 60
    hist = [0] * 9 + [1] + [0] * 22
    servers = [(100 + i, f"app{i}", 9000 + i, 1000 - 10 * i) for i in range(response_queries.MAX_SERVERS)]
    servers += [(300, "app0", 9001, 5), (301, "quiet", 9999, 1)]     # app0 on app1's port; the least busy
    store.insert("response_time", {"ts": [ts] * len(servers), "interval_ms": [1000] * len(servers),
                                   "pid": [p for p, *_ in servers], "comm": [c for _, c, *_ in servers],
                                   "port": [port for _, _, port, _ in servers],
                                   "requests": [n for *_, n in servers], "latency_sum_us": [0] * len(servers),
                                   "latency_hist": [[n * v for v in hist] for *_, n in servers],
                                   "p50_us": [0.0] * len(servers), "p99_us": [0.0] * len(servers)})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    charts = response_queries.response_charts(store, tr)
    assert sorted(charts["requests"]["series"]) == sorted(f"app{i}:{9000 + i}" for i in range(len(servers) - 2))
    assert charts["requests"]["series"]["app0:9000"] == [1000.0]
    assert len(response_queries.servers(store, tr, limit=100)) == len(servers)


def test_overview_tiles_follow_the_requirements_thresholds(store):
    from pyperf.web.pages import PAGES

    fill(store, NOW.timestamp() - 120)                      # CPUs: the host 50 % busy; processes
    ts = NOW.timestamp() - 60
    store.insert("system_cpu", {"ts": [ts], "interval_ms": [1000], "cpu": [-1],
                                **{f"{k}_pct": [0.0] for k in ("user", "nice", "system", "iowait", "irq", "softirq",
                                                               "steal")}, "idle_pct": [5.0], "busy_pct": [95.0]})
    store.insert("disk_io", {"ts": [ts, ts], "interval_ms": [1000, 1000], "device": ["vda", "vda"],
                             "op": ["read", "write"], "ios": [500, 350], "bytes": [0, 0], "latency_sum_us": [0, 0],
                             "latency_hist": [[0] * 32, [0] * 32]})
    net = {k: [0, 0] for k in ("rx_packets", "tx_packets", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped")}
    store.insert("system_net", {"ts": [ts, ts], "interval_ms": [1000, 1000], "interface": ["eth0", "lo"],
                                "rx_bytes": [30_000_000, 900_000_000], "tx_bytes": [10_000_000, 900_000_000], **net})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    from pyperf.web.app import create_app
    with create_app(store, _NoCollector(), user_sql=None).test_request_context("/overview/data"):
        shown = next(p for p in PAGES if p.name == "overview").data(store, tr, None, None)
    tiles = {t["title"]: t for t in shown["tiles"]}
    assert (tiles["CPU"]["latest"], tiles["CPU"]["level"]) == (95.0, "over")          # > 80 %
    assert (tiles["Disk"]["latest"], tiles["Disk"]["level"]) == (850.0, "warn")       # within 80 % of 1000
    assert (tiles["Network"]["latest"], tiles["Network"]["level"]) == (40e6, "ok")    # loopback not counted
    assert tiles["Memory"]["level"] == "none"                                         # no memory rows
    assert tiles["Performance score"]["latest"] is None                               # needs memory
    store.insert("system_host", {
        "ts": [ts], "interval_ms": [1000], "load1": [0.0], "load5": [0.0], "load15": [0.0], "context_switches": [0],
        "interrupts": [0], "softirqs": [0], "procs_running": [1], "procs_blocked": [0], "mem_total_bytes": [100],
        "mem_used_bytes": [40], "mem_available_bytes": [60], "mem_cached_bytes": [0], "mem_used_pct": [40.0],
        "swap_total_bytes": [0], "swap_used_bytes": [0], "swap_in_pages": [0], "swap_out_pages": [0],
        "page_faults": [0], "major_faults": [0], "psi_cpu_some_pct": [0.0], "psi_memory_some_pct": [0.0],
        "psi_memory_full_pct": [0.0], "psi_io_some_pct": [0.0], "psi_io_full_pct": [0.0], "tcp_states": [{}]})
    store.insert("system_disk", {"ts": [ts, ts], "interval_ms": [1000, 1000], "device": ["vda", "vdb"],
                                 "reads": [0, 0], "writes": [0, 0], "read_bytes": [0, 0], "write_bytes": [0, 0],
                                 "util_pct": [50.0, 20.0], "queue_depth_avg": [0.0, 0.0], "in_flight": [0, 0]})
    with create_app(store, _NoCollector(), user_sql=None).test_request_context("/overview/data"):
        shown = next(p for p in PAGES if p.name == "overview").data(store, tr, None, None)
    score = {t["title"]: t for t in shown["tiles"]}["Performance score"]
    # (CPU 95 + memory 40 + busiest disk 50 + network 40 MB/s of 100) / 4
    assert (score["latest"], score["level"]) == (pytest.approx(56.2, abs=0.1), "ok")
    assert [p["comm"] for p in shown["busiest"]] == ["postgres", "nginx", "cron"]     # by CPU time


def test_charts_and_tables_export_as_csv_json_and_parquet(store):
    import csv
    import io
    import json

    import pyarrow.parquet as pq

    from pyperf.web.app import create_app

    fill(store, NOW.timestamp() - 120)
    store.insert("sched_process", {
        "ts": [NOW.timestamp() - 100], "interval_ms": [1000], "pid": [44], "comm": ["=HYPERLINK(\"x\")"],
        "mnt_ns": [1], "cgroup_id": [0], "voluntary_switches": [1], "involuntary_switches": [1], "oncpu_us": [1],
        "runq_latency_sum_us": [1], "runq_waits": [1], "runq_latency_hist": [[0, 1] + [0] * 30],
        "offcpu_sum_us": [0], "offcpu_count": [0], "offcpu_hist": [[0] * 32]})
    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    args = "range=custom&from=2026-12-02T13:57:00Z&to=2026-12-02T14:02:00Z"    # 1 s buckets

    page = client.get(f"/cpu?{args}").get_data(as_text=True)
    assert "/cpu/export?" in page and "part=switches" in page and "format=parquet" in page

    answer = client.get(f"/cpu/export?{args}&part=switches&format=csv")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["0 [/s]"] for r in rows] == ["100.0", "200.0", "300.0"] and rows[0]["time"].startswith("2026-12-02T13:58")

    heat = json.loads(client.get(f"/cpu/export?{args}&part=runq&format=json").data)
    assert [(r["slot_upper_us"], r["count"]) for r in heat if r["time"] == rows[0]["time"]] == [
        (8.0, 4), (16.0, 9), (2048.0, 1)]

    table = pq.read_table(io.BytesIO(client.get(f"/cpu/export?{args}&part=waiters&format=parquet").data))
    assert table.column("comm").to_pylist()[:2] == ["postgres", "nginx"]

    # a name a spreadsheet would run is written as text
    exported = client.get(f"/cpu/export?{args}&part=waiters&format=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in exported

    assert client.get(f"/cpu/export?{args}&part=nothing&format=csv").status_code == 400
    assert client.get(f"/cpu/export?{args}&part=waiters&format=xlsx").status_code == 400


class _Writer:
    store_down_since = None
    flushes = 0

    def flush(self):
        self.flushes += 1


def test_sql_console_runs_read_only_queries_escapes_results_and_downloads(store):
    import json

    from pyperf.store.user_sql import ReadOnlySQL
    from pyperf.web.app import create_app

    collector = _NoCollector()
    collector.writer = _Writer()
    user_sql = ReadOnlySQL(store)
    try:
        client = create_app(store, collector, user_sql).test_client()
        assert client.get("/sql").status_code == 200
        shown = client.post("/sql/run", data={"sql": "SELECT 1 + 1 AS two, '<img src=x onerror=alert(1)>' AS v"})
        body = shown.get_data(as_text=True)
        assert "<th>two</th>" in body and "<td>2</td>" in body
        assert "<img" not in body and "&lt;img src=x" in body               # shown as text
        assert collector.writer.flushes == 1                                  # newest rows written first
        refused = client.post("/sql/run", data={"sql": "INSERT INTO disk_queue (device) VALUES ('x')"})
        assert refused.status_code == 200 and 'role="alert"' in refused.get_data(as_text=True)
        assert store.query("SELECT count() FROM disk_queue").rows == [(0,)]
        rows = json.loads(client.post("/sql/export?format=json", data={"sql": "SELECT number FROM numbers(3)"}).data)
        assert rows == [{"number": 0}, {"number": 1}, {"number": 2}]
        assert client.post("/sql/export?format=csv", data={"sql": "DROP TABLE disk_io"}).status_code == 400
    finally:
        user_sql.close()
    assert len(user_sql._sessions) == 0  # its sessions are closed with it, not left to the store


def test_containers_list_and_one_container(store):
    from pyperf.web.app import create_app
    from pyperf.web.container_queries import container_charts, container_detail, container_processes, containers

    start = NOW.timestamp() - 120
    fill(store, start)                                        # processes in mount namespace 1
    store.insert("containers", {"ts": [start], "mnt_ns": [1], "cgroup_id": [0], "id": ["c0ffee" * 10 + "abcd"],
                                "name": ["<b>web</b>"], "image": ["nginx:1.27"], "runtime": ["docker"],
                                "pod_uid": [""], "cgroup_path": ["/docker/x"], "started": [""], "stopped": [None],
                                "layers": [[]], "net_ns": [0], "pod_name": [""], "namespace": [""]})
    cid = "c0ffee" * 10 + "abcd"
    for second in range(2):
        ts = start + second
        store.insert("container_resources", {
            "ts": [ts], "interval_ms": [1000], "container_id": [cid], "name": ["<b>web</b>"], "runtime": ["docker"],
            "mnt_ns": [1], "cpu_pct_of_host": [10.0], "cpu_pct_of_limit": [60.0 + 20 * second], "cpu_limit_cores": [0.5],
            "throttled_periods": [5], "periods": [10], "throttled_us": [1000], "memory_bytes": [100 * 1024**2],
            "memory_limit_bytes": [200 * 1024**2], "memory_pct_of_limit": [50.0], "rss_bytes": [0], "cache_bytes": [0],
            "major_faults": [0], "oom_kills": [0], "io_read_bytes": [1024**2], "io_write_bytes": [0], "io_reads": [1],
            "io_writes": [0], "net_rx_bytes": [2 * 1024**2], "net_tx_bytes": [0], "pids": [3]})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    [c] = containers(store, tr)
    assert (c["name"], c["image"], c["cpu_pct_of_host"], c["cpu_pct_of_limit_max"]) == ("<b>web</b>", "nginx:1.27", 10.0, 80.0)
    assert (c["cpu_level"], c["memory_level"], c["throttled_pct"]) == ("over", "ok", 50.0)   # 80 > 70 %; 50 < 60
    charts = container_charts(store, cid, tr)
    assert charts["cpu"]["series"]["of its limit"] == [60.0, 80.0] and charts["cpu"]["unit"] == "%"
    assert charts["network"]["series"]["received"] == [2.0 * 1024**2] * 2 and charts["network"]["unit"] == "B/s"
    assert charts["memory"]["series"]["used"] == [100.0 * 1024**2] * 2 and charts["memory"]["unit"] == "B"
    assert [p["comm"] for p in container_processes(store, cid, tr)] == ["postgres", "nginx", "cron"]
    # its run-queue latency (the processes' histograms), and the response time of its own servers only
    store.insert("response_time", {"ts": [start, start], "interval_ms": [1000] * 2, "pid": [22, 999],
                                   "comm": ["postgres", "elsewhere"], "port": [5432, 80], "requests": [10, 10],
                                   "latency_sum_us": [1000, 1000], "latency_hist": [[0] * 7 + [10] + [0] * 24] * 2,
                                   "p50_us": [100.0] * 2, "p99_us": [100.0] * 2})
    from pyperf.web.container_queries import top_containers
    [top] = top_containers(store, tr, sort="response_p99")
    assert (top["id"], top["runq_p99_us"] > 0, top["response_p99_us"], top["retransmits"]) == (cid, True, 254.7, 0)
    detail = container_detail(store, cid, tr)
    assert sum(map(sum, detail["charts"]["runq"]["counts"])) == 30            # 5 + 5 waits a second, 3 s
    # the table's run-queue p99 (from the per-process read) is the p99 of the container's
    # histogram as its page reads it (by mount namespace)
    from pyperf.analysis.histogram import HIST_SLOTS, quantile_us
    hist = np.zeros(HIST_SLOTS, np.int64)
    for slot, counts in enumerate(detail["charts"]["runq"]["counts"]):
        hist[slot] = sum(counts)
    assert top["runq_p99_us"] == round(quantile_us(hist, 0.99), 1)
    assert [(s["comm"], s["port"]) for s in detail["servers"]] == [("postgres", 5432)]
    assert list(detail["charts"]["response_p99"]["series"])[0] == "postgres[22]:5432"
    assert detail["peers"] == []                                              # no network namespace of its own

    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    listed = client.get("/containers/data?range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z")
    body = listed.get_data(as_text=True)
    assert f'href="/containers/{cid}?' in body and "&lt;b&gt;web&lt;/b&gt;" in body and "<b>web</b>" not in body
    assert client.get(f"/containers/{cid}?range=1h").status_code == 200
    assert client.get(f"/containers/{cid}/data?range=1h").status_code == 200
    args = "range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z"
    assert client.get(f"/containers/{cid}/export?{args}&part=servers&format=csv").get_data(
        as_text=True).splitlines()[1].startswith("22,postgres,5432")
    assert client.get(f"/containers/{cid}/export?{args}&part=runq&format=json").status_code == 200
    assert client.get(f"/containers/{cid}/export?{args}&part=nope").status_code == 400
    # a container without limits: no "% of limit" (NaN in the rows), and the charts' JSON stays JSON
    store.insert("container_resources", {
        "ts": [start], "interval_ms": [1000], "container_id": ["free"], "name": ["free"], "runtime": ["docker"],
        "mnt_ns": [2], "cpu_pct_of_host": [1.0], "cpu_pct_of_limit": [float("nan")], "cpu_limit_cores": [0.0],
        **{k: [0] for k in ("throttled_periods", "periods", "throttled_us", "memory_bytes", "memory_limit_bytes",
                            "rss_bytes", "cache_bytes", "major_faults", "oom_kills", "io_read_bytes", "io_write_bytes",
                            "io_reads", "io_writes", "net_rx_bytes", "net_tx_bytes", "pids")},
        "memory_pct_of_limit": [float("nan")]})
    free = next(c for c in containers(store, tr) if c["id"] == "free")
    assert (free["cpu_pct_of_limit_max"], free["cpu_level"]) == (None, "none")
    import json
    import re

    def strict(text):
        return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))

    blob = re.search(r'class="chart-data"[^>]*>(.*?)</script>', client.get(
        "/containers/free/data?range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z").get_data(as_text=True))
    assert strict(blob[1])["cpu"]["series"]["of its limit"] == [None]
    assert client.get("/containers/no-such-container").status_code == 404
    assert client.get("/containers/x'%20OR%201=1%20--").status_code == 404


def test_flame_graph_tree_top_table_and_downloads(store):
    import json

    from pyperf.web import flame_queries
    from pyperf.web.app import create_app

    ts = NOW.timestamp() - 100
    stacks = [("main;serve;parse", 60), ("main;serve;write_[k]", 30), ("main;idle", 10)]
    store.insert("profile_stack", {"ts": [ts] * 3, "interval_ms": [1000] * 3, "pid": [9, 9, 9], "comm": ["srv"] * 3,
                                   "mnt_ns": [1] * 3, "folded": [s for s, _ in stacks], "samples": [n for _, n in stacks],
                                   "hz": [49] * 3})
    store.insert("profile_stack", {"ts": [ts], "interval_ms": [1000], "pid": [10], "comm": ["other"], "mnt_ns": [2],
                                   "folded": ["main;spin"], "samples": [500], "hz": [49]})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    mine = flame_queries.stacks(store, tr, pid=9)
    assert mine == [("main;serve;parse", 60), ("main;serve;write_[k]", 30), ("main;idle", 10)]
    tree = flame_queries.tree(mine)
    assert tree["value"] == 100 and tree["children"][0]["name"] == "main"
    serve = tree["children"][0]["children"][0]
    assert (serve["name"], serve["value"], [c["name"] for c in serve["children"]]) == ("serve", 90, ["parse", "write_[k]"])
    top = flame_queries.top_functions(mine)
    assert top[0] == {"function": "parse", "self": 60, "self_pct": 60.0, "total": 60, "total_pct": 60.0}
    assert next(f for f in top if f["function"] == "main")["total_pct"] == 100.0
    assert flame_queries.stacks(store, tr, mnt_ns=[2]) == [("main;spin", 500)]

    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    args = "range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z&pid=9"
    body = client.get(f"/flame/data?{args}").get_data(as_text=True)
    assert '"name": "serve"' in body.replace('"name":"serve"', '"name": "serve"') and "parse" in body
    folded = client.get(f"/flame/download?{args}&format=folded").get_data(as_text=True)
    assert folded.splitlines()[0] == "main;serve;parse 60"
    speedscope = json.loads(client.get(f"/flame/download?{args}&format=speedscope").data)
    assert speedscope["profiles"][0]["weights"] == [60, 30, 10]
    assert client.get(f"/flame/export?{args}&part=top&format=csv").status_code == 200
    # a diff against the equal range before: parse doubled its share, idle vanished, write_ is new
    before = ts - 600
    store.insert("profile_stack", {"ts": [before] * 3, "interval_ms": [1000] * 3, "pid": [9] * 3, "comm": ["srv"] * 3,
                                   "mnt_ns": [1] * 3, "folded": ["main;serve;parse", "main;idle", "main;gc"],
                                   "samples": [60, 100, 40], "hz": [49] * 3})
    base = TimeRange("custom", NOW - dt.timedelta(minutes=15), NOW - dt.timedelta(minutes=5))
    diff = flame_queries.diff_tree(flame_queries.stacks(store, base, pid=9), mine)
    assert diff["diff"] and diff["value"] == 200 and diff["delta"] == 0       # baseline scaled to 100
    main = diff["children"][0]
    parse = main["children"][0]["children"][0]
    assert (parse["name"], parse["base_pct"], parse["comp_pct"], parse["delta"]) == ("parse", 30.0, 60.0, 30.0)
    idle = next(c for c in main["children"] if c["name"] == "idle")
    assert (idle["base_pct"], idle["comp_pct"], idle["value"], idle["delta"]) == (50.0, 10.0, 60.0, -40.0)
    write = main["children"][0]["children"][1]
    assert write["value"] == write["delta"] == 30.0                             # only in the comparison
    rows = {r["function"]: r for r in flame_queries.diff_top(flame_queries.stacks(store, base, pid=9), mine)}
    assert list(rows)[0] == "idle" and rows["idle"]["self_diff_pct"] == -40.0
    assert (rows["parse"]["baseline_self_pct"], rows["parse"]["comparison_self_pct"]) == (30.0, 60.0)
    assert rows["gc"]["comparison_total_pct"] == 0.0 and rows["gc"]["total_diff_pct"] == -20.0
    diffed = client.get(f"/flame/data?{args}&base=custom&base_from=2026-12-02T13:45:00Z"
                        "&base_to=2026-12-02T13:55:00Z").get_data(as_text=True)
    assert '"diff": true' in diffed.replace('"diff":true', '"diff": true') and "baseline self %" in diffed
    previous = client.get(f"/flame/data?{args}&base=previous").get_data(as_text=True)
    assert "baseline self %" in previous
    csv_rows = client.get(f"/flame/export?{args}&base=previous&part=top&format=csv").get_data(as_text=True)
    assert csv_rows.splitlines()[0].startswith("function,baseline_self_pct,comparison_self_pct")
    assert client.get(f"/flame/data?{args}&base=yesterday").status_code == 400
    assert b"baseline: &#39;from&#39; is not" in client.get(f"/flame/data?{args}&base=custom&base_from=x&base_to=y").data
    assert client.get("/flame/data?kind=perf").status_code == 400
    assert client.get("/flame/data?pid=-1").status_code == 400
    assert client.get("/flame/data?pid=1;DROP").status_code == 400


def test_compare_two_ranges(store):
    from pyperf.web.app import create_app
    from pyperf.web.compare_queries import compare
    from pyperf.web.pages.compare import ranges

    fill(store, NOW.timestamp() - 3600 - 120)       # range A: 100/200/300 switches on CPU 0, 50 on CPU 1
    start = NOW.timestamp() - 120
    for second in range(3):                          # range B: twice the context switches
        store.insert("system_host", {
            "ts": [start + second], "interval_ms": [1000], "load1": [0.0], "load5": [0.0], "load15": [0.0],
            "context_switches": [2000], "interrupts": [0], "softirqs": [0], "procs_running": [1], "procs_blocked": [0],
            "mem_total_bytes": [100], "mem_used_bytes": [50], "mem_available_bytes": [50], "mem_cached_bytes": [0],
            "mem_used_pct": [50.0], "swap_total_bytes": [0], "swap_used_bytes": [0], "swap_in_pages": [0],
            "swap_out_pages": [0], "page_faults": [0], "major_faults": [0], "psi_cpu_some_pct": [0.0],
            "psi_memory_some_pct": [0.0], "psi_memory_full_pct": [0.0], "psi_io_some_pct": [0.0],
            "psi_io_full_pct": [0.0], "tcp_states": [{}]})
    for second in range(3):
        store.insert("system_host", {
            "ts": [start - 3600 + second], "interval_ms": [1000], "load1": [0.0], "load5": [0.0], "load15": [0.0],
            "context_switches": [1000], "interrupts": [0], "softirqs": [0], "procs_running": [1], "procs_blocked": [0],
            "mem_total_bytes": [100], "mem_used_bytes": [25], "mem_available_bytes": [75], "mem_cached_bytes": [0],
            "mem_used_pct": [25.0], "swap_total_bytes": [0], "swap_used_bytes": [0], "swap_in_pages": [0],
            "swap_out_pages": [0], "page_faults": [0], "major_faults": [0], "psi_cpu_some_pct": [0.0],
            "psi_memory_some_pct": [0.0], "psi_memory_full_pct": [0.0], "psi_io_some_pct": [0.0],
            "psi_io_full_pct": [0.0], "tcp_states": [{}]})
    a = TimeRange("custom", NOW - dt.timedelta(seconds=3600 + 150), NOW - dt.timedelta(seconds=3600 + 90))
    b = TimeRange("custom", NOW - dt.timedelta(seconds=150), NOW - dt.timedelta(seconds=90))
    result = {m["metric"]: m for m in compare(store, a, b)["metrics"]}
    assert (result["context switches"]["a"], result["context switches"]["b"]) == (50.0, 100.0)   # 3000 / 60 s
    assert (result["context switches"]["delta"], result["context switches"]["delta_pct"]) == (50.0, 100.0)
    assert (result["memory used"]["a"], result["memory used"]["b"], result["memory used"]["delta"]) == (25.0, 50.0, 25.0)
    assert result["run-queue latency p99"]["a"] is not None and result["run-queue latency p99"]["b"] is None

    got_a, got_b = ranges({}, NOW)
    assert (got_a.end, got_b.name) == (NOW - dt.timedelta(hours=1), "1h")
    with pytest.raises(ValueError, match="range B"):
        ranges({"b_range": "1y"}, NOW)
    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    page = client.get("/compare?a_range=custom&a_from=2026-12-02T12:57:30Z&a_to=2026-12-02T12:58:30Z"
                      "&b_range=custom&b_from=2026-12-02T13:57:30Z&b_to=2026-12-02T13:58:30Z")
    assert page.status_code == 200 and 'data-metric="context switches"' in page.get_data(as_text=True)
    assert client.get("/compare?b_range=bogus").status_code == 400
    api = client.get("/api/compare?a_range=custom&a_from=2026-12-02T12:57:30Z&a_to=2026-12-02T12:58:30Z"
                     "&b_range=custom&b_from=2026-12-02T13:57:30Z&b_to=2026-12-02T13:58:30Z").get_json()
    by_metric = {m["metric"]: m for m in api["metrics"]}
    assert (by_metric["context switches"]["a"], by_metric["context switches"]["b"]) == (50.0, 100.0)
    assert api["a"]["from"].startswith("2026-12-02T12:57:30")
    bad = client.get("/api/compare?b_range=bogus")
    assert bad.status_code == 400 and "range B" in bad.get_json()["error"]


def test_a_live_refresh_sends_only_the_newest_seconds(store):
    import json
    import re
    import time

    from pyperf.web.app import create_app
    from pyperf.web.pages import since_range

    now = time.time()
    fill(store, int(now) - 30)                          # seconds now-30 .. now-28
    fill(store, int(now) - 3)                           # seconds now-3 .. now-1
    client = create_app(store, _NoCollector(), user_sql=None).test_client()

    def blob(url):
        body = client.get(url).get_data(as_text=True)
        match = re.search(r'data-incremental="(\d)" data-start="([0-9.]+)">(.*?)</script>', body)
        return match[1] == "1", json.loads(match[3])

    incremental, charts = blob("/cpu/data?range=live")
    assert not incremental and len(charts["switches"]["t"]) == 6
    incremental, charts = blob(f"/cpu/data?range=live&since={int(now) - 3}")
    assert incremental and charts["switches"]["t"] == [int(now) - 3, int(now) - 2, int(now) - 1]
    # not live, or a `since` outside the range: the whole range
    assert not blob(f"/cpu/data?range=1h&since={int(now) - 3}")[0]
    assert not blob(f"/cpu/data?range=live&since={int(now) - 3600}")[0]
    live = parse_range({"range": "live"})
    assert since_range(live, live.end.timestamp() - 10).start.timestamp() == pytest.approx(live.end.timestamp() - 11)
    # a live page asks for its charts every second and its tables apart, less often
    charts_only = client.get(f"/cpu/data?range=live&only=charts&since={int(now) - 3}").get_data(as_text=True)
    assert 'class="chart-data"' in charts_only and "<table" not in charts_only
    tables_only = client.get("/cpu/data?range=live&only=tables").get_data(as_text=True)
    assert "<table" in tables_only and 'class="chart-data"' not in tables_only
    tiles = client.get("/overview/data?range=live&only=charts").get_data(as_text=True)
    assert "data-tile=" in tiles and "<table" not in tiles
    version = re.search(r'data-tables-version="(\d+)"', tables_only)[1]
    assert client.get(f"/cpu/data?range=live&only=tables&version={version}").status_code == 204   # unchanged
    assert client.get("/cpu/data?range=live&only=tables&version=0").status_code == 200
    assert client.get("/cpu/data?range=live&only=everything").status_code == 400
    page = client.get("/cpu?range=live").get_data(as_text=True)
    assert "only=charts" in page and "every 1s" in page and "only=tables" in page and "every 5s" in page


def test_one_containers_live_refresh_sends_only_the_newest_seconds(store):
    import json
    import re
    import time

    from pyperf.web.app import create_app

    now = int(time.time())
    zero = {k: [0] for k in ("throttled_periods", "periods", "throttled_us", "memory_limit_bytes", "rss_bytes",
                             "cache_bytes", "major_faults", "oom_kills", "io_read_bytes", "io_write_bytes", "io_reads",
                             "io_writes", "net_rx_bytes", "net_tx_bytes", "pids")}
    for ts in range(now - 6, now):
        store.insert("container_resources", {
            "ts": [ts], "interval_ms": [1000], "container_id": ["c1"], "name": ["web"], "runtime": ["docker"],
            "mnt_ns": [1], "cpu_pct_of_host": [float(ts % 100)], "cpu_pct_of_limit": [1.0], "cpu_limit_cores": [1.0],
            "memory_bytes": [1024**2], "memory_pct_of_limit": [1.0], **zero})
    client = create_app(store, _NoCollector(), user_sql=None).test_client()

    def blob(url):
        body = client.get(url).get_data(as_text=True)
        match = re.search(r'data-incremental="(\d)" data-start="([0-9.]+)">(.*?)</script>', body)
        return match[1] == "1", json.loads(match[3])

    incremental, charts = blob("/containers/c1/data?range=live&only=charts")
    assert not incremental and len(charts["cpu"]["t"]) == 6
    # the newest point the browser holds (it may have been partial) and what came after
    incremental, charts = blob(f"/containers/c1/data?range=live&only=charts&since={now - 2}")
    assert incremental and charts["cpu"]["t"] == [now - 3, now - 2, now - 1]
    assert charts["cpu"]["series"]["of host"] == [float(t % 100) for t in (now - 3, now - 2, now - 1)]


HOSTILE = ('<img src=x onerror=alert(1)>', '"><script>alert(1)</script>')


def test_hostile_names_render_as_text_on_every_page(store):
    """Command names, container names, images and stack frames come from anyone
    who can start a process: every page shows them as text."""
    import ipaddress
    from urllib.parse import urlencode

    from pyperf.probes.tcp import as_ipv6
    from pyperf.web.app import create_app
    from pyperf.web.pages import PAGES

    ts = NOW.timestamp() - 100
    zero32 = [0] * 32
    for name in HOSTILE:
        store.insert("sched_process", {"ts": [ts], "interval_ms": [1000], "pid": [1], "comm": [name], "mnt_ns": [9],
                                       "cgroup_id": [0], "voluntary_switches": [1], "involuntary_switches": [1],
                                       "oncpu_us": [5], "runq_latency_sum_us": [5], "runq_waits": [1],
                                       "runq_latency_hist": [[0, 1] + [0] * 30], "offcpu_sum_us": [0],
                                       "offcpu_count": [0], "offcpu_hist": [zero32]})
        store.insert("faults_process", {"ts": [ts], "interval_ms": [1000], "pid": [1], "comm": [name], "mnt_ns": [9],
                                        "cgroup_id": [0], "minor_faults": [1], "major_faults": [1],
                                        "cache_lookups": [1], "cache_added": [0], "cache_hit_ratio": [1.0]})
        store.insert("response_time", {"ts": [ts], "interval_ms": [1000], "pid": [1], "comm": [name], "port": [80],
                                       "requests": [1], "latency_sum_us": [1], "latency_hist": [[0, 1] + [0] * 30],
                                       "p50_us": [1.0], "p99_us": [1.0]})
        store.insert("profile_stack", {"ts": [ts], "interval_ms": [1000], "pid": [1], "comm": [name], "mnt_ns": [9],
                                       "folded": [f"main;{name}"], "samples": [3], "hz": [49]})
        store.insert("tcp_event", {"ts": [ts], "kind": ["retransmit"], "pid": [1], "comm": [name],
                                   "saddr": [as_ipv6(ipaddress.ip_address("10.0.0.1"))], "sport": [1],
                                   "daddr": [as_ipv6(ipaddress.ip_address("10.0.0.2"))], "dport": [2],
                                   "state": [name], "segs": [1], "err": [0], "net_ns": [1]})
        store.insert("container_resources", {
            "ts": [ts], "interval_ms": [1000], "container_id": [name], "name": [name], "runtime": ["docker"],
            "mnt_ns": [9], "cpu_pct_of_host": [1.0], "cpu_pct_of_limit": [1.0], "cpu_limit_cores": [1.0],
            **{k: [0] for k in ("throttled_periods", "periods", "throttled_us", "memory_bytes", "memory_limit_bytes",
                                "rss_bytes", "cache_bytes", "major_faults", "oom_kills", "io_read_bytes",
                                "io_write_bytes", "io_reads", "io_writes", "net_rx_bytes", "net_tx_bytes", "pids")},
            "memory_pct_of_limit": [1.0]})
        store.insert("containers", {"ts": [ts], "mnt_ns": [9], "cgroup_id": [0], "id": [name], "name": [name],
                                    "image": [name], "runtime": ["docker"], "pod_uid": [""], "cgroup_path": [name],
                                    "started": [""], "stopped": [None], "layers": [[]], "net_ns": [0],
                                    "pod_name": [name], "namespace": [name]})
        layer_ns = 10 + HOSTILE.index(name)          # one container per mount namespace
        store.insert("layer_files", {"ts": [ts], "mnt_ns": [layer_ns], "container_id": [name], "container_name": [name],
                                     "image": [name], "layer_index": [1], "layer_id": [name], "layer_path": [name],
                                     "path": [f"/{name}"], "kind": ["file"], "dev": [1], "inode": [len(name)],
                                     "size": [4096]})
        store.insert("layer_file_access", {"ts": [ts], "mnt_ns": [layer_ns], "dev": [1], "inode": [len(name)], "reads": [1],
                                           "first_page": [0], "last_page": [0], "mmap_pages": [0], "added_pages": [1],
                                           "first_access": [ts], "last_access": [ts], "dirtied_folios": [0]})
    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    args = "range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z"
    urls = [f"{p.path}/data?{args}" for p in PAGES if p.has_data] + [f"{p.path}?{args}" for p in PAGES]
    urls += [f"/flame/data?{args}&pid=1", f"/containers/{HOSTILE[0]}?{args}"]
    urls += [f"/layers/data?{urlencode({'container': HOSTILE[0]})}", f"/layers/data?{urlencode({'image': HOSTILE[1]})}"]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        for name in HOSTILE:
            assert name not in body, url
            assert "<script>alert" not in body and "<img src=x" not in body, url
    shown = client.get(f"/cpu/data?{args}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown                   # shown, as text
    layer_page = client.get(f"/layers/data?{urlencode({'container': HOSTILE[0]})}").get_data(as_text=True)
    assert "table class=\"hot-files\"" in layer_page and "/&lt;img src=x onerror=alert(1)&gt;" in layer_page
    listed = client.get(f"/layers/list?{urlencode({'container': HOSTILE[0], 'kind': 'keep'})}")
    assert listed.mimetype == "text/plain" and listed.get_data(as_text=True) == f"/{HOSTILE[0]}\n"


def test_settings_page_applies_to_the_running_agent_and_keeps_them(store):
    """A real collector (the two sources that need no root), its governor and the
    store: the form changes each, refuses bad values in one line each without
    applying anything, and what it stored is what the next start reads."""
    from pyperf import settings
    from pyperf.analysis import auto_apply, thresholds
    from pyperf.containers.source import ContainersSource
    from pyperf.pipeline.collector import Collector
    from pyperf.pipeline.governor import Governor
    from pyperf.system.sampler import SystemSampler
    from pyperf.web.app import create_app

    collector = Collector([SystemSampler(), ContainersSource()], writer=None, interval_s=1.0)
    collector.attach()
    collector.governor = Governor(collector, budget_pct=1.0)
    saved = (dict(thresholds.HOST), dict(thresholds.CONTAINER), dict(thresholds.FINDINGS))
    try:
        client = create_app(store, collector, user_sql=None).test_client()
        page = client.get("/settings").get_data(as_text=True)
        assert 'name="interval_s"' in page and 'value="80"' in page and 'value="system" checked' in page

        bad = client.post("/settings", data={"interval_s": "0.01", "host_cpu_pct": "lots", "probes_shown": "1",
                                             "probes": ["system", "<script>"]})
        body = bad.get_data(as_text=True)
        assert bad.status_code == 400 and "drain interval: 0.01 is outside 0.1..10 s" in body
        assert "host CPU alert over: &#39;lots&#39; is not a number" in body and "<script>" not in body
        assert collector.interval_s == 1.0 and thresholds.HOST["cpu_pct"] == 80.0       # nothing applied

        ok = client.post("/settings", data={"interval_s": "2", "cpu_budget_pct": "3", "host_cpu_pct": "90",
                                            "response_time_ms": "250", "retention_raw_days": "7",
                                            "findings_throttled_pct": "25", "probes_shown": "1", "probes": ["system"]})
        assert ok.status_code == 200, ok.get_data(as_text=True)
        assert collector.interval_s == 2.0 and collector.governor.budget_pct == 3.0
        assert thresholds.HOST["cpu_pct"] == 90.0 and thresholds.CONTAINER["response_time_us"] == 250_000
        assert thresholds.FINDINGS["throttled_pct"] == 25.0 and 'name="findings_throttled_pct"' in page
        assert [p.name for p in collector.probes] == ["system"]
        ttl = store.query("SELECT engine_full FROM system.tables WHERE name = 'sched_process'").rows[0][0]
        assert "toIntervalDay(7)" in ttl
        assert settings.load(store, store.host_name) == {
            "interval_s": 2.0, "cpu_budget_pct": 3.0, "host_cpu_pct": 90.0, "response_time_ms": 250.0,
            "retention_raw_days": 7, "findings_throttled_pct": 25.0, "probes": ["system"]}

        # automatic fixes are root's (`up --auto-apply`): shown, never switched on from the form
        sneaky = client.post("/settings", data={"auto_apply_container_cpu_throttled": "1"}).get_data(as_text=True)
        assert "container_cpu_throttled: <strong>off</strong>" in sneaky
        assert not any(auto_apply.ENABLED.values())

        back = client.post("/settings", data={"probes_shown": "1", "probes": ["system", "containers"]})
        assert "containers" in back.get_data(as_text=True) and {p.name for p in collector.probes} == {
            "system", "containers"}
        assert "keep at least one probe on" in client.post("/settings", data={"probes_shown": "1"}).get_data(
            as_text=True)
    finally:
        thresholds.HOST.update(saved[0])
        thresholds.CONTAINER.update(saved[1])
        thresholds.FINDINGS.update(saved[2])
        collector.detach()


def test_disk_page_devices_containers_and_slow_ios_of_one_container(store):
    from pyperf.web import disk_queries
    from pyperf.web.app import create_app

    ts = NOW.timestamp() - 100
    hist = [0] * 32
    hist[7], hist[12] = 90, 10                       # ~128-256 µs, and ~4-8 ms
    for second in range(2):
        store.insert("disk_io", {"ts": [ts + second], "interval_ms": [1000], "device": ["vda"], "op": ["read"],
                                 "ios": [100], "bytes": [409600], "latency_sum_us": [20000],
                                 "latency_hist": [hist]})
        store.insert("disk_queue", {"ts": [ts + second], "interval_ms": [1000], "device": ["vda"],
                                    "queue_depth_avg": [1.5 + second], "queue_depth_max": [4 + second]})
    for ns, name in ((21, "db"), (22, "web")):
        store.insert("containers", {"ts": [ts], "mnt_ns": [ns], "cgroup_id": [0], "id": [f"id-{name}"],
                                    "name": [name], "image": ["img"], "runtime": ["docker"], "pod_uid": [""],
                                    "cgroup_path": [""], "started": [""], "stopped": [None], "layers": [[]],
                                    "net_ns": [0], "pod_name": [""], "namespace": [""]})
        store.insert("disk_container_io", {"ts": [ts], "interval_ms": [1000], "mnt_ns": [ns], "cgroup_id": [0],
                                           "device": ["vda"], "op": ["read"], "ios": [150 if name == "db" else 50],
                                           "bytes": [4096 * 10], "latency_sum_us": [3000], "latency_hist": [hist]})
        store.insert("disk_slow_io", {"ts": [ts + 0.5], "device": [f"vd{name[0]}"], "op": ["write"], "bytes": [4096],
                                      "latency_us": [12000], "pid": [ns], "comm": [f"{name}-proc"],
                                      "mnt_ns": [ns], "cgroup_id": [0]})
    tr = TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)
    [vda] = disk_queries.devices(store, tr)
    assert (vda["device"], vda["ios"], vda["queue_avg"], vda["queue_max"]) == ("vda", 200, 2.0, 5)
    assert vda["p50_us"] < 256 < 4096 < vda["p99_us"]
    per_container = disk_queries.by_container(store, tr)
    assert [(c["container"], c["container_id"], c["ios"]) for c in per_container] == [
        ("db", "id-db", 150), ("web", "id-web", 50)]
    assert [e["comm"] for e in disk_queries.slow_ios(store, tr)] == ["web-proc", "db-proc"]
    assert [e["comm"] for e in disk_queries.slow_ios(store, tr, namespaces=[22])] == ["web-proc"]
    assert [e["comm"] for e in disk_queries.slow_ios(store, tr, device="vdd")] == ["db-proc"]
    charts = disk_queries.charts(store, tr)
    assert charts["iops"]["series"]["vda"] == [100.0, 100.0] and sum(map(sum, charts["latency"]["counts"])) == 200
    # each second's p50 and p99 (computed for all buckets at once) are the range's: the same histogram
    assert charts["p50_us"]["series"]["vda"] == [vda["p50_us"]] * 2
    assert charts["p99_us"]["series"]["vda"] == [vda["p99_us"]] * 2

    client = create_app(store, _NoCollector(), user_sql=None).test_client()
    args = "range=custom&from=2026-12-02T13:55:00Z&to=2026-12-02T14:05:00Z"
    assert [e["comm"] for e in client.get(f"/api/disk/slow?{args}&device=vdw").get_json()] == ["web-proc"]
    only_web = client.get(f"/disk/data?{args}&container=id-web").get_data(as_text=True)
    assert "web-proc" in only_web and "db-proc" not in only_web
    assert "db-proc" not in client.get(f"/disk/data?{args}&container=nope").get_data(as_text=True)
    assert client.get(f"/disk/export?{args}&part=containers&format=csv").get_data(as_text=True).startswith(
        "container_id,container,device,op,ios")
    # a partial opened in a tab of its own leads to its page
    opened = client.get(f"/disk/data?{args}", headers={"Accept": "text/html"})
    assert opened.status_code == 302 and opened.location.startswith("/disk?")
