"""The live window's whole minutes, summed once and kept (LiveWindow._minute):
what a 24 h page reads from memory comes out as the store gives it from the
same rows, whatever the buckets, keys and filter, and a drain that comes late
for a minute already summed is in the next read."""

import datetime as dt

import numpy as np
import pytest

from pyperf.pipeline.live_window import LiveWindow
from pyperf.store import rollups
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

UTC = dt.timezone.utc
SERVERS = ((10, "nginx", 80), (10, "nginx", 443), (20, "api", 8080))
CPUS = (-1, 0, 1)
PCTS = ("user_pct", "nice_pct", "system_pct", "idle_pct", "iowait_pct", "irq_pct", "softirq_pct", "steal_pct")


@pytest.fixture
def store(tmp_path):
    s = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    yield s
    s.close()


def _drain(ts: float, rng) -> dict[str, dict[str, list]]:
    """One second's rows of both tables, as a drain gives them."""
    response = {k: [] for k in ("ts", "interval_ms", "pid", "comm", "port", "requests", "latency_sum_us",
                                "latency_hist", "p50_us", "p99_us")}
    for pid, comm, port in SERVERS:
        requests = int(rng.integers(0, 50))
        for k, v in (("ts", ts), ("interval_ms", 1000), ("pid", pid), ("comm", comm), ("port", port),
                     ("requests", requests), ("latency_sum_us", requests * 300),
                     # histograms of several lengths, as the probe stores them
                     ("latency_hist", rng.integers(0, 5, int(rng.integers(3, 20))).tolist()),
                     ("p50_us", 0.0), ("p99_us", 0.0)):
            response[k].append(v)
    busy = rng.uniform(0, 100, len(CPUS)).round(2).tolist()
    cpu = {"ts": [ts] * len(CPUS), "interval_ms": [1000] * len(CPUS), "cpu": list(CPUS), "busy_pct": busy,
           **{n: rng.uniform(0, 10, len(CPUS)).round(2).tolist() for n in PCTS}}
    return {"response_time": response, "system_cpu": cpu}


def _same(from_window, from_store, context) -> None:
    assert from_window.columns == from_store.columns, context
    assert len(from_window.rows) == len(from_store.rows) > 0, context
    for w, s in zip(from_window.rows, from_store.rows):
        assert w[0].timestamp() == s[0].replace(tzinfo=UTC).timestamp(), context
        for x, y in zip(w[1:], s[1:]):
            assert (list(x) == list(y)) if isinstance(x, list) else x == pytest.approx(y), (context, w, s)


def test_whole_minutes_read_summed_from_memory_answer_what_the_store_answers(store):
    rng = np.random.default_rng(7)
    start = dt.datetime.now(UTC).replace(second=0, microsecond=0).timestamp() - 480
    window = LiveWindow(tables=("response_time", "system_cpu"), seconds=900)
    for i in range(420):                        # seven minutes, a drain a second
        drain = _drain(start + i, rng)
        window.add(drain, start + i + 0.5)
        for table, rows in drain.items():
            store.insert(table, rows)
    # neither end on a minute: the edges are read row by row, the minutes between summed
    a, b = dt.datetime.fromtimestamp(start + 17.5, UTC), dt.datetime.fromtimestamp(start + 419.9, UTC)
    cases = (("response_time", ("comm", "port"), None), ("response_time", ("pid", "comm", "port"), None),
             ("response_time", (), {"comm": ["api"]}), ("response_time", ("port",), {"pid": [10], "port": [443]}),
             ("system_cpu", ("cpu",), None), ("system_cpu", (), {"cpu": -1}))
    for step in (60, 120, 300):
        for table, by, where in cases:
            read = dict(step_s=step, by=by, where=where, source="raw")
            _same(rollups.series(store, table, a, b, window=window, **read),
                  rollups.series(store, table, a, b, **read), (step, table, by, where))
    # they were: the whole minutes of both tables are held summed
    assert len(window._minutes["response_time"]) >= 5 and len(window._minutes["system_cpu"]) >= 5

    # a drain late for a minute already summed: in the next read, as in the store
    late = _drain(start + 125.25, rng)
    window.add({"response_time": late["response_time"]}, start + 421)
    store.insert("response_time", late["response_time"])
    read = dict(step_s=60, by=("comm", "port"), source="raw")
    _same(rollups.series(store, "response_time", a, b, window=window, **read),
          rollups.series(store, "response_time", a, b, **read), "late drain")


def test_a_minute_whose_drain_crosses_its_edge_is_read_row_by_row(store):
    """A drain whose rows carry two stamps across a minute's edge: neither minute is
    summed from drains (read from the rows), and the answer is the store's."""
    rng = np.random.default_rng(3)
    start = dt.datetime.now(UTC).replace(second=0, microsecond=0).timestamp() - 300
    window = LiveWindow(tables=("response_time", "system_cpu"), seconds=900)
    for i in range(240):
        drain = _drain(start + i, rng)
        if i == 119:                              # this drain's rows: one before the edge, two after
            drain["response_time"]["ts"] = [start + 119.5, start + 120.5, start + 120.5]
        window.add(drain, start + i + 0.9)
        for table, rows in drain.items():
            store.insert(table, rows)
    a, b = dt.datetime.fromtimestamp(start, UTC), dt.datetime.fromtimestamp(start + 240, UTC)
    read = dict(step_s=60, by=("pid", "comm", "port"), source="raw")
    _same(rollups.series(store, "response_time", a, b, window=window, **read),
          rollups.series(store, "response_time", a, b, **read), "crossing drain")
    assert start + 60 not in window._minutes["response_time"] and start + 120 not in window._minutes["response_time"]
    assert start in window._minutes["response_time"]
