"""The store against the real ClickHouse engine (chDB): migrations, inserts, self-repair."""

import gc
import threading
import time
import weakref
from pathlib import Path

import pytest
from conftest import merges_run

from pyperf.errors import StoreError
from pyperf.store import migrations
from pyperf.store.dsn import parse_dsn
from pyperf.kernel.resident import clean_mappings
from pyperf.store.store import CHDB_LIBRARIES, Store

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_apply_once_and_rows_survive_reopening(tmp_path):
    dsn = parse_dsn(f"chdb://{tmp_path}/store")
    store = Store(dsn, host_name="host-a").open()
    try:
        now = time.time()
        n = store.insert("disk_queue", {"ts": [now, now + 1], "interval_ms": [1000, 1000],
                                        "device": ["vda", "vda"], "queue_depth_avg": [0.5, 1.5],
                                        "queue_depth_max": [2, 4]})
        assert n == 2
        with store.connection() as client:
            assert migrations.apply_pending(client) == []           # nothing pending twice
        ledger = store.query("SELECT version, name FROM schema_migrations ORDER BY version").rows
        assert ledger == [(m.version, m.name) for m in migrations.available()]
    finally:
        store.close()
    store = Store(dsn).open()
    try:
        rows = store.query("SELECT host, device, queue_depth_max FROM disk_queue ORDER BY ts").rows
        assert rows == [("host-a", "vda", 2), ("host-a", "vda", 4)]
    finally:
        store.close()


def test_a_batch_for_a_dropped_table_repairs_the_store_and_goes_in(tmp_path):
    store = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    try:
        store.command("DROP TABLE disk_queue")
        store.command("ALTER TABLE tcp_event DROP COLUMN net_ns")
        now = time.time()
        n = store.insert("disk_queue", {"ts": [now], "interval_ms": [1000], "device": ["vda"],
                                        "queue_depth_avg": [0.5], "queue_depth_max": [2]})
        assert n == 1
        assert store.query("SELECT device, queue_depth_max FROM disk_queue").rows == [("vda", 2)]
        # the same repair brought back the column dropped from another table
        assert store.query("SELECT count() FROM system.columns WHERE database = currentDatabase() "
                           "AND table = 'tcp_event' AND name = 'net_ns'").rows == [(1,)]
        # a table that stays broken is not re-checked on every batch
        store.command("DROP TABLE disk_queue")
        store.command("CREATE TABLE disk_queue (x UInt8) ENGINE = Memory")
        try:
            store.insert("disk_queue", {"ts": [now], "device": ["vda"]})
            raise AssertionError("an insert into a table of the wrong shape went in")
        except Exception as e:
            assert "insert into disk_queue failed" in str(e)
    finally:
        store.close()


def test_epoch_seconds_become_the_ticks_a_datetime_of_them_would():
    """Inserts turn the probes' float seconds into column ticks with numpy; the
    result must be what the client stores for the same moment as a datetime."""
    import datetime as dt
    import random

    from pyperf.store.insert_columns import for_insert

    rng = random.Random(3)
    values = [rng.uniform(1.7e9, 1.9e9) for _ in range(5000)] + [1796213740.904, 1796213740.9035, 0.0]
    for col_type, precision in (("DateTime64(3, 'UTC')", 3), ("DateTime64(6, 'UTC')", 6), ("DateTime('UTC')", 0)):
        got = for_insert(values, col_type)
        for v, ticks in zip(values, got):
            d = dt.datetime.fromtimestamp(v, tz=dt.timezone.utc)
            assert ticks == (int(d.timestamp()) * 10**6 + d.microsecond) // 10 ** (6 - precision), (v, col_type)
    assert for_insert(["a"], "String") == ["a"]
    mixed = for_insert([None, 1796213740.5], "Nullable(DateTime64(3, 'UTC'))")   # a container still running
    assert mixed[0] is None and mixed[1] == dt.datetime.fromtimestamp(1796213740.5, tz=dt.timezone.utc)


def test_numpy_columns_go_to_the_client_as_the_bytes_its_own_path_writes():
    """A numeric column stays an array of the column's type and a histogram column
    is written in two copies (pyperf/store/insert_columns.py): the Native bytes are
    the client's own for the same Python values. A value the column cannot hold
    goes as Python values, so the client's error still applies."""
    import numpy as np
    from clickhouse_connect.datatypes.registry import get_from_name
    from clickhouse_connect.driver.insert import InsertContext

    from pyperf.store.insert_columns import _write_array_column, for_insert

    def native(col_type, values, writer=None):
        out, ch = bytearray(), get_from_name(col_type)
        ctx = InsertContext("t", ["c"], [ch], column_oriented=True, data=[values])
        ctx.start_column("c")
        if writer is None:
            ch.write_column(values, out, ctx)
        else:
            writer(ch, values, out, ctx)
        return bytes(out)

    hist = (np.arange(40 * 32, dtype=np.int64).reshape(40, 32) * 7919) % 100_000
    ready = for_insert(hist, "Array(UInt32)")
    assert isinstance(ready, np.ndarray) and ready.dtype == np.dtype("<u4")
    assert native("Array(UInt32)", ready) == native("Array(UInt32)", hist.tolist(), _write_array_column)
    for col_type, values in (("UInt64", np.arange(5, dtype=np.int64) * 2**40), ("UInt16", np.array([0, 65535])),
                             ("Float32", np.array([0.5, np.nan, 1e30])), ("Float64", np.array([1, 2], np.int64)),
                             ("Int32", np.array([-5, 7], np.int64))):
        ready = for_insert(values, col_type)
        assert isinstance(ready, np.ndarray), col_type
        assert native(col_type, ready) == native(col_type, values.tolist()), col_type
    assert for_insert(np.array([-1, 2], np.int64), "UInt64") == [-1, 2]          # out of range: as values
    assert for_insert(np.array([[70000]], np.int64), "Array(UInt16)") == [[70000]]
    assert for_insert(np.array([1.5]), "UInt32") == [1.5]                          # the client's rounding
    assert for_insert(np.array([3, 4]), "LowCardinality(String)") == [3, 4]


def _anonymous_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon")) / 1024


def test_the_embedded_engine_gives_freed_memory_back(tmp_path):
    """What a large GROUP BY used is returned to the system (jemalloc keeps it
    otherwise), and the store works on."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    try:
        store.command("CREATE TABLE scratch (ts DateTime, k String, v UInt64) ENGINE = MergeTree ORDER BY (k, ts)")
        store.command("INSERT INTO scratch SELECT now() - number % 3600, toString(number % 500), number "
                      "FROM numbers(2000000)")
        store.query("SELECT count() FROM (SELECT k, toStartOfMinute(ts) AS m, sum(v), quantiles(0.5, 0.99)(v) "
                    "FROM scratch GROUP BY k, m)")
        before = _anonymous_mb()
        store.release_memory()
        assert _anonymous_mb() < before - 20
        code = sum(rss for _, _, rss in clean_mappings(CHDB_LIBRARIES))
        store.release_memory(code_pages=True)      # the engine's code that ran: back to the page cache
        assert sum(rss for _, _, rss in clean_mappings(CHDB_LIBRARIES)) < code / 2
        assert store.query("SELECT count() FROM scratch").rows == [(2000000,)]
    finally:
        store.close()


def test_embedded_statements_run_on_one_thread_each_as_one_statement(tmp_path):
    """One engine thread is the embedded session's default, so a command is one
    statement: as a per-call setting the client wrapped each in three more (read
    the setting, SET it, SET it back: ~5 ms each)."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    try:
        def statements():
            return store.query("SELECT value FROM system.events WHERE event = 'Query'").rows[0][0]
        assert store.query("SELECT getSetting('max_threads')").rows == [(1,)]
        before = statements()
        store.command("SYSTEM JEMALLOC PURGE")
        assert statements() - before == 2           # the command and the read after it
        with store.connection() as client:
            client.command("SELECT 1", settings={"max_threads": 2})   # a per-call setting is set back
        assert store.query("SELECT getSetting('max_threads')").rows == [(1,)]
    finally:
        store.close()


def test_an_inserted_batch_is_let_go_when_the_insert_returns(tmp_path):
    """The client's insert context refers to itself; the batch it held waited for
    Python's cyclic collector (a flush's slices piled up, and a minute of rows
    stayed after it). With the collector off, the batch is freed by the insert's
    return alone."""
    class Column(list):        # a list a weak reference can follow
        pass

    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open()
    gc.disable()
    try:
        values = Column([1.5, 2.5])
        gone = weakref.ref(values)
        now = time.time()
        store.insert("agent_counters", {"ts": [now, now], "started": [now, now], "source": ["a", "a"],
                                        "name": ["x", "y"], "counter": ["c", "c"], "value": values})
        del values
        assert gone() is None
        assert store.query("SELECT sum(value) FROM agent_counters").rows == [(4.0,)]
    finally:
        gc.enable()
        store.close()


def test_an_embedded_merge_reads_at_most_twenty_parts_at_once(tmp_path):
    """A merge holds a granule of every part it reads, and an hourly rollup under
    churn puts ~60 shares into a 1-hour table: the embedded engine merges them
    twenty at a time (sql/embedded_engine.xml), so 25 parts become one only in a
    second round (the part's level is 2; with the engine's default of 100, one
    merge of all 25 made a level-1 part)."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open()
    hour = time.time() // 3600 * 3600.0
    try:
        with store.merges_held():
            for i in range(25):
                store.insert("disk_io_1h", {"ts": [hour], "device": [f"d{i}"], "ios": [1]})

        def parts():
            return [name for (name,) in store.query(
                "SELECT name FROM system.parts WHERE database = currentDatabase() AND table = 'disk_io_1h' "
                "AND active").rows]
        assert len(parts()) == 25
        for _ in range(30):           # each OPTIMIZE is one merge of parts the engine's selector picks
            store.command("OPTIMIZE TABLE disk_io_1h")
            if len(parts()) == 1:
                break
        [name] = parts()
        assert name.endswith("_1_25_2"), name
        assert store.query("SELECT sum(ios), uniqExact(device) FROM disk_io_1h").rows == [(25, 25)]
    finally:
        store.close()


def test_an_opened_embedded_store_holds_none_of_its_start_up_code(tmp_path):
    """The engine's initialisation and the schema check touch ~250 MB of its
    library's code that runs once; the store gives those pages back as it opens,
    before an agent's compiles map the compiler's (together they made the start-up
    peak, 540 MiB), and works on, faulting back what it runs."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    try:
        resident_mb = sum(rss for _, _, rss in clean_mappings(CHDB_LIBRARIES)) / 1024
        assert resident_mb < 60
        assert store.query("SELECT count() FROM system.tables WHERE database = currentDatabase()").rows[0][0] > 10
    finally:
        store.close()


def test_the_embedded_store_does_not_load_arrow_until_a_parquet_export(tmp_path):
    """chDB would import pyarrow (~40 MB resident) for APIs pyperf never calls;
    the store works without it loaded, and a Parquet export still loads it."""
    import subprocess
    import sys

    program = f"""
import sys, time
from pyperf.store.dsn import parse_dsn
from pyperf.kernel.resident import clean_mappings
from pyperf.store.store import CHDB_LIBRARIES, Store
store = Store(parse_dsn("chdb://{tmp_path}/store"), host_name="h").open()
store.insert("system_cpu", {{"ts": [time.time()], "interval_ms": [1000], "cpu": [0], "busy_pct": [12.5]}})
assert store.query("SELECT busy_pct FROM system_cpu").rows == [(12.5,)]
assert "pyarrow" not in sys.modules
from pyperf.web import export
assert export.render([{{"busy_pct": 12.5}}], "parquet")[:4] == b"PAR1"
assert "pyarrow" in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_merge_holds_nest_across_threads_and_end_with_the_last(tmp_path):
    """The engine's merge switch does not count: a second hold ending first must
    not resume merges under the first (a web page's flush during the rollups)."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="t").open()
    assert merges_run(store)
    outer = store.merges_held()
    outer.__enter__()
    inner_done = threading.Event()

    def reader_flush():
        with store.merges_held():
            pass
        inner_done.set()
    threading.Thread(target=reader_flush).start()
    assert inner_done.wait(30)
    assert not merges_run(store)
    outer.__exit__(None, None, None)
    assert merges_run(store)
    with pytest.raises(ValueError):
        with store.merges_held():
            raise ValueError("a failing flush")
    assert merges_run(store)
    store.close()


def test_threads_that_touch_the_store_leave_no_client_behind(tmp_path):
    """The web server runs each request on a thread of its own. Clients are
    borrowed for a call, not kept per thread: a hundred one-request threads
    leave at most IDLE_CLIENTS clients and the engine's memory where it was (a
    client per thread: ~1 MiB of engine memory each, never given back); calls at
    the same time each have one of their own; a failed call takes none away."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store")).open()
    try:
        def tracked() -> int:
            return store.query("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'").rows[0][0]

        before = tracked()
        for _ in range(100):
            t = threading.Thread(target=store.query, args=("SELECT count() FROM system.tables",))
            t.start()
            t.join()
        assert len(store.clients) <= Store.IDLE_CLIENTS
        assert tracked() - before < 20 * 2**20, (before, tracked())

        both = threading.Barrier(2, timeout=30)
        lent: list = []

        def hold() -> None:
            with store.connection() as client:
                lent.append(client)
                both.wait()            # both borrowed at once
                client.query("SELECT 1")

        threads = [threading.Thread(target=hold) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(lent) == 2 and lent[0] is not lent[1]

        open_before = len(store.clients)
        with pytest.raises(StoreError):
            store.query("SELECT no_such_column FROM system.one")
        assert store.query("SELECT 1").rows == [(1,)]          # a failed call leaves the pool as it was
        assert len(store.clients) == open_before
    finally:
        store.close()
    assert len(store.clients) == 0
