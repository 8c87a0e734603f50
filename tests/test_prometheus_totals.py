"""/metrics families generated from the column spec (pyperf.pipeline.prometheus_totals):
names and units from the spec, counters summed over drains, gauges the latest
row, histograms cumulative in seconds, hostile label values escaped, series
forgotten when gone. Pure: drains are column dicts as the probes hand over."""

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pyperf.pipeline import prometheus_totals
from pyperf.pipeline.prometheus_totals import MetricTotals, families_of
from pyperf.schema import COUNTER, GAUGE, HISTOGRAM, KEY, catalog


def scrape(totals: MetricTotals) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted labels: value}} as a Prometheus server parses the text."""
    class One:
        def collect(self):
            return totals.families()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def disk_drain(ts, ios, hist, device="vda"):
    return {"disk_io": {"ts": [ts], "host": ["h"], "interval_ms": [1000], "device": [device], "op": ["read"],
                        "ios": [ios], "bytes": [ios * 4096], "latency_sum_us": [ios * 100], "latency_hist": [hist]}}


def test_every_exported_column_has_a_family_named_from_the_spec():
    for table in catalog.tables():
        if not table.metrics:
            continue
        labels, fams = families_of(table)
        assert "host" not in labels and "ts" not in labels
        covered = {f.column for f in fams} | {f.sum_column for f in fams} | set(labels) | {"ts", "host", "interval_ms"}
        # with metric_labels, the other keys are summed away and gauges are not exported
        left_out = (KEY, GAUGE) if table.metric_labels else ()
        for c in table.columns:
            if c.kind in (KEY, COUNTER, GAUGE, HISTOGRAM) and c.kind not in left_out:
                assert c.name in covered, (table.name, c.name)
        for f in fams:
            assert f.name.startswith(f"pyperf_{table.name}_") and not f.name.endswith(("_us", "_pct")), f.name
    labels, fams = families_of(catalog.table("disk_io"))
    assert labels == ("device", "op")
    by_column = {f.column: f for f in fams}
    assert by_column["latency_hist"].name == "pyperf_disk_io_latency_seconds"
    assert by_column["latency_hist"].sum_column == "latency_sum_us"
    assert "latency_sum_us" not in by_column          # it is the histogram's sum, not a family of its own
    assert by_column["bytes"].name == "pyperf_disk_io_bytes"
    throttled = {f.column: f for f in families_of(catalog.table("container_resources"))[1]}["throttled_us"]
    assert (throttled.name, throttled.scale) == ("pyperf_container_resources_throttled_seconds", 1e-6)


def test_counters_add_up_gauges_keep_the_latest_histograms_are_cumulative_seconds():
    totals = MetricTotals(catalog.tables())
    totals.add(disk_drain(100.0, 3, [1, 2, 0]))
    totals.add(disk_drain(101.0, 5, [0, 1, 4, 0]))       # a longer histogram than the first
    host = {"ts": [101.0], "host": ["h"], "interval_ms": [1000], "mem_total_bytes": [8 << 30],
            "mem_used_pct": [41.5], "page_faults": [10], "tcp_states": [{"ESTABLISHED": 7, "TIME_WAIT": 2}]}
    totals.add({"system_host": host})
    totals.add({"system_host": {**host, "ts": [102.0], "mem_used_pct": [43.0], "page_faults": [15],
                                "tcp_states": [{"ESTABLISHED": 9}]}})
    m = scrape(totals)
    vda = (("device", "vda"), ("op", "read"))
    assert m["pyperf_disk_io_ios_total"][vda] == 8
    assert m["pyperf_disk_io_bytes_total"][vda] == 8 * 4096
    buckets = {dict(k)["le"]: v for k, v in m["pyperf_disk_io_latency_seconds_bucket"].items()}
    # slot 0 < 2 µs, slot 1 [2, 4) µs, slot 2 [4, 8) µs: 1, 3, 4 requests
    assert (buckets["2e-06"], buckets["4e-06"], buckets["8e-06"], buckets["+Inf"]) == (1, 4, 8, 8)
    assert m["pyperf_disk_io_latency_seconds_count"][vda] == 8
    assert abs(m["pyperf_disk_io_latency_seconds_sum"][vda] - 800e-6) < 1e-12
    assert m["pyperf_system_host_mem_used_percent"][()] == 43.0
    assert m["pyperf_system_host_page_faults_total"][()] == 25
    assert m["pyperf_system_host_tcp_states"] == {(("state", "ESTABLISHED"),): 9.0}
    # read twice: nothing is counted twice
    assert scrape(totals)["pyperf_disk_io_ios_total"][vda] == 8


def test_hostile_label_values_come_back_as_the_same_text():
    hostile = '"><script>alert(1)</script>\n} x{a="b"} 1'
    totals = MetricTotals(catalog.tables())
    totals.add(disk_drain(100.0, 1, [1], device=hostile))
    m = scrape(totals)
    assert m["pyperf_disk_io_ios_total"] == {(("device", hostile), ("op", "read")): 1.0}


def test_a_series_gone_for_longer_than_forget_s_is_dropped(monkeypatch):
    monkeypatch.setattr(prometheus_totals, "MAX_PENDING", 0)       # fold every drain as it comes
    totals = MetricTotals(catalog.tables())
    totals.add(disk_drain(1000.0, 1, [1], device="gone"))
    totals.add(disk_drain(1000.0 + prometheus_totals.FORGET_S - 1, 1, [1], device="vda"))
    assert {dict(k)["device"] for k in scrape(totals)["pyperf_disk_io_ios_total"]} == {"gone", "vda"}
    totals.add(disk_drain(1000.0 + prometheus_totals.FORGET_S + 1, 1, [1], device="vda"))
    assert {dict(k)["device"] for k in scrape(totals)["pyperf_disk_io_ios_total"]} == {"vda"}


def test_drains_wait_unsummed_until_read_or_too_many(monkeypatch):
    monkeypatch.setattr(prometheus_totals, "MAX_PENDING", 3)
    totals = MetricTotals(catalog.tables())
    for i in range(3):
        totals.add(disk_drain(100.0 + i, 1, [1]))
    assert len(totals._pending) == 3
    totals.add(disk_drain(103.0, 1, [1]))
    assert totals._pending == []
    assert scrape(totals)["pyperf_disk_io_ios_total"][(("device", "vda"), ("op", "read"))] == 4


def test_a_server_forking_per_connection_is_one_series_not_one_a_process():
    """response_time rows are per server process and port; on /metrics a series is
    per command and port: 20 000 short-lived server processes are one series
    whose counters and histogram add theirs up (a pid label made a series per
    process, each kept 15 minutes), and there is no p50/p99 gauge (a row's value:
    histogram_quantile() over the histogram gives it for the sum)."""
    totals = MetricTotals(catalog.tables())
    n = 20_000
    for second in range(2):
        pids = list(range(1000 + second * n, 1000 + (second + 1) * n))
        totals.add({"response_time": {
            "ts": [100.0 + second] * n, "host": ["h"] * n, "interval_ms": [1000] * n, "pid": pids,
            "comm": ["cgi-server"] * n, "port": [8080] * n, "requests": [1] * n, "latency_sum_us": [300] * n,
            "latency_hist": [[0, 0, 0, 0, 0, 0, 0, 0, 1]] * n, "p50_us": [300.0] * n, "p99_us": [300.0] * n}})
    got = scrape(totals)
    one = (("comm", "cgi-server"), ("port", "8080"))
    assert got["pyperf_response_time_requests_total"] == {one: 2 * n}
    assert got["pyperf_response_time_latency_seconds_count"] == {one: 2 * n}
    assert got["pyperf_response_time_latency_seconds_sum"][one] == pytest.approx(2 * n * 300e-6)
    assert not any(name.startswith(("pyperf_response_time_p50", "pyperf_response_time_p99")) for name in got)
    assert len(totals._series["response_time"]) == 1
