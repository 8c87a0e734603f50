"""The writer keeps each drain's columns as they came (numpy arrays from the
per-process tables, lists from the others) and makes them rows only at the
flush: the rows stored are the same either way (the real embedded engine)."""

import time

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS
from pyperf.pipeline.writer import BatchWriter, _chunk_rows, _joined, _joined_columns, _slices
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store


def _drain(start: int, pids: list[int], as_numpy: bool) -> dict:
    n = len(pids)
    hist = np.arange(n * HIST_SLOTS, dtype=np.uint64).reshape(n, HIST_SLOTS) % 7
    columns = {"ts": np.full(n, float(start)), "interval_ms": np.full(n, 1000), "pid": np.array(pids, np.uint32),
               "comm": np.array(["nginx", "caf\ufffd", "x" * 15][:n], "U16"),
               "voluntary_switches": np.array(pids, np.uint64) * 3, "runq_latency_hist": hist}
    return {"sched_process": columns if as_numpy else {k: v.tolist() for k, v in columns.items()}}


def test_numpy_and_list_chunks_are_stored_as_the_same_rows(tmp_path):
    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open()
    t = int(time.time()) - 10          # recent: older rows than the table's TTL may go at any merge
    try:
        writer = BatchWriter(store)
        writer.submit(_drain(t, [1, 2, 3], as_numpy=True))
        writer.submit(_drain(t + 1, [4, 5], as_numpy=False))       # a drain of lists between
        writer.submit(_drain(t + 2, [6], as_numpy=True))
        writer.flush()
        assert writer.inserted["sched_process"] == 6 and writer.flushes == 1
        rows = store.query("SELECT toUnixTimestamp(ts), pid, comm, voluntary_switches, runq_latency_hist "
                           "FROM sched_process ORDER BY pid").rows
        expected = []
        for start, pids in ((t, [1, 2, 3]), (t + 1, [4, 5]), (t + 2, [6])):
            c = _drain(float(start), pids, as_numpy=False)["sched_process"]
            expected += [(start, p, comm, v, h) for p, comm, v, h in
                         zip(c["pid"], c["comm"], c["voluntary_switches"], c["runq_latency_hist"])]
        assert rows == expected
    finally:
        store.close()


def test_a_column_joins_numeric_chunks_into_one_array_and_others_into_python_values():
    joined = _joined([np.array([[1, 2]], np.uint64), np.array([[3, 4], [5, 6]], np.uint64)])
    assert isinstance(joined, np.ndarray) and joined.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert _joined([np.array([1, 2], np.uint32), np.array([3], np.uint32)]).tolist() == [1, 2, 3]
    assert _joined([np.array([1, 2], np.uint32), [3], np.array([4.5])]) == [1, 2, 3, 4.5]
    assert _joined([np.array(["a"], "U4"), ["b"]]) == ["a", "b"]


def test_a_batch_goes_in_slices_cut_across_its_chunks_at_the_same_rows_as_when_joined():
    """The flush joins each slice from the drains' chunks (a burst minute is never held
    twice); the slices must be the ones a replay of the joined batch cuts (their
    tokens are the same), text and numbers alike."""
    rng = np.random.default_rng(3)
    sizes = [3, 7, 1, 12, 5]
    chunks = {"pid": [rng.integers(0, 99, n).astype(np.uint32) for n in sizes],
              "hist": [rng.integers(0, 9, (n, 4)).astype(np.uint64) for n in sizes],
              "comm": [[f"p{i}"] * n for i, n in enumerate(sizes)]}
    joined = _joined_columns(chunks)
    assert _chunk_rows(chunks) == sum(sizes) == len(joined["comm"])
    for size in (1, 4, 5, 28, 100):
        got = list(_slices(chunks, size))
        want = list(_slices({k: [v] for k, v in joined.items()}, size))
        assert [len(s["pid"]) for s in got] == [min(size, 28 - i) for i in range(0, 28, size)]
        for mine, theirs in zip(got, want, strict=True):
            assert mine["pid"].tolist() == theirs["pid"].tolist()
            assert mine["hist"].tolist() == theirs["hist"].tolist()
            assert mine["comm"] == theirs["comm"]
    one = np.array([4, 5], np.uint32)
    assert _joined([one]) is one             # a slice within one chunk is not copied
    assert list(_slices({"pid": []}, 5)) == []


def test_numpy_columns_spooled_while_the_store_is_down_are_stored_once_it_answers(tmp_path):
    """Spool files hold Python values only: a per-process table's numpy columns are
    spooled as such and replayed as the same rows."""
    from pyperf.errors import StoreError
    from pyperf.pipeline.spool import Spool

    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open()
    t = int(time.time()) - 10
    insert, down = store.insert, [True]

    def insert_unless_down(table, columns, token):
        if down[0]:
            raise StoreError("store went away", transient=True)
        return insert(table, columns, token)
    store.insert = insert_unless_down
    try:
        writer = BatchWriter(store, flush_interval_s=3600, spool=Spool(tmp_path / "spool", max_bytes=1 << 20))
        writer.submit(_drain(t, [1, 2, 3], as_numpy=True))
        writer.flush()
        assert writer.spooled == {"sched_process": 3} and writer.inserted == {}
        down[0] = False
        writer.flush()
        assert writer.replayed == {"sched_process": 3}
        rows = store.query("SELECT pid, comm, voluntary_switches, runq_latency_hist FROM sched_process ORDER BY pid").rows
        c = _drain(t, [1, 2, 3], as_numpy=False)["sched_process"]
        assert rows == list(zip(c["pid"], c["comm"], c["voluntary_switches"], c["runq_latency_hist"]))
        writer.close()
    finally:
        store.close()


def test_containers_are_announced_from_a_per_process_table_of_numpy_columns():
    """The per-process tables' mnt_ns / cgroup_id come as numpy: each distinct pair
    is looked up once, and the containers row holds plain ints."""
    from pyperf.containers.enricher import ContainerEnricher
    from pyperf.containers.resolver import Container

    asked = []

    class Resolver:
        def by_key(self, mnt_ns, cgroup_id):
            asked.append((mnt_ns, cgroup_id))
            return Container(id="c1", name="web", image="nginx", runtime="docker", pod_uid="",
                             cgroup_path="/docker/c1", mnt_ns=mnt_ns, cgroup_id=cgroup_id)

    enricher = ContainerEnricher(Resolver())
    batch = {"sched_process": {"mnt_ns": np.array([4026532000, 4026532000, 0], np.uint64),
                               "cgroup_id": np.array([77, 77, 1], np.uint64)}}
    rows = enricher.observe(batch, 5.0)["containers"]
    assert asked == [(4026532000, 77)]              # the host's namespace (0) is not looked up
    assert rows["mnt_ns"] == [4026532000] and type(rows["mnt_ns"][0]) is int and rows["cgroup_id"] == [77]
    assert enricher.observe(batch, 6.0) == {}       # announced once
    # a table without cgroup ids (profile_stack), as a list: its namespaces with cgroup 0
    rows = enricher.observe({"profile_stack": {"mnt_ns": [4026532001, 4026532001]}}, 7.0)["containers"]
    assert asked[1:] == [(4026532001, 0)] and rows["cgroup_id"] == [0] and type(rows["mnt_ns"][0]) is int


def _cpu_drain(start: int) -> dict:
    return {"sched_cpu": {"ts": [float(start)], "interval_ms": [1000], "cpu": [0], "context_switches": [5],
                          "runq_latency_sum_us": [1], "runq_waits": [1], "runq_latency_hist": [[0] * HIST_SLOTS]}}


def test_small_batches_of_windowed_tables_wait_for_their_turn_and_a_readers_flush_takes_all(tmp_path):
    """Tables the live window holds (readers get their newest rows from it) write a
    small batch only every 5th scheduled flush, each table in a turn of its own; a
    batch of 2 000 rows or more goes at the next one; a reader's flush (and the
    last) takes everything. Every row is stored once (the real embedded engine)."""
    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open()
    t = int(time.time()) - 60
    try:
        writer = BatchWriter(store, flush_interval_s=60, windowed={"sched_process", "sched_cpu"}, window_s=900)
        assert writer.windowed_every == 5 and writer.longest_wait_s == 300
        written = []
        for n in range(10):
            writer.submit(_drain(t + n, [n + 1], as_numpy=True))
            writer.submit(_cpu_drain(t + n))
            writer._scheduled_flush()
            written.append((writer.inserted["sched_process"], writer.inserted["sched_cpu"]))
        assert written == [(0, 1), (0, 1), (0, 1), (0, 1), (5, 1), (5, 6), (5, 6), (5, 6), (5, 6), (10, 6)]
        for n in range(667):                           # 2 001 rows buffered
            writer.submit(_drain(t + 10, [100 + 3 * n, 101 + 3 * n, 102 + 3 * n], as_numpy=True))
        writer.submit(_cpu_drain(t + 10))
        writer._scheduled_flush()                      # the 11th: sched_process is big, sched_cpu's turn
        assert (writer.inserted["sched_process"], writer.inserted["sched_cpu"]) == (2_011, 11)
        writer.submit(_cpu_drain(t + 11))
        writer.flush()                                 # a reader's: all of it
        assert writer.inserted["sched_cpu"] == 12 and writer._buffered_rows == 0
        counts = store.query("SELECT (SELECT count() FROM sched_process), (SELECT count() FROM sched_cpu)").rows
        assert counts == [(2_011, 12)]
    finally:
        store.close()


def test_no_row_waits_longer_than_half_the_live_window():
    """The governor doubles the flush interval to 120 s: small windowed batches then
    wait 3 flushes (6 minutes of the window's 15); at 300 s, none waits. Without
    windowed tables every batch goes at every flush."""
    writer = BatchWriter(None, flush_interval_s=120, windowed={"sched_cpu"}, window_s=900)
    assert writer.windowed_every == 3 and writer.longest_wait_s == 360
    writer.flush_interval_s = 300
    assert writer.windowed_every == 1 and writer.longest_wait_s == 300
    assert BatchWriter(None, flush_interval_s=60).longest_wait_s == 60
