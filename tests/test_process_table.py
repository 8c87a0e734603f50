"""The per-process model: per-CPU copies made one, differences between drains,
and the entries of exited processes deleted, on arrays shaped as the kernel's
batch lookup returns them (no root, no BPF)."""

import ctypes

import numpy as np
import pytest

from pyperf.probes.process_table import Layout, ProcessTable, sum_percpu, text


class Value(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint64), ("mnt_ns", ctypes.c_uint64), ("cgroup_id", ctypes.c_uint64),
                ("comm", ctypes.c_char * 16), ("lat_hist", ctypes.c_uint64 * 4)]


CPUS = 2


def value(count=0, mnt_ns=0, cgroup_id=0, comm=b"", hist=(0, 0, 0, 0)) -> Value:
    return Value(count, mnt_ns, cgroup_id, comm, (ctypes.c_uint64 * 4)(*hist))


class FakeMap:
    """The kernel map's contents: {tgid: [Value per CPU]}; deletions recorded."""

    Key = ctypes.c_uint32
    max_entries = 1024

    def __init__(self):
        self.entries: dict[int, list[Value]] = {}
        self.deleted: list[int] = []

    def delete(self, keys):
        for key in keys.tolist():       # a numpy array of the keys, as delete_keys takes them
            self.deleted.append(key)
            del self.entries[key]

    def read_arrays(self, key_dtype, value_dtype, each=None):
        keys = np.array(list(self.entries), key_dtype)
        raw = b"".join(bytes(v) for copies in self.entries.values() for v in copies)
        rows = np.frombuffer(raw, value_dtype).reshape(len(keys), -1)
        return keys, each(rows) if each is not None else rows


def table(tmp_path, fake, alive=()):
    proc = tmp_path / "proc"
    proc.mkdir(exist_ok=True)
    for pid in alive:
        (proc / str(pid)).mkdir()
    return ProcessTable(fake, Value, proc_root=str(proc), reader=fake)


def test_copies_are_combined_per_field():
    combined = sum_percpu([value(3, mnt_ns=0, cgroup_id=7, comm=b"", hist=(1, 0, 0, 2)),
                           value(4, mnt_ns=4026531840, cgroup_id=9, comm=b"nginx", hist=(0, 5, 0, 1))], Value)
    assert combined["count"] == 7
    assert combined["mnt_ns"] == 4026531840          # the copy that has it
    assert combined["cgroup_id"] == 9                # the newest id
    assert combined["comm"] == b"nginx"
    assert combined["lat_hist"].tolist() == [1, 5, 0, 3]


def test_differences_between_drains(tmp_path):
    fake = FakeMap()
    fake.entries = {10: [value(5, 1, 1, b"a"), value(0)], 20: [value(1, 2, 2, b"b"), value(1)]}
    processes = table(tmp_path, fake, alive=(10, 20, 30))
    processes.baseline()
    fake.entries[10] = [value(9, 1, 1, b"a", (0, 1, 0, 0)), value(3)]      # moved by 7
    fake.entries[30] = [value(0), value(2, 3, 3, b"new", (2, 0, 0, 0))]    # new: all of it counts
    moved = processes.deltas()
    assert moved.tgid.tolist() == [10, 30]                                 # 20 did not move
    assert moved.diff["count"].tolist() == [7, 2]
    assert moved.diff["lat_hist"].tolist() == [[0, 1, 0, 0], [2, 0, 0, 0]]
    cols = moved.columns(now=1.5, interval_ms=1000)
    assert {k: v.tolist() for k, v in cols.items()} == {
        "ts": [1.5, 1.5], "interval_ms": [1000, 1000], "pid": [10, 30], "comm": ["a", "new"],
        "mnt_ns": [1, 3], "cgroup_id": [1, 3]}
    assert len(processes.deltas()) == 0                                    # nothing moved since


class Narrow(ctypes.Structure):
    """Histogram slots of 32 bits, as struct sched_process keeps them."""
    _fields_ = [("count", ctypes.c_uint64), ("mnt_ns", ctypes.c_uint64), ("comm", ctypes.c_char * 16),
                ("lat_hist", ctypes.c_uint32 * 4), ("wait_hist", ctypes.c_uint32 * 2)]


def narrow(count=0, lat=(0, 0, 0, 0), wait=(0, 0), comm=b"") -> Narrow:
    return Narrow(count, 0, comm, (ctypes.c_uint32 * 4)(*lat), (ctypes.c_uint32 * 2)(*wait))


def test_32_bit_slots_are_summed_and_differenced_modulo_2_32(tmp_path):
    top = 2**32
    fake = FakeMap()
    fake.entries = {10: [narrow(1, (top - 3, 1, 0, 7), (5, 0), b"a"), narrow(0, (2, 0, 0, 0), (0, 9))]}
    processes = ProcessTable(fake, Narrow, proc_root=str(tmp_path), reader=fake)
    combined = sum_percpu(fake.entries[10], Narrow)
    assert combined["lat_hist"].tolist() == [top - 1, 1, 0, 7]
    assert combined["wait_hist"].tolist() == [5, 9] and combined["comm"] == b"a"
    processes.baseline()
    # CPU 0's slot 0 wraps past 2^32 (top - 3 + 6 = 3): the copies' sum wraps too
    fake.entries[10] = [narrow(2, (3, 1, 0, 7), (5, 1), b"a"), narrow(0, (3, 0, 0, 0), (0, 9))]
    moved = processes.deltas()
    assert moved.diff["lat_hist"].tolist() == [[7, 0, 0, 0]]
    assert moved.diff["wait_hist"].tolist() == [[0, 1]]
    assert moved.diff["count"].tolist() == [1]
    assert moved.diff["lat_hist"].dtype == np.uint32


def test_layout_keeps_identity_fields_64_bit():
    class Odd(ctypes.Structure):
        _fields_ = [("count", ctypes.c_uint64), ("mnt_ns", ctypes.c_uint32 * 2)]
    with pytest.raises(ValueError):
        Layout(Odd)


def test_exited_processes_are_deleted_after_their_last_difference(tmp_path):
    fake = FakeMap()
    fake.entries = {10: [value(1, comm=b"stays"), value(0)], 20: [value(1, comm=b"dies"), value(0)]}
    processes = table(tmp_path, fake, alive=(10,))
    processes.baseline()
    fake.entries[20] = [value(4, comm=b"dies"), value(0)]                  # counts taken at exit
    seen = []
    for _ in range(ProcessTable.SCAN_EVERY):
        seen += processes.deltas().diff["count"].tolist()
    assert seen == [3]                           # its last difference was reported, once
    assert fake.deleted == []                    # found dead: read once more, after its death
    assert processes.deltas().diff["count"].tolist() == []
    assert fake.deleted == [20] and list(fake.entries) == [10]


class CountsAfterTheRead(FakeMap):
    """A map whose entry gains counts right after a read, as a process's last
    switch-out or reply can land between the drain's read and its /proc listing."""

    def __init__(self):
        super().__init__()
        self.after_read = {}

    def read_arrays(self, key_dtype, value_dtype, each=None):
        read = super().read_arrays(key_dtype, value_dtype, each)
        self.entries.update(self.after_read)
        self.after_read = {}
        return read


def test_counts_a_process_gained_after_the_read_before_it_died_are_kept(tmp_path):
    fake = CountsAfterTheRead()
    fake.entries = {10: [value(1), value(0)], 20: [value(1), value(0)]}
    processes = table(tmp_path, fake, alive=(10,))         # 20 is gone by the listing
    processes.baseline()
    seen = []
    for _ in range(ProcessTable.SCAN_EVERY - 1):
        seen += processes.deltas().diff["count"].tolist()
    fake.after_read = {20: [value(5), value(0)]}             # its exit's counts, after the scan's read
    seen += processes.deltas().diff["count"].tolist()        # the scan: 20 is not in /proc
    seen += processes.deltas().diff["count"].tolist()
    assert seen == [4]
    assert fake.deleted == [20]


def test_a_dead_tgid_taken_by_a_new_process_before_the_next_scan_is_kept(tmp_path):
    fake = FakeMap()
    fake.entries = {10: [value(1), value(0)], 20: [value(1), value(0)]}
    processes = table(tmp_path, fake, alive=(10,))
    processes.baseline()
    for _ in range(ProcessTable.SCAN_EVERY):
        processes.deltas()                                   # the scan finds 20 dead
    (tmp_path / "proc" / "20").mkdir()                       # its pid, reused
    processes.deltas()
    assert fake.deleted == [] and 20 in fake.entries


def test_a_filling_map_is_scanned_at_once(tmp_path):
    fake = FakeMap()
    fake.max_entries = 4
    fake.entries = {pid: [value(1), value(0)] for pid in (1, 2)}
    processes = table(tmp_path, fake, alive=(1,))
    processes.baseline()
    processes.deltas()
    processes.deltas()                 # found dead, then read once more
    assert fake.deleted == [2]


def test_a_host_starting_many_processes_is_scanned_at_every_drain(tmp_path):
    """Where processes start faster than SCAN_GROWN a drain, the exited ones are
    deleted at the next drain, not after SCAN_EVERY: every drain reads every entry,
    and under churn most of them would be the dead. A quiet map waits."""
    fake = FakeMap()
    fake.entries = {1: [value(1), value(0)]}
    processes = table(tmp_path, fake, alive=(1,))
    processes.baseline()
    processes.deltas()
    assert fake.deleted == []                               # nothing grew: no scan yet
    short_lived = range(1000, 1000 + ProcessTable.SCAN_GROWN)
    fake.entries.update({pid: [value(1), value(0)] for pid in short_lived})
    moved = processes.deltas()
    assert sorted(moved.tgid.tolist()) == list(short_lived)    # their counts, once
    assert len(processes.deltas()) == 0                       # read once more after their death
    assert sorted(fake.deleted) == list(short_lived) and list(fake.entries) == [1]
    fake.entries[2000] = [value(1), value(0)]                 # one more: below the growth that scans
    processes.deltas()
    assert 2000 in fake.entries


def test_names_that_are_not_utf8_are_text_with_the_bytes_replaced():
    assert text(np.array([b"nginx", b"caf\xe9", b""], "S16")).tolist() == ["nginx", "caf\ufffd", ""]


def test_layout_refuses_a_struct_it_cannot_read_as_words():
    class Odd(ctypes.Structure):
        _fields_ = [("count", ctypes.c_uint64), ("flag", ctypes.c_uint32)]

    with pytest.raises(ValueError, match="64-bit"):
        Layout(Odd)


def test_a_new_process_is_named_as_it_is_after_its_exec(tmp_path):
    """The kernel side keeps the name a process had when first seen (a container's
    main process: runc's); at the next scan its current name comes from /proc,
    once, and names the rows from then on."""
    fake = FakeMap()
    fake.entries = {10: [value(1, comm=b"old"), value(0)]}
    processes = table(tmp_path, fake, alive=(10, 40))
    processes.baseline()
    (tmp_path / "proc" / "40" / "comm").write_bytes(b"nginx\n")
    (tmp_path / "proc" / "10").joinpath("comm").write_bytes(b"renamed\n")
    names = []
    for count in range(1, ProcessTable.SCAN_EVERY + 2):
        fake.entries[40] = [value(count, comm=b"runc:[2:INIT]"), value(0)]
        fake.entries[10] = [value(1 + count, comm=b"old"), value(0)]
        names.append(dict(zip(*(lambda c: (c["pid"].tolist(), c["comm"].tolist()))(
            processes.deltas().columns(0.0, 1000)))))
    assert names[0] == {10: "old", 40: "runc:[2:INIT]"}
    assert names[-1] == {10: "old", 40: "nginx"}        # a process seen at the start keeps its name


def test_a_drains_columns_hold_only_their_own_values(tmp_path):
    """The rows wait a minute in the writer: no column may keep the drain's whole
    matrix of words alive through a view, and histograms wait as 32-bit counts
    (their columns are Array(UInt32)) unless a difference does not fit."""
    fake = FakeMap()
    fake.entries = {pid: [value(1, 5, 6, b"p"), value(0)] for pid in range(10, 50)}
    processes = table(tmp_path, fake, alive=range(10, 50))
    processes.baseline()
    fake.entries = {pid: [value(3, 5, 6, b"p", (1, 2, 0, 4)), value(1)] for pid in range(10, 50)}
    moved = processes.deltas()
    columns = {**moved.identity, **moved.diff}
    for name, column in columns.items():
        owner = column if column.base is None else column.base
        assert owner.nbytes <= column.nbytes, name
    assert moved.diff["lat_hist"].dtype == np.uint32 and moved.diff["lat_hist"][0].tolist() == [1, 2, 0, 4]
    assert moved.identity["comm"].tolist() == [b"p"] * 40

    fake.entries[10] = [value(3, 5, 6, b"p", (1, 2, 0, 2**33)), value(1)]
    assert processes.deltas().diff["lat_hist"].tolist() == [[0, 0, 0, 2**33 - 4]]   # as it is, to be refused


def test_only_processes_whose_name_changed_are_renamed(tmp_path):
    """Renaming is per row in Python every drain: a process whose name in /proc is
    the one the kernel side has needs none."""
    fake = FakeMap()
    fake.entries = {9: [value(1, comm=b"init"), value(0)]}
    processes = table(tmp_path, fake, alive=(9, 40, 41))
    processes.baseline()
    (tmp_path / "proc" / "40" / "comm").write_bytes(b"nginx\n")
    (tmp_path / "proc" / "41" / "comm").write_bytes(b"worker\n")
    for count in range(1, ProcessTable.SCAN_EVERY + 2):
        fake.entries[40] = [value(count, comm=b"runc:[2:INIT]"), value(0)]
        fake.entries[41] = [value(count, comm=b"worker"), value(0)]
        names = dict(zip(*(lambda c: (c["pid"].tolist(), c["comm"].tolist()))(
            processes.deltas().columns(0.0, 1000))))
    assert names == {40: "nginx", 41: "worker"}      # 9 did not move
    assert processes._names == {40: b"nginx"}
