"""Rollups in the real ClickHouse engine (chDB): the 1-minute and 1-hour levels
give the same sums, extremes and histograms as the raw rows; the query helper
picks the level by range; a store of the previous schema version is upgraded
in place with every row kept and the rollups back-filled."""

import datetime as dt
import re

import numpy as np
import pytest

from pyperf.analysis.histogram import HIST_SLOTS
from pyperf.schema import GRANULE_BYTES
from pyperf.store import migrations, rollups
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

UTC = dt.timezone.utc
HOURS = 3


def _disk_rows(start: float, seconds: int, seed: int = 1) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    ios = rng.integers(0, 500, seconds)
    hist = rng.integers(0, 50, (seconds, 32))
    return {"ts": [start + i for i in range(seconds)], "interval_ms": [1000] * seconds,
            "device": ["vda"] * seconds, "op": ["read"] * seconds, "ios": ios.tolist(),
            "bytes": (ios * 4096).tolist(), "latency_sum_us": (ios * 250).tolist(),
            "latency_hist": hist.tolist()}


def _cpu_rows(start: float, seconds: int) -> dict[str, list]:
    rng = np.random.default_rng(2)
    busy = rng.uniform(0, 100, seconds).round(2)
    names = ("user_pct", "nice_pct", "system_pct", "idle_pct", "iowait_pct", "irq_pct", "softirq_pct", "steal_pct")
    return {"ts": [start + i for i in range(seconds)], "interval_ms": [1000] * seconds, "cpu": [0] * seconds,
            "busy_pct": busy.tolist(), **{n: [0.0] * seconds for n in names}}


@pytest.fixture
def store(tmp_path):
    s = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    yield s
    s.close()


def _hour_start() -> dt.datetime:
    now = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - dt.timedelta(hours=HOURS + 1)


def test_every_level_gives_the_raw_sums_extremes_and_histograms(store):
    start = _hour_start()
    disk = _disk_rows(start.timestamp(), HOURS * 3600)
    store.insert("disk_io", disk)
    store.insert("system_cpu", _cpu_rows(start.timestamp(), HOURS * 3600))
    end = start + dt.timedelta(hours=HOURS)
    minutes = {"1m": HOURS * 60 + 60, "1h": HOURS + 1}    # up to `now`'s minute: the hour after is empty
    assert rollups.roll_up(store, end + dt.timedelta(hours=1)) == {"disk_io": minutes, "system_cpu": minutes}
    results = {}
    for level in ("raw", "1m", "1h"):
        got, step, columns, rows = rollups.series(store, "disk_io", start, end, step_s=3600, source=level)
        assert step == 3600
        assert got == level and len(rows) == HOURS
        results[level] = [dict(zip(columns, r)) for r in rows]
    for level in ("1m", "1h"):
        for raw, rolled in zip(results["raw"], results[level]):
            assert rolled["samples"] == raw["samples"] == 3600
            assert (rolled["ios"], rolled["bytes"], rolled["latency_sum_us"]) == (
                raw["ios"], raw["bytes"], raw["latency_sum_us"])
            assert list(rolled["latency_hist"]) == list(raw["latency_hist"])
    assert sum(r["ios"] for r in results["raw"]) == sum(disk["ios"])
    assert list(results["raw"][0]["latency_hist"]) == np.array(disk["latency_hist"][:3600]).sum(axis=0).tolist()

    cpu = {}
    for level in ("raw", "1m", "1h"):
        _, _, columns, rows = rollups.series(store, "system_cpu", start, end, step_s=HOURS * 3600, source=level,
                                          by=("cpu",), extremes=True)
        cpu[level] = dict(zip(columns, rows[0]))
    for level in ("1m", "1h"):
        assert cpu[level]["busy_pct_min"] == pytest.approx(cpu["raw"]["busy_pct_min"], abs=1e-4)
        assert cpu[level]["busy_pct_max"] == pytest.approx(cpu["raw"]["busy_pct_max"], abs=1e-4)
        assert cpu[level]["busy_pct_avg"] == pytest.approx(cpu["raw"]["busy_pct_avg"], rel=1e-6)


def test_rollups_continue_where_they_stopped_once_each_and_only_for_this_host(tmp_path):
    """roll_up continues after the last minute and hour it rolled up, a repeat adds
    nothing (also after a crash between insert and bookkeeping: the token), an hour
    waits for all its minutes, and another agent's rows in a shared store stay that
    agent's to roll up."""
    dsn = parse_dsn(f"chdb://{tmp_path}/store")
    store = Store(dsn, host_name="a").open()
    try:
        start = _hour_start()
        first, second = _disk_rows(start.timestamp(), 3600), _disk_rows(start.timestamp() + 3600, 3600, seed=5)
        store.insert("disk_io", first)
        store.host_name = "b"                      # another agent writing to the same store
        store.insert("disk_io", _disk_rows(start.timestamp(), 3600, seed=9))
        store.host_name = "a"
        assert rollups.roll_up(store, start + dt.timedelta(minutes=90)) == {"disk_io": {"1m": 90, "1h": 1}}
        # minutes 60-89 had no rows yet: they are rolled up with the rows that come later
        store.insert("disk_io", second)
        assert rollups.roll_up(store, start + dt.timedelta(minutes=110)) == {"disk_io": {"1m": 50, "1h": 0}}
        assert rollups.roll_up(store, start + dt.timedelta(hours=2)) == {"disk_io": {"1m": 10, "1h": 1}}
        assert rollups.roll_up(store, start + dt.timedelta(hours=2)) == {}
        hours = store.query("SELECT ts, sum(samples), sum(ios) FROM disk_io_1h WHERE host = 'a' "
                            "GROUP BY ts ORDER BY ts").rows
        assert [h[1:] for h in hours] == [(3600, sum(first["ios"])), (3600, sum(second["ios"]))]
        assert store.query("SELECT count() FROM disk_io_1h WHERE host = 'b'").rows[0][0] == 0
        assert store.query("SELECT count() FROM disk_io_1m WHERE host = 'b'").rows[0][0] == 0
        # the first hour again (a crash before the next run saw its rows): the token drops it
        begin, end = start.replace(tzinfo=None), (start + dt.timedelta(hours=1)).replace(tzinfo=None)
        token = f"pyperf-1h-a-disk_io-{begin:%Y%m%d%H%M}-{end:%Y%m%d%H%M}"
        store.command(f"INSERT INTO disk_io_1h {rollups.hourly_select(rollups.stored()['disk_io'])} "
                      "SETTINGS insert_deduplication_token = {token:String}",
                      {"host": "a", "start": begin, "end": end, "token": token})
        assert store.query("SELECT sum(samples) FROM disk_io_1h WHERE host = 'a' AND ts = {t:DateTime}",
                           {"t": begin}).rows[0][0] == 3600
        # an hour summed from minute states equals the raw sum, histograms included
        _, _, columns, rows = rollups.series(store, "disk_io", start, start + dt.timedelta(hours=1), step_s=3600,
                                             source="1h")
        assert list(dict(zip(columns, rows[0]))["latency_hist"]) == np.array(first["latency_hist"]).sum(axis=0).tolist()
    finally:
        store.close()


def test_the_minutes_not_rolled_up_yet_are_read_from_the_raw_rows(store):
    start = _hour_start()
    disk = _disk_rows(start.timestamp(), 7200)
    store.insert("disk_io", disk)
    end = start + dt.timedelta(hours=2)
    for rolled_until in (start, start + dt.timedelta(minutes=47, seconds=0), end):
        if rolled_until > start:
            rollups.roll_up(store, rolled_until)
        got, step, columns, rows = rollups.series(store, "disk_io", start, end, step_s=600, source="1m")
        assert got == "1m" and step == 600 and len(rows) == 12
        series = [dict(zip(columns, r)) for r in rows]
        assert [s["samples"] for s in series] == [600] * 12
        assert sum(s["ios"] for s in series) == sum(disk["ios"])
        assert list(series[4]["latency_hist"]) == np.array(disk["latency_hist"][2400:3000]).sum(axis=0).tolist()


def test_the_level_follows_the_range():
    assert rollups.source_for(span_s=600, age_s=600) == "raw"
    assert rollups.source_for(span_s=86400, age_s=86400) == "1m"
    assert rollups.source_for(span_s=600, age_s=10 * 86400) == "1m"      # older than raw's 3 days
    assert rollups.source_for(span_s=30 * 86400, age_s=30 * 86400) == "1h"


def test_helper_filters_by_key_and_host(store):
    start = _hour_start()
    rows = _disk_rows(start.timestamp(), 120)
    store.insert("disk_io", rows)
    other = _disk_rows(start.timestamp(), 120, seed=3)
    other["device"] = ["vdb"] * 120
    store.insert("disk_io", other)
    end = start + dt.timedelta(minutes=2)
    _, _, columns, got = rollups.series(store, "disk_io", start, end, step_s=120, where={"device": "vdb"})
    assert [dict(zip(columns, r))["ios"] for r in got] == [sum(other["ios"])]
    assert rollups.series(store, "disk_io", start, end, host="another-host").rows == []
    with pytest.raises(ValueError):
        rollups.series(store, "disk_io", start, end, by=("no_such_key",))


def test_store_of_the_previous_version_is_upgraded_in_place(tmp_path):
    dsn = parse_dsn(f"chdb://{tmp_path}/store")
    old = Store(dsn).open(upto=19)
    start = _hour_start()
    disk = _disk_rows(start.timestamp(), 7200)
    old.insert("disk_io", disk)
    old.insert("system_cpu", _cpu_rows(start.timestamp(), 600))
    old.insert("profile_stack", {"ts": [start.timestamp()], "interval_ms": [1000], "pid": [7], "comm": ["app"],
                                 "mnt_ns": [1], "stack": [["main", "work", "leaf_[k]"]], "samples": [5], "hz": [49]})
    before = {t: old.query(f"SELECT count() FROM {t}").rows[0][0] for t in ("disk_io", "system_cpu")}
    assert not [r for r in old.query("SHOW TABLES").rows if r[0].endswith("_1m")]
    old.close()

    new = Store(dsn).open()
    try:
        after = {t: new.query(f"SELECT count() FROM {t}").rows[0][0] for t in ("disk_io", "system_cpu")}
        versions = [r[0] for r in new.query("SELECT version FROM schema_migrations ORDER BY version").rows]
        rolled = new.query("SELECT sum(samples), sum(ios) FROM disk_io_1h").rows[0]
        cpu_rolled = new.query("SELECT sum(samples) FROM system_cpu_1m").rows[0][0]
        folded = new.query("SELECT folded, samples FROM profile_stack").rows
    finally:
        new.close()
    assert after == before == {"disk_io": 7200, "system_cpu": 600}
    assert versions[-1] >= 20
    assert rolled == (7200, sum(disk["ios"]))           # back-filled from the rows already there
    assert cpu_rolled == 600
    assert folded == [("main;work;leaf_[k]", 5)]       # stacks stored as arrays read as folded strings


def test_retention_is_configurable(store):
    rollups.apply_retention(store, {"raw": 7, "1m": 60, "1h": 730})
    engines = dict(store.query("SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() "
                               "AND name IN ('disk_io', 'disk_io_1m', 'disk_io_1h')").rows)
    assert "toIntervalDay(7)" in engines["disk_io"]
    assert "toIntervalDay(60)" in engines["disk_io_1m"] and "toIntervalDay(730)" in engines["disk_io_1h"]


def test_the_live_window_answers_what_the_store_answers(store):
    """Live views read the last minutes from memory: the same rows give the same
    buckets, sums, extremes and histograms there as from the store, and a range
    that starts before the window is read from both, each part once."""
    from pyperf.pipeline.live_window import LiveWindow

    now = dt.datetime.now(UTC).replace(microsecond=0).timestamp()
    start = now - 600
    older = _disk_rows(start, 300, seed=3)                    # before the agent started: store only
    recent = _disk_rows(start + 300, 300, seed=4)             # since: store and window
    recent["device"] = ["vda", "vdb"] * 150
    cpu = _cpu_rows(start + 300, 300)
    store.insert("disk_io", older)
    store.insert("disk_io", recent)
    store.insert("system_cpu", cpu)
    window = LiveWindow(tables=("disk_io", "system_cpu"), seconds=900)
    for i in range(300):                                       # as the collector adds each drain
        one = {"disk_io": {k: [v[i]] for k, v in recent.items()},
               "system_cpu": {k: [v[i]] for k, v in cpu.items()}}
        window.add(one, recent["ts"][i])
    a, b = dt.datetime.fromtimestamp(start + 300, UTC), dt.datetime.fromtimestamp(now, UTC)
    for table, by, step, extremes in (("disk_io", ("device",), 7, False), ("disk_io", (), 60, False),
                                      ("system_cpu", ("cpu",), 10, True), ("system_cpu", ("cpu",), 10, ("idle_pct",))):
        read = dict(step_s=step, by=by, source="raw", extremes=extremes)
        from_store = rollups.series(store, table, a, b, **read)
        from_window = rollups.series(store, table, a, b, window=window, **read)
        assert ("busy_pct_min" in from_store.columns) == (extremes is True)
        assert from_window.columns == from_store.columns
        assert len(from_window.rows) == len(from_store.rows) > 0
        for w, s in zip(from_window.rows, from_store.rows):
            assert w[0].timestamp() == s[0].replace(tzinfo=UTC).timestamp()
            for x, y in zip(w[1:], s[1:]):
                assert (list(x) == list(y)) if isinstance(x, list) else x == pytest.approx(y), (table, w, s)
    # one of several values: the same rows from both
    for where in ({"device": ["vdb"]}, {"device": ("vda", "vdb", "none")}, {"cpu": [-1, 0]}):
        table = "system_cpu" if "cpu" in where else "disk_io"
        from_store = rollups.series(store, table, a, b, step_s=30, where=where, source="raw")
        from_window = rollups.series(store, table, a, b, step_s=30, where=where, source="raw", window=window)
        assert len(from_window.rows) == len(from_store.rows) > 0, where
        samples = from_store.columns.index("samples")
        assert [r[samples] for r in from_window.rows] == [r[samples] for r in from_store.rows], where
    # a range reaching before the window: the store's part, then the window's, no bucket twice
    whole = rollups.series(store, "disk_io", dt.datetime.fromtimestamp(start, UTC), b, step_s=60, source="raw",
                           window=window)
    plain = rollups.series(store, "disk_io", dt.datetime.fromtimestamp(start, UTC), b, step_s=60, source="raw")
    assert [r[0].timestamp() for r in whole.rows] == [r[0].replace(tzinfo=UTC).timestamp() for r in plain.rows]
    assert {r[0].tzinfo for r in whole.rows} == {None}        # one kind of time (the store's): the rows sort
    assert [r[2:] for r in whole.rows] == [r[2:] for r in plain.rows]
    # rows older than the window are forgotten
    window.add({}, now + 900)
    assert window.rows("disk_io", 0) == {}


def test_minute_points_join_store_and_window_at_a_minute_the_window_cuts(store):
    """The baselines' 1-minute points (read as columns): a minute the window's
    first row falls in is read half from the store, half from memory, and comes
    out as the store alone gives it: counters summed, gauges weighted by rows."""
    from pyperf.pipeline.live_window import LiveWindow

    now = dt.datetime.now(UTC).replace(second=0, microsecond=0).timestamp()
    start = now - 600
    disk = _disk_rows(start, 600, seed=5)
    disk["device"] = ["vda", "vdb", "vdc"] * 200
    cpu = _cpu_rows(start, 600)
    cpu["busy_pct"][300], cpu["busy_pct"][345] = -1.0, 101.0     # the cut minute's extremes: one in each part
    store.insert("disk_io", disk)
    store.insert("system_cpu", cpu)
    window = LiveWindow(tables=("disk_io", "system_cpu"), seconds=900)
    for i in range(330, 600):            # the agent started 30 s into a minute
        window.add({"disk_io": {k: [v[i]] for k, v in disk.items()},
                    "system_cpu": {k: [v[i]] for k, v in cpu.items()}}, disk["ts"][i])
    a, b = dt.datetime.fromtimestamp(start, UTC), dt.datetime.fromtimestamp(now, UTC)
    for table, column, by, per_second in (("disk_io", "ios", ("device",), True), ("disk_io", "ios", (), True),
                                          ("system_cpu", "busy_pct_avg", (), False)):
        alone = rollups.minute_points(store, table, a, b, column, by=by, per_second=per_second)
        both = rollups.minute_points(store, table, a, b, column, by=by, per_second=per_second, window=window)
        assert sorted(alone) == sorted(both) and len(alone) == (3 if by else 1)
        for key, (ts, values) in alone.items():
            assert list(ts) == [start + 60 * m for m in range(10)]
            assert np.allclose(both[key][0], ts) and np.allclose(both[key][1], values), (table, key)
        rows = rollups.series(store, table, a, b, step_s=60, by=by, source="raw")
        first = [r for r in rows.rows if all(r[1 + i] == k for i, k in enumerate(sorted(alone)[0]))]
        want = [float(r[rows.columns.index(column)]) / (60 if per_second else 1) for r in first]
        assert np.allclose(alone[sorted(alone)[0]][1], want)
    # series() over the same cut minute: its rows from both parts made one, each gauge's
    # extremes too when asked for (some gauges' or all)
    for extremes in (False, ("busy_pct", "steal_pct"), True):
        alone = rollups.series(store, "system_cpu", a, b, step_s=60, source="raw", extremes=extremes)
        both = rollups.series(store, "system_cpu", a, b, step_s=60, source="raw", extremes=extremes, window=window)
        assert both.columns == alone.columns and len(both.rows) == len(alone.rows) == 10
        assert ("busy_pct_max" in alone.columns, "user_pct_max" in alone.columns) == (extremes is not False,
                                                                                       extremes is True)
        for w, s in zip(both.rows, alone.rows):
            assert w[0] == s[0] and w[1:] == pytest.approx(s[1:]), (extremes, w, s)


def test_minute_points_read_again_ask_the_store_only_for_the_newer_minutes(store, monkeypatch):
    """Rolled-up minutes never change, so minute_points() remembers those it read
    (a 24 h findings page asks for its baselines on every refresh): read again
    later, over a range that moved on, it asks the store only for the minutes
    rolled up since, and gives what a fresh read gives."""
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0).timestamp()
    start = now - 3600
    disk = _disk_rows(start, 3000, seed=7)
    disk["device"] = ["vda", "vdb", "vdc"] * 1000
    cpu = _cpu_rows(start, 3000)
    first = now - 7 * 3600        # over 6 h: the range reads the rollups (the last hour has rows)
    # a device seen once, in a minute the first read holds and the later ones start after
    store.insert("disk_io", {k: v[:1] for k, v in _disk_rows(first + 65, 1, seed=8).items()} | {"device": ["gone"]})
    store.insert("disk_io", {k: v[:2400] for k, v in disk.items()})
    store.insert("system_cpu", {k: v[:2400] for k, v in cpu.items()})
    rollups.roll_up(store, dt.datetime.fromtimestamp(start + 2400, UTC))
    at = lambda t: dt.datetime.fromtimestamp(t, UTC)        # noqa: E731
    cases = (("disk_io", "ios", ("device",), True), ("system_cpu", "busy_pct_avg", (), False))
    for table, column, by, per_second in cases:
        held = rollups.minute_points(store, table, at(first + 30), at(now), column, by=by, per_second=per_second)
        assert len(held) == (4 if by else 1)

    store.insert("disk_io", {k: v[2400:] for k, v in disk.items()})      # ten more minutes, rolled up
    store.insert("system_cpu", {k: v[2400:] for k, v in cpu.items()})
    rollups.roll_up(store, dt.datetime.fromtimestamp(start + 3000, UTC))
    asked = []
    read = rollups._read_pieces
    monkeypatch.setattr(rollups, "_read_pieces", lambda st, r, pieces, *a, **k: asked.append(pieces) or read(
        st, r, pieces, *a, **k))
    again = {}
    for table, column, by, per_second in cases:
        asked.clear()
        again[table] = rollups.minute_points(store, table, at(first + 90), at(now), column, by=by,
                                             per_second=per_second)
        assert [(level, a.timestamp()) for level, a, _ in asked[0]][:1] == [("1m", start + 2400)], table
    monkeypatch.setattr(rollups, "ROLLED_MINUTES", rollups._RolledMinutes())     # nothing remembered
    for table, column, by, per_second in cases:
        fresh = rollups.minute_points(store, table, at(first + 90), at(now), column, by=by, per_second=per_second)
        remembered = again[table]
        assert sorted(remembered) == sorted(fresh) and len(fresh) == (3 if by else 1)
        for key, (ts, values) in fresh.items():
            assert list(ts) == [start + 60 * m for m in range(50)], (table, key)
            assert np.array_equal(remembered[key][0], ts) and np.allclose(remembered[key][1], values), (table, key)


def test_the_window_covers_a_quiet_table_and_hands_expired_rows_to_the_store(store):
    """A probe drained without rows (no container, no server) makes the window
    answer for its tables from then on, without the store; once rows expire from
    the window, a range reaching back reads them from the store again."""
    from pyperf.pipeline.live_window import LiveWindow

    now = dt.datetime.now(UTC).replace(microsecond=0).timestamp()
    window = LiveWindow(tables=("disk_io", "system_cpu"), seconds=60)
    window.add({}, now - 100, covers=("disk_io",))
    assert window.since("disk_io") == now - 100 and window.since("system_cpu") is None
    cpu = _cpu_rows(now - 100, 10)
    store.insert("system_cpu", cpu)
    for i in range(10):
        window.add({"system_cpu": {k: [v[i]] for k, v in cpu.items()}}, cpu["ts"][i])
    window.add({}, now)                          # the rows are older than the window now
    assert window.rows("system_cpu", 0) == {} and window.since("system_cpu") == now - 60
    a, b = dt.datetime.fromtimestamp(now - 120, UTC), dt.datetime.fromtimestamp(now, UTC)
    def utc(rows):
        return [(r[0].replace(tzinfo=UTC), *r[1:]) for r in rows]
    assert utc(rollups.series(store, "system_cpu", a, b, step_s=60, source="raw", window=window).rows) == \
        utc(rollups.series(store, "system_cpu", a, b, step_s=60, source="raw").rows) != []


def test_histograms_missing_in_some_intervals_sum_as_in_the_store(store):
    """The tcp probe samples RTT every few intervals and stores [] in the others:
    the window sums such histograms to the longest, as sumForEach does."""
    from pyperf.pipeline.live_window import LiveWindow

    now = dt.datetime.now(UTC).replace(microsecond=0).timestamp()
    counters = ("retransmit_segments", "retransmits", "retransmits_failed", "synack_retransmits", "resets_sent",
                "resets_received", "active_opens", "passive_opens", "failed_connects", "closes", "lifetime_sum_us",
                "out_segments")
    n = 12
    rows = {"ts": [now - 60 + i for i in range(n)], "interval_ms": [1000] * n, **{c: [i] * n for i, c in enumerate(counters)},
            "lifetime_hist": [[1] * 32] * n, "loss_ratio": [0.0] * n, "established": list(range(n)),
            "rtt_p50_us": [0.0] * n, "rtt_p99_us": [0.0] * n,
            "rtt_hist": [([i] * 32 if i % 5 == 1 else []) for i in range(n)]}
    store.insert("tcp_host", rows)
    window = LiveWindow(tables=("tcp_host",))
    for i in range(n):
        window.add({"tcp_host": {k: [v[i]] for k, v in rows.items()}}, rows["ts"][i])
    a, b = dt.datetime.fromtimestamp(now - 60, UTC), dt.datetime.fromtimestamp(now, UTC)
    from_store = rollups.series(store, "tcp_host", a, b, step_s=4, source="raw")
    from_window = rollups.series(store, "tcp_host", a, b, step_s=4, source="raw", window=window)
    rtt = from_store.columns.index("rtt_hist")
    assert [r[rtt] for r in from_window.rows] == [list(r[rtt]) for r in from_store.rows]
    assert any(r[rtt] for r in from_window.rows)


def test_the_agent_rolls_up_finished_hours(tmp_path):
    """A finished hour's minutes in the store are summed into the 1-hour table by
    the running agent (here at its clean stop; every 5 minutes while it runs)."""
    from conftest import require_root, run_pyperf

    require_root()
    dsn = f"chdb://{tmp_path}/store"
    store = Store(parse_dsn(dsn)).open()
    start = _hour_start()
    disk = _disk_rows(start.timestamp(), 3600)
    store.insert("disk_io", disk)
    host = store.host_name
    store.close()
    run_pyperf("record", "--probes", "system", "--duration", "2s", store=dsn, check=True)
    out = run_pyperf("sql", f"SELECT sum(samples), sum(ios) FROM disk_io_1h WHERE host = '{host}'",
                     "--format", "csv", store=dsn, check=True)
    assert out.stdout.split()[-1] == f"3600,{sum(disk['ios'])}"


@pytest.mark.parametrize("many_keys", (True, False))
def test_whole_hour_buckets_read_the_hours_rolled_up_and_the_minutes_around_them(store, monkeypatch, many_keys):
    """A range over some hours, not on the hour, with hour-sized buckets: the whole
    hours come from the 1-hour table, the rest from the minutes and the raw rows
    not rolled up yet — unless the table has so few keys that its minutes over the
    range are fewer rows than MINUTES_READ_WHOLE: then the minutes alone, one table
    read less. The sums and histograms are the raw rows' exactly either way."""
    if many_keys:       # the range's ~450 minute rows (one device) stand for a table with many keys
        monkeypatch.setattr(rollups, "MINUTES_READ_WHOLE", 100)
    read, levels = rollups._read_pieces, []
    monkeypatch.setattr(rollups, "_read_pieces", lambda st, r, pieces, *a, **k: levels.append(
        [p[0] for p in pieces]) or read(st, r, pieces, *a, **k))
    hours = 8                                      # longer than the raw level serves
    start = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours + 1)
    seconds = hours * 3600
    disk = _disk_rows(start.timestamp(), seconds)
    store.insert("disk_io", disk)
    rollups.roll_up(store, start + dt.timedelta(hours=hours - 1, minutes=20))   # the last 40 min not rolled up
    begin, end = start + dt.timedelta(minutes=25), start + dt.timedelta(seconds=seconds)
    got, step, columns, rows = rollups.series(store, "disk_io", begin, end, step_s=seconds + 3600,
                                              columns=("ios", "latency_hist"))
    assert columns == ["bucket", "samples", "interval_ms", "ios", "latency_hist"]
    assert (got, levels) == (("1h", [["1m", "1h", "1m", "raw"]]) if many_keys else ("1m", [["1m", "raw"]]))
    whole = [dict(zip(columns, r)) for r in rows]
    first = 25 * 60
    assert sum(b["samples"] for b in whole) == seconds - first
    assert sum(b["ios"] for b in whole) == sum(disk["ios"][first:])
    assert (np.sum([b["latency_hist"] for b in whole], axis=0).tolist()
            == np.array(disk["latency_hist"][first:]).sum(axis=0).tolist())
    with pytest.raises(ValueError, match="no counter, gauge or histogram bogus"):
        rollups.series(store, "disk_io", begin, end, columns=("bogus",))
    with pytest.raises(ValueError, match="reads no gauge ios"):         # a counter has no extremes
        rollups.series(store, "disk_io", begin, end, extremes=("ios",))


def test_a_range_that_is_not_whole_days_reads_only_its_own_granules(tmp_path):
    """The minutes before a 24 h range's first whole hour come from the 1-minute
    table's granules of that hour (its sort key starts with the hour, and readers
    say which hours: rollups.bucket_filter), not from every granule of the day."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open()
    try:
        day = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).strftime("%Y-%m-%d")
        store.command("INSERT INTO sched_process_1m (ts, host, pid, comm, mnt_ns, cgroup_id, samples, interval_ms) "
                      f"SELECT toDateTime('{day} 00:00:00', 'UTC') + toIntervalMinute(intDiv(number, 500)), 'h', "
                      "number % 500, 'w', 1, 0, 60, 60000 FROM numbers(500 * 1440)")
        start, end = f"toDateTime('{day} 05:00:00', 'UTC')", f"toDateTime('{day} 05:30:00', 'UTC')"
        sql = (f"SELECT sum(samples) FROM sched_process_1m WHERE host = 'h' AND ts >= {start} AND ts < {end} "
               f"AND {rollups.bucket_filter('1m', start, end)}")
        plan = "\n".join(r[0] for r in store.query("EXPLAIN indexes = 1 " + sql).rows)
        read, of = map(int, re.findall(r"Granules: (\d+)/(\d+)", plan)[-1])
        assert of > 80 and read <= of / 24 + 2, plan        # the hour it lies in (30 000 of 720 000 rows)
                                                            # and a granule at each edge
        assert store.query(sql).rows == [(30 * 500 * 60,)]
    finally:
        store.close()


def _rebuild_stopped_after_first_exchange(tmp_path, version: int, stop_at: str = "EXCHANGE TABLES disk_io_1m AND"):
    """A store at schema version - 1 with rolled-up rows; migration `version` run up
    to the first statement holding `stop_at` (by default its first exchange, before
    the drop), then the store opened again (which finishes it).
    (store, its 1m sums before, its 1h sums before, the statements)."""
    dsn = parse_dsn(f"chdb://{tmp_path}/store")
    old = Store(dsn).open(upto=version - 1)
    try:
        start = _hour_start()
        old.insert("disk_io", _disk_rows(start.timestamp(), 7200))
        rollups.roll_up(old, start + dt.timedelta(hours=3))
        before = old.query("SELECT count(), sum(ios), sumForEachMerge(latency_hist) FROM disk_io_1m").rows
        hours = old.query("SELECT count(), sum(ios) FROM disk_io_1h").rows
        assert before[0][0] == 120 and hours[0][0] == 2
        migration = next(m for m in migrations.available() if m.version == version)
        statements = migration.statements()
        stop = next(i for i, s in enumerate(statements) if stop_at in s)
        with old.connection() as client:
            for statement in statements[:stop + 1]:
                assert migrations.execute(client, statement, embedded=True) or "DROP" in statement
    finally:
        old.close()
    return Store(dsn).open(), before, hours, statements


def _rollup_tables(store) -> list[tuple]:
    return store.query("SELECT name, sorting_key, create_table_query, engine FROM system.tables "
                       "WHERE database = currentDatabase() AND (name LIKE '%\\_1m%' OR name LIKE '%\\_1h%')").rows


def _resumed_and_idempotent(new, before, hours, statements, version: int) -> None:
    assert not any(name.endswith(f"__{version:04d}") for name, *_ in _rollup_tables(new))
    assert new.query("SELECT count(), sum(ios), sumForEachMerge(latency_hist) FROM disk_io_1m").rows == before
    assert new.query("SELECT count(), sum(ios) FROM disk_io_1h").rows == hours
    with new.connection() as client:
        ran = [migrations.execute(client, s, embedded=True) for s in statements]   # again: nothing to do
        assert ran == ["DROP TABLE IF EXISTS" in s for s in statements]
        # agents sharing a server would race through the exchange: there it does nothing
        assert not any(migrations.execute(client, s, embedded=False) for s in statements)
    assert new.query("SELECT count(), sum(ios), sumForEachMerge(latency_hist) FROM disk_io_1m").rows == before


def test_schema_28_rollup_tables_are_rebuilt_time_first_and_a_stopped_rebuild_resumes(tmp_path):
    """sql/0029 copies every rollup table into one sorted by its time bucket first
    (no projection to rebuild at each merge), exchanges the two and drops the
    old; stopped after an exchange, the next start finishes it and copies nothing
    twice."""
    new, before, hours, statements = _rebuild_stopped_after_first_exchange(tmp_path, 29)
    try:
        tables = _rollup_tables(new)
        assert tables
        for name, key, create, _ in tables:
            level = "toStartOfHour(ts)" if name.endswith("_1m") else "toStartOfDay(ts)"
            assert key.startswith(f"host, {level}, ") and key.endswith(", ts"), (name, key)
            assert "PROJECTION" not in create, name
        _resumed_and_idempotent(new, before, hours, statements, 29)
    finally:
        new.close()


@pytest.mark.parametrize("stop_at", ["ATTACH PARTITION ALL FROM disk_io_1m", "EXCHANGE TABLES disk_io_1m AND"])
def test_schema_29_rollup_tables_become_plain_merge_trees_and_a_stopped_rebuild_resumes(tmp_path, stop_at):
    """sql/0030: every rollup table a plain MergeTree (its merges hold about half
    an AggregatingMergeTree's memory), with the same rows and sums, its parts
    attached once however the migration was stopped; rolled up again after it,
    a bucket's sums are those of its raw rows."""
    new, before, hours, statements = _rebuild_stopped_after_first_exchange(tmp_path, 30, stop_at)
    try:
        tables = _rollup_tables(new)
        assert len(tables) == 2 * len(rollups.stored())
        assert {engine for *_, engine in tables} == {"MergeTree"}
        _resumed_and_idempotent(new, before, hours, statements, 30)
        start = _hour_start() + dt.timedelta(hours=3)
        new.insert("disk_io", _disk_rows(start.timestamp(), 120))
        rollups.roll_up(new, start + dt.timedelta(hours=2))
        raw = new.query("SELECT sum(ios), sumForEach(latency_hist) FROM disk_io WHERE ts >= {s:DateTime}",
                        {"s": start}).rows
        rolled = new.query("SELECT sum(ios), sumForEachMerge(latency_hist) FROM disk_io_1m "
                           "WHERE ts >= {s:DateTime}", {"s": start}).rows
        assert rolled == raw and raw[0][0] > 0
    finally:
        new.close()


def _wide_rows(start: float, rows: int) -> dict[str, list]:
    """sched_process rows as wide as a busy host's (two 27-slot histograms)."""
    rng = np.random.default_rng(5)
    return {"ts": [start + i / 100 for i in range(rows)], "interval_ms": [1000] * rows,
            "pid": list(range(rows)), "comm": ["w"] * rows, "oncpu_us": rng.integers(0, 10**6, rows).tolist(),
            "runq_latency_hist": rng.integers(0, 10**6, (rows, HIST_SLOTS)).tolist(),
            "offcpu_hist": rng.integers(0, 10**6, (rows, HIST_SLOTS)).tolist()}


def _granules(store, table: str) -> tuple[int, int, int]:
    """(rows, granules, uncompressed bytes) of the table's one active part."""
    [(rows, marks, uncompressed)] = store.query(
        "SELECT rows, marks, data_uncompressed_bytes FROM system.parts WHERE database = currentDatabase() "
        "AND table = {t:String} AND active", {"t": table}).rows
    return rows, marks - 1, uncompressed      # the last mark ends the part


@pytest.mark.parametrize("stop_at", ["ATTACH PARTITION ALL FROM disk_io_1m", "EXCHANGE TABLES disk_io_1m AND"])
def test_schema_30_tables_get_granules_of_at_most_512_kib_and_a_stopped_rebuild_resumes(tmp_path, stop_at):
    """sql/0031: every table but the ledger rebuilt with granules of at most
    GRANULE_BYTES (a merge holds one granule of each part it reads), its rows,
    TTL and settings kept, its parts attached once however the migration was
    stopped; a merge of wide rows then writes granules of about that size,
    where the schema before wrote 8 192 rows of them."""
    start = _hour_start().timestamp()
    schema_30 = Store(parse_dsn(f"chdb://{tmp_path}/schema_30")).open(upto=30)
    try:
        schema_30.insert("sched_process", _wide_rows(start, 30_000))
        assert _granules(schema_30, "sched_process")[1] == 4     # the engine's default: 8 192 rows a granule
    finally:
        schema_30.close()
    new, before, hours, statements = _rebuild_stopped_after_first_exchange(tmp_path, 31, stop_at)
    try:
        _resumed_and_idempotent(new, before, hours, statements, 31)
        tables = new.query("SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() "
                           "AND engine LIKE '%MergeTree'").rows
        assert len(tables) > 40
        assert {name for name, create in tables
                if f"index_granularity_bytes = {GRANULE_BYTES}" not in create} == {"schema_migrations"}
        assert not any(name.endswith("__0031") for name, _ in tables)
        assert new.query("SELECT count() FROM disk_io").rows == [(7200,)]
        ddl = dict(tables)["sched_process"]
        assert "TTL toDateTime(ts) + toIntervalDay(3)" in ddl and "non_replicated_deduplication_window = 1000" in ddl
        for k in range(3):
            new.insert("sched_process", _wide_rows(start + 100 * k, 10_000))
        new.command("OPTIMIZE TABLE sched_process FINAL")
        rows, granules, uncompressed = _granules(new, "sched_process")
        # the engine sizes a granule from its own estimate of a row's bytes: within a quarter
        assert rows == 30_000 and uncompressed / granules <= 1.25 * GRANULE_BYTES and rows / granules < 4096
    finally:
        new.close()


def test_many_rows_are_rolled_up_a_few_whole_minutes_at_a_time_with_the_same_sums(store, monkeypatch):
    start = _hour_start()
    disk = _disk_rows(start.timestamp(), 600)                 # 10 minutes, 60 rows each
    store.insert("disk_io", disk)
    monkeypatch.setattr(rollups, "MAX_ROWS_PER_ROLLUP", 150)  # 600 rows: 5 parts of 2 minutes (120 rows)
    inserts = []
    command = store.command

    def counted(sql, parameters=None):
        if sql.startswith("INSERT INTO disk_io_1m"):
            inserts.append((parameters["start"], parameters["end"]))
        return command(sql, parameters)
    monkeypatch.setattr(store, "command", counted)
    end = start + dt.timedelta(minutes=10)
    assert rollups.roll_up(store, end)["disk_io"]["1m"] == 10
    assert [(b - a) / dt.timedelta(minutes=1) for a, b in inserts] == [2, 2, 2, 2, 2]
    assert all(b == a2 for (_, b), (a2, _) in zip(inserts, inserts[1:]))      # whole minutes, end to end
    raw = rollups.series(store, "disk_io", start, end, step_s=600, source="raw")
    rolled = rollups.series(store, "disk_io", start, end, step_s=600, source="1m")
    assert [list(r) for r in rolled.rows] == [list(r) for r in raw.rows]
    assert rolled.rows[0][rolled.columns.index("ios")] == sum(disk["ios"])


def test_a_minute_of_too_many_rows_is_summed_a_share_of_its_keys_at_a_time_and_a_crash_between_shares_loses_nothing(
        store, monkeypatch):
    """A host that starts 40 000 processes in a minute: that minute's rows are more
    than one INSERT ... SELECT should sum at once (its memory grows with the keys);
    the minutes around it go in whole, as before."""
    start = _hour_start()
    quiet = _disk_rows(start.timestamp(), 120)                            # minutes 0-1: 60 rows each
    busy = _many_devices(start.timestamp() + 180, 60)                      # minute 3: 40 devices, 2 400 rows
    later = _disk_rows(start.timestamp() + 240, 120, seed=5)               # minutes 4-5
    for rows in (quiet, busy, later):
        store.insert("disk_io", rows)
    monkeypatch.setattr(rollups, "MAX_ROWS_PER_ROLLUP", 1000)
    monkeypatch.setattr(rollups, "_complete_minutes", {})
    end = start + dt.timedelta(minutes=6)
    inserts = []
    command = store.command

    def crashing(sql, parameters=None):
        if sql.startswith("INSERT INTO disk_io_1m"):
            inserts.append(parameters["token"])
            if len(inserts) == 3:
                raise RuntimeError("agent killed between two shares")
        return command(sql, parameters)
    monkeypatch.setattr(store, "command", crashing)
    with pytest.raises(RuntimeError):
        rollups.roll_up(store, end)
    minute = f"{start:%Y%m%d%H}"
    assert inserts[0].endswith(f"-{minute}00-{minute}03")                 # the quiet minutes (and the empty one)
    assert inserts[1].endswith(f"-{minute}03-{minute}04-0of3") and inserts[2].endswith("-1of3")
    monkeypatch.setattr(rollups, "_complete_minutes", {})                 # a new agent process
    monkeypatch.setattr(store, "command", command)
    assert rollups.roll_up(store, end)["disk_io"]["1m"] == 3              # minute 3 again, then 4-5
    assert rollups.roll_up(store, end) == {}
    for by in ((), ("device",)):
        raw = rollups.series(store, "disk_io", start, end, step_s=60, by=by, source="raw")
        rolled = rollups.series(store, "disk_io", start, end, step_s=60, by=by, source="1m")
        assert [list(r) for r in rolled.rows] == [list(r) for r in raw.rows]     # nothing lost or doubled
    assert len(rollups.series(store, "disk_io", start, end, step_s=60, by=("device",), source="1m").rows) == 1 + 1 + 40 + 1 + 1


def _many_devices(start: float, seconds: int, devices: int = 40) -> dict[str, list]:
    rows = [_disk_rows(start, seconds, seed=d) for d in range(devices)]
    out = {k: [v for r in rows for v in r[k]] for k in rows[0]}
    out["device"] = [f"d{d}" for d in range(devices) for _ in range(seconds)]
    return out


def test_a_large_hour_is_summed_a_share_of_its_keys_at_a_time_and_a_crash_between_shares_loses_nothing(
        store, monkeypatch):
    start = _hour_start()
    disk = _many_devices(start.timestamp(), 3600)       # one hour: 40 devices x 60 minutes = 2 400 minute rows
    store.insert("disk_io", disk)
    monkeypatch.setattr(rollups, "MAX_ROWS_PER_ROLLUP", 1000)
    monkeypatch.setattr(rollups, "_complete_hours", {})
    end = start + dt.timedelta(hours=1)
    rollups.roll_up(store, end - dt.timedelta(seconds=30))           # the minutes only, 3 at a time
    shares = []
    command = store.command

    def crashing(sql, parameters=None):
        if sql.startswith("INSERT INTO disk_io_1h"):
            shares.append(parameters["token"])
            if len(shares) == 2:
                raise RuntimeError("agent killed between two shares")
        return command(sql, parameters)
    monkeypatch.setattr(store, "command", crashing)
    with pytest.raises(RuntimeError):
        rollups.roll_up(store, end + dt.timedelta(seconds=30))
    assert shares[0].endswith("-0of3")
    monkeypatch.setattr(rollups, "_complete_hours", {})              # a new agent process
    monkeypatch.setattr(store, "command", command)
    assert rollups.roll_up(store, end + dt.timedelta(seconds=30))["disk_io"]["1h"] == 1     # the hour again
    assert rollups.roll_up(store, end + dt.timedelta(seconds=30)) == {}                   # and then done
    raw = rollups.series(store, "disk_io", start, end, step_s=3600, by=("device",), source="raw")
    hourly = rollups.series(store, "disk_io", start, end, step_s=3600, by=("device",), source="1h")
    assert len(hourly.rows) == 40
    assert [list(r) for r in hourly.rows] == [list(r) for r in raw.rows]      # every device once: nothing lost or doubled
    # a share is a range of the first key, which the 1-minute table is sorted by within
    # the hour: its read is cut by the primary key (a share of the keys' hash read the whole hour)
    shares = rollups._shares_of(store, rollups.stored()["disk_io"], start.replace(tzinfo=None), 2400)
    assert len(shares) == 3
    condition, bounds = shares.condition(1)
    plan = "\n".join(row[0] for row in store.query(
        "EXPLAIN indexes = 1 " + rollups.hourly_select(rollups.stored()["disk_io"], condition),
        {"host": store.host_name, "start": start, "end": end, **bounds}).rows)
    primary = plan[plan.index("PrimaryKey"):]
    keys = primary[primary.index("Keys:"):primary.index("Condition:")].split()
    assert keys == ["Keys:", "host", "toStartOfHour(ts)", "device"], plan
