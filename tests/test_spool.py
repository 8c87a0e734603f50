"""The store goes away and comes back: rows wait in the on-disk spool, are
replayed in order and stored exactly once (insert deduplication tokens), a
full spool drops its oldest batches and counts them. Against the
ClickHouse-HTTP test server (tests/ch_http_server.py), stopped and restarted."""

import json
import shutil
import signal
import time

import pytest
from conftest import PyperfProcess, merges_run, require_root, run_pyperf

from pyperf.errors import StoreError
from pyperf.pipeline.spool import Spool, load_chunk, pending_chunks
from pyperf.pipeline import writer as writer_module
from pyperf.pipeline.writer import BatchWriter
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store


def _count_and_distinct(dsn: str, table: str = "system_host") -> tuple[int, int]:
    out = run_pyperf("sql", f"SELECT count(), uniqExact(ts) FROM {table}", "--format", "csv",
                     store=dsn, check=True)
    count, distinct = out.stdout.strip().splitlines()[1].split(",")
    return int(count), int(distinct)


def _spooled_times(folder) -> set:
    times = set()
    for path in pending_chunks(folder):
        table, _, columns = load_chunk(path)
        if table == "system_host":
            # as stored: datetime keeps microseconds (rounded), DateTime64(3) truncates to ms
            times.update(round(t * 1e6) // 1000 for t in columns["ts"])
    return times


def test_store_down_during_record_every_interval_stored_once(ch_server, tmp_path):
    require_root()
    spool_dir = tmp_path / "spool"
    rec = PyperfProcess("-v", "record", "--probes", "system", "--interval", "0.5s", "--flush-interval", "1s",
                        "--duration", "14s", "--json", "--spool-dir", str(spool_dir), store=ch_server.dsn)
    try:
        rec.wait_for("probe system attached")
        time.sleep(3)
        ch_server.stop()
        rec.wait_for("spooling until it answers", timeout=20)
        time.sleep(4)
        # looking must not touch the folder the agent owns (a Spool would take it)
        assert pending_chunks(spool_dir), "nothing was spooled while the store was down"
        ch_server.start()
        rec.wait_for("store answers again", timeout=30)
        code, stdout, stderr = rec.finish(timeout=120)
    finally:
        rec.kill()
    assert code == 0, stderr
    summary = json.loads(stdout)
    intervals = summary["probes"]["system"]["samples"]
    assert summary["rows_spooled"]["system_host"] > 0
    assert summary["rows_replayed"]["system_host"] == summary["rows_spooled"]["system_host"]
    assert "spool_pending_rows" not in summary
    assert _count_and_distinct(ch_server.dsn) == (intervals, intervals)
    assert not pending_chunks(spool_dir)
    # the agent stored its own account of it
    status = json.loads(run_pyperf("status", "--json", store=ch_server.dsn, check=True).stdout)
    [host] = status.values()
    assert host["store"]["system_host"]["spooled"] > 0 and host["store"]["system_host"]["replayed"] > 0
    assert host["probes"]["system"]["samples"] > 0 and host["losses"] == []


def test_kill_9_then_restart_replays_spooled_rows_exactly_once(ch_server, tmp_path):
    require_root()
    spool_dir = tmp_path / "spool"
    rec = PyperfProcess("-v", "record", "--probes", "system", "--interval", "0.5s", "--flush-interval", "1s",
                        "--spool-dir", str(spool_dir), store=ch_server.dsn)
    try:
        rec.wait_for("probe system attached")
        time.sleep(2)
        ch_server.stop()
        rec.wait_for("spooling until it answers", timeout=20)
        time.sleep(3)
        rec.proc.send_signal(signal.SIGKILL)
        rec.finish(timeout=30)
    finally:
        rec.kill()
    spooled = _spooled_times(spool_dir)
    assert len(spooled) >= 3
    # keep a copy: replaying the same batches twice (a crash after the insert, before
    # the spool file was removed) must not store them twice
    shutil.copytree(spool_dir, tmp_path / "spool-copy")

    ch_server.start()
    stored_before_kill, _ = _count_and_distinct(ch_server.dsn)
    for _ in range(2):
        result = run_pyperf("record", "--probes", "system", "--duration", "1s", "--json",
                            "--spool-dir", str(spool_dir), store=ch_server.dsn, check=True)
        assert json.loads(result.stdout)["rows_replayed"]["system_host"] == len(spooled)
        shutil.rmtree(spool_dir)
        shutil.copytree(tmp_path / "spool-copy", spool_dir)
    count, distinct = _count_and_distinct(ch_server.dsn)
    assert count == distinct == stored_before_kill + len(spooled) + 2    # + one row per 1 s record
    out = run_pyperf("sql", "SELECT toUnixTimestamp64Milli(ts) FROM system_host", "--format", "csv",
                     store=ch_server.dsn, check=True)
    stored = {int(line) for line in out.stdout.split()[1:]}
    assert spooled <= stored, (sorted(spooled), sorted(stored))


def test_full_spool_drops_the_oldest_and_counts_them(tmp_path, free_port):
    # a store that is down: nothing listens on the port
    store = Store(parse_dsn(f"http://default@127.0.0.1:{free_port}/pyperf"))
    spool = Spool(tmp_path / "spool", max_bytes=64 * 1024)
    writer = BatchWriter(store, flush_interval_s=3600, spool=spool)
    batches = 40
    for i in range(batches):
        writer.submit({"system_host": {"ts": [float(i)] * 200, "interval_ms": [1000] * 200,
                                       "note": [f"padding {j:06d}" * 4 for j in range(200)]}})
        writer.flush()   # never raises: the store's failure is spooled
    pending = spool.pending_rows()["system_host"]
    dropped = spool.dropped_rows["system_host"]
    assert dropped > 0 and pending > 0
    assert pending + dropped == batches * 200 == writer.spooled["system_host"]
    assert spool.size() <= 64 * 1024
    # the newest batches are the ones kept
    kept = sorted(int(spool.load(p)[2]["ts"][0]) for p in spool.pending())
    assert kept == list(range(batches - len(kept), batches))
    assert writer.stats()["spool_dropped"] == {"system_host": dropped}


def test_a_batch_the_store_rejects_is_counted_not_spooled(ch_server, tmp_path):
    store = Store(parse_dsn(ch_server.dsn)).open()
    spool = Spool(tmp_path / "spool", max_bytes=1 << 20)
    writer = BatchWriter(store, flush_interval_s=3600, spool=spool)
    writer.submit({"system_host": {"ts": [1.0], "no_such_column": [1]}})
    writer.flush()
    store.close()
    assert writer.failed == {"system_host": 1} and not spool.pending()


def test_unreachable_store_error_is_transient(free_port):
    try:
        Store(parse_dsn(f"http://default@127.0.0.1:{free_port}/pyperf")).open()
    except StoreError as e:
        assert e.transient and "connection refused" in str(e)
    else:
        raise AssertionError("opening a store nobody serves succeeded")


def test_agent_started_while_the_store_is_down_stores_everything_once_it_answers(tmp_path, free_port):
    from conftest import ClickHouseTestServer
    require_root()
    server = ClickHouseTestServer(tmp_path / "server-data", free_port)
    rec = PyperfProcess("-v", "record", "--probes", "system", "--interval", "0.5s", "--flush-interval", "1s",
                        "--duration", "10s", "--json", "--spool-dir", str(tmp_path / "spool"), store=server.dsn)
    try:
        rec.wait_for("collecting anyway", timeout=60)
        rec.wait_for("probe system attached")
        time.sleep(3)
        server.start()
        code, stdout, stderr = rec.finish(timeout=120)
        assert code == 0, stderr
        intervals = json.loads(stdout)["probes"]["system"]["samples"]
        assert _count_and_distinct(server.dsn) == (intervals, intervals)
    finally:
        rec.kill()
        server.stop()


def test_store_upkeep_waits_for_the_spool_and_a_store_that_answers(tmp_path, free_port):
    """The hourly rollups run from the writer only when nothing of a finished hour
    can still be on its way: the store answers and the spool is empty."""
    calls = []
    down = Store(parse_dsn(f"http://default@127.0.0.1:{free_port}/pyperf"))
    spool = Spool(tmp_path / "spool", max_bytes=1 << 20)
    writer = BatchWriter(down, flush_interval_s=3600, spool=spool, maintenance=lambda: calls.append(1),
                         maintenance_every_s=0)
    writer.submit({"system_host": {"ts": [1.0], "interval_ms": [1000]}})
    writer.flush()
    assert writer._maintain() is False
    assert spool.pending() and calls == []            # the store is down, rows wait in the spool
    writer.store_down_since = None
    assert writer._maintain() is False
    assert calls == []                                # the store answers, but the spool is not empty
    for path in spool.pending():
        spool.remove(path)
    assert writer._maintain() is True                 # (and the engine's code pages are given back after it)
    assert calls == [1]
    writer.maintenance_every_s = 3600
    assert writer._maintain() is False
    assert calls == [1]                               # not again before its time


def test_a_spool_folder_has_one_owner_and_looking_changes_nothing(tmp_path):
    folder = tmp_path / "spool"
    owner = Spool(folder, max_bytes=1 << 20)
    half_written = folder / "00000000000000000001_system_host_1.tmp"
    half_written.write_bytes(b"being written")
    try:
        Spool(folder, max_bytes=1 << 20)
    except StoreError as e:
        assert "in use by another pyperf process" in str(e)
    else:
        raise AssertionError("a second process took a spool folder in use")
    assert pending_chunks(folder) == [] and half_written.exists()
    owner.append("system_host", {"ts": [1.0]}, "token-1")
    [chunk] = pending_chunks(folder)
    assert load_chunk(chunk) == ("system_host", "token-1", {"ts": [1.0]})
    owner.close()
    # the next owner clears what a crashed writer left half-written, and keeps the chunks
    Spool(folder, max_bytes=1 << 20).close()
    assert not half_written.exists() and pending_chunks(folder) == [chunk]


def test_a_large_batch_goes_in_by_slices_each_slices_memory_given_back_before_the_next(store_dsn, monkeypatch):
    """An insert's engine memory grows with its rows: a large batch goes in
    INSERT_ROWS at a time, what each full slice left with the allocators given
    back before the next one; a small insert's is left for the release after
    the flush (each release is an engine statement)."""
    monkeypatch.setattr(writer_module, "INSERT_ROWS", 2)
    store = Store(parse_dsn(store_dsn), host_name="t").open()
    events = []
    insert, release = store.insert, store.release_memory
    store.insert = lambda table, columns, token: events.append((table, len(columns["ts"]))) or insert(
        table, columns, token)
    store.release_memory = lambda code_pages=False: events.append("release") or release(code_pages)
    writer = BatchWriter(store, flush_interval_s=3600)
    now = time.time()
    writer.submit({"system_host": {"ts": [now, now + 1, now + 2], "interval_ms": [1000] * 3},
                   "system_cpu": {"ts": [now], "interval_ms": [1000], "cpu": [0]}})
    writer.flush()
    assert events == [("system_host", 2), "release", ("system_host", 1), ("system_cpu", 1), "release"]
    assert writer.inserted == {"system_host": 3, "system_cpu": 1}
    assert store.query("SELECT count(), uniqExact(ts) FROM system_host").rows == [(3, 3)]
    store.close()


def test_a_store_failing_between_slices_gets_the_batch_exactly_once_on_replay(store_dsn, tmp_path, monkeypatch):
    """The slices are cut the same way on replay and each carries its own
    token: the slice stored before the failure is dropped by the store, the
    rest goes in once."""
    monkeypatch.setattr(writer_module, "INSERT_ROWS", 2)
    store = Store(parse_dsn(store_dsn), host_name="t").open()
    insert, calls = store.insert, []

    def fails_on_the_second_slice(table, columns, token):
        calls.append(token)
        if len(calls) == 2:
            raise StoreError("store went away", transient=True)
        return insert(table, columns, token)
    store.insert = fails_on_the_second_slice
    writer = BatchWriter(store, flush_interval_s=3600, spool=Spool(tmp_path / "spool", max_bytes=1 << 20))
    now = time.time()
    writer.submit({"system_host": {"ts": [now + i for i in range(5)], "interval_ms": [1000] * 5}})
    writer.flush()
    assert store.query("SELECT count() FROM system_host").rows == [(2,)]
    assert writer.spooled == {"system_host": 5} and writer.inserted == {}
    writer.flush()                             # the store answers: the spooled batch replayed
    token = calls[0]
    assert calls == [token, f"{token}.1", token, f"{token}.1", f"{token}.2"]
    assert store.query("SELECT count(), uniqExact(ts) FROM system_host").rows == [(5, 5)]
    assert writer.inserted == writer.replayed == {"system_host": 5}
    writer.close()
    store.close()


def test_a_slice_the_store_rejects_counts_what_went_in_before_it(store_dsn, monkeypatch):
    monkeypatch.setattr(writer_module, "INSERT_ROWS", 2)
    store = Store(parse_dsn(store_dsn), host_name="t").open()
    writer = BatchWriter(store, flush_interval_s=3600)
    now = time.time()
    # the third row's value does not fit the column: its slice is refused
    writer.submit({"system_cpu": {"ts": [now, now + 1, now + 2], "interval_ms": [1000] * 3,
                                  "cpu": [0, 1, "not a cpu"]}})
    writer.flush()
    assert writer.inserted == {"system_cpu": 2} and writer.failed == {"system_cpu": 1}
    assert store.query("SELECT count() FROM system_cpu").rows == [(2,)]
    store.close()


def test_a_flush_gives_its_memory_back_before_the_rollups_start_and_merges_wait_for_both(store_dsn):
    """The minute's flush leaves its columns with the allocators; a rollup run on
    top of them made the agent's highest memory, so they go back first. A merge
    running beside the flush's inserts stacked the same way: none runs until
    the flush, the rollups and both memory releases are over."""
    store = Store(parse_dsn(store_dsn), host_name="t").open()
    events = []
    insert, release = store.insert, store.release_memory

    def seen(event):
        events.append((event, "merging" if merges_run(store) else "held"))
    store.insert = lambda *args, **kwargs: seen("insert") or insert(*args, **kwargs)
    store.release_memory = lambda code_pages=False: seen(("release", code_pages)) or release(code_pages)
    writer = BatchWriter(store, flush_interval_s=3600, maintenance=lambda: seen("rollups"),
                         maintenance_every_s=0)
    assert merges_run(store)                  # (a hold covers the tables there when it starts, as the agent's are)
    now = time.time()
    writer.submit({"system_host": {"ts": [now], "interval_ms": [1000]}})
    writer._scheduled_flush()
    seen("after")
    assert events == [("insert", "held"), (("release", False), "held"), ("rollups", "held"),
                      (("release", True), "held"), ("after", "merging")]
    writer.maintenance_every_s = 3600
    writer.submit({"system_host": {"ts": [now + 1], "interval_ms": [1000]}})
    writer._scheduled_flush()                 # upkeep not due: the flush's memory back, nothing else
    assert events[5:] == [("insert", "held"), (("release", False), "held")]
    writer.submit({"system_host": {"ts": [now + 2], "interval_ms": [1000]}})
    writer.close()                            # the last flush: upkeep is due, after the memory is back
    assert [e for e, _ in events[7:]] == ["insert", ("release", False), "rollups", ("release", True)]
    seen("after close")
    assert events[-1] == ("after close", "merging")
    assert store.query("SELECT count() FROM system_host").rows[0][0] == 3
    store.close()


def test_a_flush_that_fails_still_lets_merges_resume(store_dsn):
    """A hold ends however the block ends: a store that stopped merging for good
    would pile up parts until every insert is refused."""
    store = Store(parse_dsn(store_dsn), host_name="t").open()
    writer = BatchWriter(store, flush_interval_s=3600)
    assert merges_run(store)

    def broken_insert(*args, **kwargs):
        assert not merges_run(store)
        raise RuntimeError("insert bug")
    store.insert = broken_insert
    writer.submit({"system_host": {"ts": [time.time()], "interval_ms": [1000]}})
    with pytest.raises(RuntimeError, match="insert bug"):
        writer.flush()
    assert merges_run(store)
    store.close()


def test_a_fault_in_the_upkeep_does_not_stop_the_writer(store_dsn, caplog):
    """The rollups run in the writer's thread; an error there that is not the
    store's (a bug) is logged and the flushes go on."""
    store = Store(parse_dsn(store_dsn), host_name="t").open()

    def broken_upkeep():
        raise RuntimeError("rollup bug")
    writer = BatchWriter(store, flush_interval_s=3600, maintenance=broken_upkeep, maintenance_every_s=0)
    now = time.time()
    for second in range(2):
        writer.submit({"system_host": {"ts": [now + second], "interval_ms": [1000]}})
        writer._scheduled_flush()
    assert "store upkeep failed (a bug" in caplog.text and "rollup bug" in caplog.text
    assert store.query("SELECT count() FROM system_host").rows[0][0] == 2
    store.close()
