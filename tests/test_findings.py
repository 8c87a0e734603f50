"""Findings and alerts against the real engine (chDB) without root: rows as the
probes store them, the rules over them, the report in every format, and the
alert state machine on a fake clock with a real local webhook receiver."""

import datetime as dt
import json
import threading

import pytest

from pyperf.analysis import alerts, findings, rules
from pyperf.analysis.report import build
from pyperf.commands import report as report_command
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store
from pyperf.web.timerange import TimeRange

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=10)
HOSTILE = "<img src=x onerror=alert(1)>{value}"


@pytest.fixture
def store(tmp_path):
    s = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="host-a").open()
    yield s
    s.close()


def hist(slot: int, n: int) -> list[int]:
    return [n if i == slot else 0 for i in range(32)]


def host_seconds(store, start: float, seconds: int, busy: float, memory: float = 40.0):
    ts = [start + i for i in range(seconds)]
    store.insert("system_cpu", {"ts": ts, "interval_ms": [1000] * seconds, "cpu": [-1] * seconds,
                                "busy_pct": [busy] * seconds, "idle_pct": [100 - busy] * seconds})
    store.insert("system_host", {"ts": ts, "interval_ms": [1000] * seconds, "mem_used_pct": [memory] * seconds,
                                 "psi_memory_some_pct": [0.0] * seconds, "swap_in_pages": [0] * seconds,
                                 "major_faults": [0] * seconds})


def container_seconds(store, start: float, seconds: int, cid: str, name: str, throttled: int, cpu_of_limit: float):
    n = seconds
    store.insert("container_resources", {
        "ts": [start + i for i in range(n)], "interval_ms": [1000] * n, "container_id": [cid] * n,
        "name": [name] * n, "runtime": ["docker"] * n, "mnt_ns": [7] * n, "cpu_pct_of_host": [10.0] * n,
        "cpu_pct_of_limit": [cpu_of_limit] * n, "cpu_limit_cores": [0.2] * n, "throttled_periods": [throttled] * n,
        "periods": [10] * n, "throttled_us": [throttled * 80_000] * n, "memory_bytes": [50 << 20] * n,
        "memory_limit_bytes": [1 << 30] * n, "memory_pct_of_limit": [5.0] * n, "oom_kills": [0] * n})


def server_seconds(store, start: float, seconds: int, slot: int):
    n = seconds
    store.insert("response_time", {"ts": [start + i for i in range(n)], "interval_ms": [1000] * n, "pid": [4242] * n,
                                   "comm": ["slowapi"] * n, "port": [8080] * n, "requests": [5] * n,
                                   "latency_sum_us": [5 * 2**slot] * n, "latency_hist": [hist(slot, 5)] * n,
                                   "p50_us": [2.0**slot] * n, "p99_us": [2.0**slot] * n})


def whole_range() -> TimeRange:
    return TimeRange("custom", NOW - dt.timedelta(minutes=5), NOW)


def test_rules_are_complete_data():
    assert len(rules.RULES) >= 15
    use = {(r.resource, r.kind) for r in rules.RULES}
    for resource in ("cpu", "memory", "disk", "network"):
        assert {(resource, "utilisation"), (resource, "saturation")} <= use, resource
    assert {("memory", "errors"), ("network", "errors")} <= use
    for r in rules.RULES:
        assert r.summary and r.recommendation and r.improvement and r.estimate, r.id


def test_each_finding_names_its_subject_with_evidence(store):
    start = NOW.timestamp() - 120
    host_seconds(store, start, 60, busy=90.0)
    container_seconds(store, start, 60, "c" * 64, "throttled-app", throttled=4, cpu_of_limit=98.0)
    container_seconds(store, start, 60, "d" * 64, "calm", throttled=0, cpu_of_limit=10.0)
    server_seconds(store, start, 60, slot=17)       # 131-262 ms
    found = findings.evaluate(store, whole_range())
    by_rule = {(f["rule"], f["subject"]): f for f in found}
    assert set(by_rule) == {("host_cpu_busy", "host-a"), ("container_cpu_throttled", "throttled-app"),
                            ("container_cpu_high", "throttled-app"), ("response_time", "slowapi (pid 4242) port 8080"),
                            ("resource_utilisation", "host-a")}            # CPU, the busiest resource, at 90 %
    cpu = by_rule[("host_cpu_busy", "host-a")]
    assert (cpu["severity"], cpu["evidence"]["cpu_busy_pct"], cpu["evidence"]["threshold"]) == ("warning", 90.0, 80.0)
    throttled = by_rule[("container_cpu_throttled", "throttled-app")]
    assert throttled["evidence"]["throttled_pct"] == 40.0 and throttled["severity"] == "warning"
    assert "19.2 s stalled" in throttled["summary"] and throttled["effort"] == "low"
    assert throttled["view"].startswith("/containers/" + "c" * 64)
    assert by_rule[("container_cpu_high", "throttled-app")]["severity"] == "critical"    # 98 % > 90 %
    slow = by_rule[("response_time", "slowapi (pid 4242) port 8080")]
    assert 131_000 < slow["evidence"]["p99_us"] < 263_000 and slow["evidence"]["requests"] == 300
    assert found[0]["severity"] == "critical"                                            # most severe first
    assert [f["rule"] for f in findings.evaluate(store, whole_range(), container="throttled-app")] == [
        "container_cpu_high", "container_cpu_throttled"]
    # a fingerprint is stable per rule, host and subject
    assert throttled["id"] == findings.fingerprint("container_cpu_throttled", "host-a", "c" * 64)


def test_a_quiet_host_has_no_finding_above_info(store):
    start = NOW.timestamp() - 120
    host_seconds(store, start, 60, busy=5.0)
    container_seconds(store, start, 60, "d" * 64, "calm", throttled=0, cpu_of_limit=10.0)
    server_seconds(store, start, 60, slot=10)       # 1-2 ms
    assert [f for f in findings.evaluate(store, whole_range()) if f["severity"] != "info"] == []


def test_a_threshold_change_applies_to_the_next_evaluation(store, monkeypatch):
    start = NOW.timestamp() - 120
    host_seconds(store, start, 60, busy=60.0)
    assert not findings.evaluate(store, whole_range())
    monkeypatch.setitem(rules_thresholds(), "cpu_pct", 50.0)
    assert [f["rule"] for f in findings.evaluate(store, whole_range())] == ["host_cpu_busy"]


def rules_thresholds():
    from pyperf.analysis import thresholds
    return thresholds.HOST


def test_report_json_text_html_and_a_hostile_name(store):
    start = NOW.timestamp() - 120
    host_seconds(store, start, 60, busy=20.0)
    container_seconds(store, start, 60, "e" * 64, HOSTILE, throttled=5, cpu_of_limit=50.0)
    r = build(store, whole_range(), alerts=[])
    assert set(r) >= {"range", "findings", "alerts", "flame_summary"}
    [f] = r["findings"]
    assert set(f) >= {"rule", "severity", "type", "scope", "subject", "summary", "evidence", "expected_improvement",
                      "effort", "appliable"}
    assert f["subject"] == HOSTILE and HOSTILE in f["summary"]       # a brace in a name is text, not a template
    json.dumps(r)
    assert HOSTILE in report_command._text(r)
    html = report_command._html(r)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    with pytest.raises(LookupError, match="no container 'nope'"):
        build(store, whole_range(), container="nope")


def test_an_alert_goes_pending_fires_holds_and_resolves(store, webhook):
    url, bodies = webhook
    clock = [NOW.timestamp()]
    a = alerts.Alerts(store, webhooks=(url,), for_s=30, period_s=10, clock=lambda: clock[0],
                      external_url="http://127.0.0.1:8080", rules=(rules.BY_ID["host_cpu_busy"],))

    def at(seconds: int, busy: float) -> list[str]:
        clock[0] = NOW.timestamp() + seconds
        host_seconds(store, clock[0] - 9.5, 10, busy)
        return [c["state"] for c in a.evaluate()]

    assert at(0, 90.0) == ["pending"]
    assert a.snapshot()[0]["annotations"]["state"] == "pending"
    assert at(20, 90.0) == []                 # not yet for 30 s
    assert at(40, 90.0) == ["firing"]
    assert at(60, 75.0) == []                 # under the threshold, over its clear level (72 %): still firing
    assert a.snapshot()[0]["annotations"]["state"] == "firing"
    assert at(80, 50.0) == ["resolved"]
    assert a.snapshot() == []
    assert at(100, 95.0) == ["pending"] and at(110, 10.0) == []      # a pending alert that passes leaves no trace
    a.close()
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    firing, resolved = bodies
    assert firing["version"] == "4" and firing["receiver"] == "pyperf"
    [alert] = firing["alerts"]
    assert alert["labels"]["alertname"] == "host_cpu_busy" and alert["labels"]["host"] == "host-a"
    assert alert["endsAt"] == alerts.NOT_ENDED and alert["generatorURL"].startswith("http://127.0.0.1:8080/?")
    assert alert["startsAt"] == alerts._iso(NOW.timestamp())
    assert resolved["alerts"][0]["fingerprint"] == alert["fingerprint"]
    assert resolved["alerts"][0]["endsAt"] == alerts._iso(NOW.timestamp() + 80)
    stored = alerts.history(store, NOW - dt.timedelta(minutes=1))
    assert [h["state"] for h in stored] == ["pending", "resolved", "firing", "pending"]
    assert a.history(NOW - dt.timedelta(minutes=1)) == stored       # nothing counted twice
    assert alerts.active_in_store(store)[0]["annotations"]["state"] == "pending"   # the last one, never resolved


def test_a_failing_webhook_is_logged_without_its_token(store, caplog, free_port):
    a = alerts.Alerts(store, webhooks=(f"http://127.0.0.1:{free_port}/hook?token=secret",), for_s=0,
                      clock=lambda: NOW.timestamp(), rules=(rules.BY_ID["host_cpu_busy"],))
    host_seconds(store, NOW.timestamp() - 9.5, 10, 99.0)
    a.retry_delays_s = ()
    assert [c["state"] for c in a.evaluate()] == ["pending", "firing"]
    a.close()
    assert a.send_failures == 1
    assert "secret" not in caplog.text and f"127.0.0.1:{free_port}/hook" in caplog.text


def test_alerts_page_panel_exports_and_apis(store):
    import io

    import pyarrow.parquet as pq

    from pyperf.web.app import create_app

    start = NOW.timestamp() - 120
    host_seconds(store, start, 60, busy=5.0)
    container_seconds(store, start, 60, "f" * 64, HOSTILE, throttled=5, cpu_of_limit=50.0)
    clock = [NOW.timestamp()]
    a = alerts.Alerts(store, for_s=0, clock=lambda: clock[0], rules=(rules.BY_ID["container_cpu_throttled"],))
    container_seconds(store, clock[0] - 9.5, 10, "f" * 64, HOSTILE, throttled=5, cpu_of_limit=50.0)
    assert [c["state"] for c in a.evaluate()] == ["pending", "firing"]

    class NoCollector:
        window = writer = None
    client = create_app(store, NoCollector(), user_sql=None, alerts=a).test_client()
    args = f"range=custom&from={(NOW - dt.timedelta(minutes=5)).isoformat()}&to={NOW.isoformat()}".replace("+", "%2B")
    page = client.get(f"/alerts/data?{args}").get_data(as_text=True)
    assert 'data-rule="container_cpu_throttled"' in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and 'data-state="firing"' in page
    panel = client.get("/alerts/active?compact=1").get_data(as_text=True)
    assert 'class="alert firing"' in panel and "<img src=x" not in panel
    assert 'id="overview-alerts"' in client.get("/overview").get_data(as_text=True)
    for fmt in ("csv", "json", "parquet"):
        answer = client.get(f"/alerts/export?{args}&part=findings&format={fmt}")
        assert answer.status_code == 200, (fmt, answer.get_data(as_text=True)[:300])
    table = pq.read_table(io.BytesIO(client.get(f"/alerts/export?{args}&part=findings&format=parquet").data))
    assert "container_cpu_throttled" in table.column("rule").to_pylist()
    body = client.get("/api/alerts?history=3600").get_json()
    assert [x["labels"]["alertname"] for x in body["active"]] == ["container_cpu_throttled"]
    assert [h["state"] for h in body["history"]] == ["firing", "pending"]
    assert client.get("/api/alerts?history=0").status_code == 400
    bad = client.get("/api/report?from=yesterday&to=now")
    assert bad.status_code == 400 and "ISO 8601" in bad.get_json()["error"]
    report = client.get(f"/api/report?from={(NOW - dt.timedelta(minutes=5)).isoformat()}&to={NOW.isoformat()}"
                        .replace("+", "%2B")).get_json()
    assert [f["rule"] for f in report["findings"]] == ["container_cpu_throttled"]
    assert [x["labels"]["alertname"] for x in report["alerts"]] == ["container_cpu_throttled"]


def test_the_guide_lists_every_rule_as_it_runs():
    from pyperf.analysis import guide
    text = guide.GUIDE.read_text()
    assert guide.updated(text) == text, "docs/performance_guide.md is stale: python -m pyperf.analysis.guide"
    for r in rules.RULES:
        assert f"| `{r.id}` |" in text


def test_a_series_unusual_for_its_hour_is_an_info_finding(store):
    import numpy as np
    rng = np.random.default_rng(1)
    end = NOW
    start = end - dt.timedelta(minutes=30)
    past = np.arange(start.timestamp() - 2 * 86400, start.timestamp(), 60.0)
    busy = 20 + rng.normal(0, 2, len(past))
    store.insert("system_cpu", {"ts": past.tolist(), "interval_ms": [1000] * len(past), "cpu": [-1] * len(past),
                                "busy_pct": busy.tolist()})
    now = np.arange(start.timestamp(), end.timestamp(), 60.0)

    def insert_range(level: float):
        store.insert("system_cpu", {"ts": now.tolist(), "interval_ms": [1000] * len(now), "cpu": [-1] * len(now),
                                    "busy_pct": (level + rng.normal(0, 2, len(now))).tolist()})
    insert_range(21.0)
    tr = TimeRange("custom", start, end)
    assert [f for f in findings.evaluate(store, tr, rules=(rules.BY_ID["anomaly"],))] == []
    insert_range(80.0)             # the same minutes again, far over: their mean is ~50 %, usually ~20 %
    [f] = findings.evaluate(store, tr, rules=(rules.BY_ID["anomaly"],))
    assert f["subject"] == "host CPU busy %" and f["severity"] == "info"
    assert f["evidence"]["anomaly_pct"] == 100.0 and f["evidence"]["max_score"] > 6
    assert "learned from its past week" in f["summary"]


def test_baseline_flags_spikes_and_sustained_shifts_only():
    import numpy as np
    from pyperf.analysis import baseline
    ts = np.arange(0, 3 * 86400, 60.0)
    assert baseline.fit(ts[:10], np.ones(10)) is None                        # too little past
    b = baseline.fit(ts, 50 + np.sin(np.arange(len(ts))))                     # wiggles of ±1 around 50
    assert abs(b.median[3] - 50) < 0.5
    s = np.array([0, 7, 0, 4, 4, 0, 4, 4, 4, 0], float)
    assert baseline.anomalous(s).tolist() == [False, True, False, False, False, False, True, True, True, False]
    flat = baseline.fit(ts, np.full(len(ts), 10.0))                           # a flat series keeps a floor
    assert baseline.scores(flat, ts[:1], [10.1])[0] < 1 and baseline.scores(flat, ts[:1], [20])[0] > 6


def test_efficiency_ratio_is_cpu_time_got_over_asked_for(store):
    start = NOW.timestamp() - 120
    host_seconds(store, start, 60, busy=50.0)
    ts = [start + i for i in range(60) for _ in (0, 1)]
    store.insert("system_cpu", {"ts": ts, "interval_ms": [1000] * 120, "cpu": [0, 1] * 60, "busy_pct": [100.0] * 120})
    # two CPUs busy for 60 s: 120 s of CPU time; tasks waited 120 s runnable on top of it
    store.insert("sched_cpu", {"ts": ts, "interval_ms": [1000] * 120, "cpu": [0, 1] * 60,
                               "runq_latency_sum_us": [1_000_000] * 120, "runq_waits": [10] * 120,
                               "runq_latency_hist": [hist(16, 10)] * 120})
    [f] = findings.evaluate(store, whole_range(), rules=(rules.BY_ID["efficiency_ratio"],))
    assert f["evidence"]["efficiency_ratio"] == 0.5 and f["severity"] == "warning"     # under 0.6, over 0.3
    assert "got 0.50 of the CPU time they asked for" in f["summary"]


def test_a_silenced_alert_is_kept_but_not_sent(store, webhook):
    from pyperf.web.app import create_app
    url, bodies = webhook
    clock = [NOW.timestamp()]
    a = alerts.Alerts(store, webhooks=(url,), for_s=0, clock=lambda: clock[0], rules=(rules.BY_ID["host_cpu_busy"],))

    class NoCollector:
        window = writer = None
    client = create_app(store, NoCollector(), user_sql=None, alerts=a).test_client()
    bad = client.post("/alerts/silences", data={"rule": "<script>", "hours": "1"})
    assert bad.status_code == 400 and "unknown rule" in bad.get_data(as_text=True) and "<script>" not in bad.get_data(as_text=True)
    assert client.post("/alerts/silences", data={"rule": "host_cpu_busy", "hours": "1000"}).status_code == 400
    made = client.post("/alerts/silences", data={"rule": "host_cpu_busy", "subject": "", "hours": "1",
                                                 "comment": "maintenance"}).get_data(as_text=True)
    [silence] = alerts.silences(store)
    assert f'data-silence="{silence["id"]}"' in made and silence["comment"] == "maintenance"
    host_seconds(store, clock[0] - 9.5, 10, 99.0)
    assert [c["state"] for c in a.evaluate()] == ["pending", "firing"]
    assert a.snapshot()[0]["annotations"]["silenced"] == "true"
    assert "silenced" in client.get("/alerts/active").get_data(as_text=True)
    client.post("/alerts/silences", data={"end": silence["id"]})
    assert alerts.silences(store) == []
    clock[0] += 10
    host_seconds(store, clock[0] - 9.5, 10, 10.0)
    assert [c["state"] for c in a.evaluate()] == ["resolved"]          # sent: the silence has ended
    a.close()
    assert [b["status"] for b in bodies] == ["resolved"]
    assert [h["state"] for h in alerts.history(store, NOW - dt.timedelta(minutes=1))] == ["resolved", "firing",
                                                                                          "pending"]


def test_resets_with_one_peer_and_a_process_missing_the_page_cache(store):
    start = NOW.timestamp() - 120
    n = 60
    store.insert("tcp_event", {"ts": [start + i / 3 for i in range(3 * n)], "kind": ["reset_received"] * 3 * n, "pid": [9] * 3 * n,
                               "comm": ["client"] * 3 * n, "saddr": ["::ffff:10.0.0.1"] * 3 * n,
                               "sport": [40000] * 3 * n, "daddr": ["::ffff:10.0.0.9"] * 3 * n, "dport": [5432] * 3 * n,
                               "state": ["ESTABLISHED"] * 3 * n, "segs": [0] * 3 * n, "err": [0] * 3 * n,
                               "net_ns": [0] * 3 * n})          # 36 a minute over the 5-minute range
    store.insert("faults_process", {"ts": [start + i for i in range(n)], "interval_ms": [1000] * n, "pid": [77] * n,
                                    "comm": ["scanner"] * n, "mnt_ns": [1] * n, "cgroup_id": [0] * n,
                                    "minor_faults": [0] * n, "major_faults": [0] * n,
                                    "cache_lookups": [10_000] * n, "cache_added": [5_000] * n})
    found = {f["rule"]: f for f in findings.evaluate(store, whole_range(), rules=(
        rules.BY_ID["peer_resets"], rules.BY_ID["page_cache_misses"]))}
    assert found["peer_resets"]["subject"] == "10.0.0.9:5432" and found["peer_resets"]["evidence"]["resets"] == 180
    assert found["page_cache_misses"]["subject"] == "scanner (pid 77)"
    assert found["page_cache_misses"]["evidence"]["cache_hit_ratio"] == 0.5


def test_the_overview_draws_the_usual_range_behind_cpu_and_memory(store):
    """A week's past learned into a band on the Overview's charts: served as two
    series and filled between them by charts.js, in headless Chromium."""
    import numpy as np
    from werkzeug.serving import make_server

    from conftest import chromium_page
    from pyperf.web.app import create_app
    from pyperf.web.overview_queries import BANDS

    now = dt.datetime.now(dt.timezone.utc).timestamp()
    past = np.arange(now - 2 * 86400, now - 3600, 60.0)
    n = len(past)
    store.insert("system_cpu", {"ts": past.tolist(), "interval_ms": [1000] * n, "cpu": [-1] * n,
                                "busy_pct": (20 + 2 * np.sin(past / 600)).tolist()})
    store.insert("system_host", {"ts": past.tolist(), "interval_ms": [1000] * n, "mem_used_pct": [40.0] * n})
    host_seconds(store, now - 600, 300, busy=60.0, memory=41.0)
    BANDS._fitted.clear()

    class NoCollector:
        window = writer = None
    app = create_app(store, NoCollector(), user_sql=None)
    charts = app.test_client().get("/overview/data?range=1h").get_data(as_text=True)
    assert '"usual (low)"' in charts and '"usual (high)"' in charts
    from pyperf.web import overview_queries
    tiles = overview_queries.tiles(overview_queries.host_charts(store, TimeRange("custom", NOW, NOW + dt.timedelta(
        minutes=10))))
    assert [t["peak"] for t in tiles if t["title"] == "CPU"] == [60.0]           # the band is not a value
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with chromium_page() as (page, errors):
            page.goto(f"http://127.0.0.1:{server.server_port}/overview?range=1h")
            page.wait_for_function("window.pyperfCharts && window.pyperfCharts.cpu", timeout=20000)
            labels = page.evaluate("window.pyperfCharts.cpu.series.map(s => s.label)")
            assert sorted(labels[1:]) == ["busy", "usual (high)", "usual (low)"]
            assert page.evaluate("window.pyperfCharts.cpu.bands.length") == 1
            assert page.evaluate("window.pyperfCharts.memory.bands.length") == 1
            assert errors == []
    finally:
        server.shutdown()


def test_auto_apply_fixes_a_turned_on_rule_once_per_cool_down(store, monkeypatch, caplog):
    from pyperf.analysis import actions, auto_apply

    caplog.set_level("INFO", "pyperf.auto_apply")
    made, mono = [], [0.0]

    def plan(finding, cid, name):
        if name == "refused-app":
            raise actions.ApplyError("docker update failed: no such container")
        return {"finding": finding["id"], "rule": finding["rule"], "container_id": cid, "container": name,
                "command": ["docker", "update", "--cpus", "0.3", cid], "before": {"NanoCpus": 200_000_000},
                "after": {"NanoCpus": 300_000_000}, "why": "test"}

    for ns, cid, name in ((7, "c" * 64, "busy-app"), (8, "d" * 64, "refused-app")):   # Docker's: appliable
        store.insert("containers", {"ts": [NOW.timestamp()], "mnt_ns": [ns], "cgroup_id": [0], "id": [cid],
                                    "name": [name], "runtime": ["docker"]})
    fixer = auto_apply.AutoApply(store, clock=lambda: mono[0], cooldown_s=900, plan=plan, execute=made.append)
    clock = [NOW.timestamp()]
    a = alerts.Alerts(store, for_s=30, period_s=10, clock=lambda: clock[0], rules=(), fixer=fixer)

    def at(seconds: int, throttled: int, name: str = "busy-app") -> list[str]:
        clock[0] = NOW.timestamp() + seconds
        mono[0] = float(seconds)
        container_seconds(store, clock[0] - 9.5, 10, "c" * 64 if name == "busy-app" else "d" * 64, name,
                          throttled, 95.0)
        return [c["state"] for c in a.evaluate()]

    assert at(0, 8) == [] and not made                  # off by default: not even watched
    monkeypatch.setitem(auto_apply.ENABLED, "container_cpu_throttled", True)
    assert at(10, 8) == ["pending"] and not made
    assert at(50, 8) == ["firing"] and len(made) == 1   # fixed when it fires, as `pyperf apply --yes` would
    [change] = actions.changes(store)
    assert (change["who"], change["container"], change["action"]) == ("pyperf auto-apply", "busy-app", "apply")
    assert at(70, 0) == ["resolved"]
    assert at(80, 8) == ["pending"] and at(120, 8) == ["firing"]
    assert len(made) == 1 and "cool-down" in caplog.text   # fired again within 15 min: left alone
    assert at(1000, 0) == ["resolved"] and at(1010, 8) == ["pending"] and at(1050, 8) == ["firing"]
    assert len(made) == 2                               # after the cool-down, the next step
    assert sorted(at(1100, 8, name="refused-app")) == ["pending", "resolved"]   # busy-app quiet: gone
    assert "firing" in at(1140, 8, name="refused-app") and len(made) == 2
    assert fixer.failed == 1 and "not applied: docker update failed" in caplog.text
    monkeypatch.setitem(auto_apply.ENABLED, "container_cpu_throttled", False)
    assert at(3000, 8) == ["resolved"] and a.snapshot() == []   # turned off: no longer watched, its alert ends


def test_io_limits_read_and_write_both_cgroup_versions(tmp_path):
    from pyperf.analysis import io_limits

    v1 = {"read": tmp_path / "r", "write": tmp_path / "w"}
    v1["read"].write_text("8:0 100\n7:3 250\n")
    v1["write"].write_text("")
    assert io_limits.read(v1, 7, 3) == {"read_iops": 250, "write_iops": 0}
    assert io_limits.lines(v1, 7, 3, {"read_iops": 40, "write_iops": 0}) == [(v1["read"], "7:3 40"),
                                                                            (v1["write"], "7:3 0")]
    v2 = {"io.max": tmp_path / "io.max"}
    v2["io.max"].write_text("7:3 rbps=max wbps=max riops=120 wiops=max\n")
    assert io_limits.read(v2, 7, 3) == {"read_iops": 120, "write_iops": 0}
    assert io_limits.read(v2, 8, 0) == {"read_iops": 0, "write_iops": 0}
    assert io_limits.lines(v2, 7, 3, {"read_iops": 0, "write_iops": 9}) == [(v2["io.max"], "7:3 riops=max wiops=9")]
    for hostile in ("../../etc", "", "sda/../x"):
        with pytest.raises(ValueError):
            io_limits.device_numbers(hostile)
