"""Per-process kernel maps (hashes keyed by tgid with cumulative values, per CPU
or not) turned into per-interval differences: what the sched, faults and tcp
probes share.

A value's fields are counters (summed across CPUs, differenced between
drains), `*_hist` arrays (the same, element-wise) and identity fields
(comm, mnt_ns, cgroup_id: set once, on one CPU's copy). Entries of processes
that have exited are deleted after their last difference is taken.

The map is read with batch syscalls into numpy and differenced as arrays: at a
1 s interval this runs for every process on the host every second."""

from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import dataclass

import numpy as np

from pyperf.probes.keyed_counters import KeyedCounters
from pyperf.probes.map_drain import MapDrainer
from pyperf.schema import AGENT_HOST, INTERVAL_END, INTERVAL_MS, KEY, Column

IDENTITY = ("comm", "mnt_ns", "cgroup_id")

# The columns every per-process table starts with (docs/schema.md reads these).
PROCESS_COLUMNS = (
    INTERVAL_END,
    AGENT_HOST,
    INTERVAL_MS,
    Column("pid", "UInt32", KEY, "", "process id (thread group id)"),
    Column("comm", "LowCardinality(String)", KEY, "",
           "command name, as the kernel had it a few seconds after the process was first seen (after the exec "
           "that usually follows a fork)"),
    Column("mnt_ns", "UInt64", KEY, "",
           "mount namespace inode: the container key (see docs/monitoring.md)", codec="T64, ZSTD(1)"),
    Column("cgroup_id", "UInt64", KEY, "",
           "latest cgroup v2 id of the process (0 on cgroup v1 hosts)", codec="T64, ZSTD(1)"),
)


def sum_percpu(values, ctype) -> dict:
    """Add up the per-CPU copies of one map value (single-entry maps: host and
    CPU totals)."""
    layout = Layout.of(ctype)
    copies = np.frombuffer(b"".join(bytes(v) for v in values), np.uint64).reshape(1, -1, layout.words)
    return {name: value[0] if value.ndim > 1 else value[0].item()
            for name, value in layout.fields(layout.combine(copies)).items()}


class Layout:
    """A map value struct seen as a row of 64-bit words, so a whole table is one
    integer matrix: summing CPUs, differencing drains and finding what moved
    are one numpy operation each, whatever the number of fields.

    Fields are 64-bit (counters, identity) or arrays of 32-bit counts (histogram
    slots, half the kernel memory of a per-CPU map: docs/performance.md, "Kernel
    memory of the BPF maps"), each starting on a word. A combined row has one
    int64 column per 64-bit word and per 32-bit count; 32-bit counts are summed
    modulo 2^32 and `wrapping` marks their columns, whose differences are taken
    modulo 2^32 too (KeyedCounters): exact while a count gains less than 2^32
    between two reads."""

    def __init__(self, ctype):
        if ctypes.sizeof(ctype) % 8:
            raise ValueError(f"{ctype.__name__} is not a whole number of 64-bit words")
        self.words = ctypes.sizeof(ctype) // 8
        self.slices: dict[str, slice] = {}             # name -> its columns in a combined row
        self._raw: dict[str, slice] = {}               # name -> its words in the map's value
        self._wide: list[tuple[slice, slice]] = []     # (raw words, columns) of 64-bit fields
        self._narrow: list[tuple[slice, slice]] = []   # (raw words, columns) of 32-bit counts
        counted, wrapping, column = [], [], 0
        for name, field_type in ctype._fields_:
            offset, size = getattr(ctype, name).offset, ctypes.sizeof(field_type)
            if offset % 8 or size % 8:
                raise ValueError(f"{ctype.__name__}.{name} is not 64-bit aligned")
            raw = self._raw[name] = slice(offset // 8, (offset + size) // 8)
            narrow = getattr(field_type, "_type_", None) is ctypes.c_uint32
            if narrow and name in IDENTITY:
                raise ValueError(f"{ctype.__name__}.{name}: identity fields are 64-bit")
            width = size // 4 if narrow else size // 8
            self.slices[name] = slice(column, column + width)
            runs = self._narrow if narrow else self._wide
            if runs and runs[-1][0].stop == raw.start and runs[-1][1].stop == column:   # one sum for adjacent fields
                runs[-1] = (slice(runs[-1][0].start, raw.stop), slice(runs[-1][1].start, column + width))
            else:
                runs.append((raw, self.slices[name]))
            counted += [name not in IDENTITY] * width
            wrapping += [narrow] * width
            column += width
        self.columns = column
        self.counted = np.array(counted, bool)         # columns that are counters or histogram slots
        self.wrapping = np.array(wrapping, bool)

    @staticmethod
    @functools.cache
    def of(ctype) -> Layout:
        return Layout(ctype)

    def combine(self, copies: np.ndarray) -> np.ndarray:
        """(entries, CPUs, words) → (entries, columns) as int64 (so differences can go
        below zero): counters and histograms summed, the newest cgroup id (ids
        only grow), the mount namespace and name from the copy that has them."""
        if not self._narrow:
            out = copies.sum(axis=1, dtype=np.uint64).view(np.int64)
        else:
            out = np.empty((len(copies), self.columns), np.int64)
            for raw, columns in self._wide:
                out[:, columns] = copies[:, :, raw].sum(axis=1, dtype=np.uint64).view(np.int64)
            for raw, columns in self._narrow:
                out[:, columns] = copies[:, :, raw].view(np.uint32).sum(axis=1, dtype=np.uint32)
        for name in ("mnt_ns", "cgroup_id"):
            if name in self.slices:
                out[:, self.slices[name]] = copies[:, :, self._raw[name]].max(axis=1).view(np.int64)
        if "comm" in self.slices:
            comm = copies[:, :, self._raw["comm"]]
            first = np.argmax(comm.any(axis=2), axis=1)
            out[:, self.slices["comm"]] = comm[np.arange(len(comm)), first].view(np.int64)
        return out

    def fields(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """(entries, columns) → {field: one value (or histogram row) per entry};
        names as bytes."""
        out = {}
        for name, where in self.slices.items():
            if name == "comm":
                out[name] = np.ascontiguousarray(rows[:, where]).view(f"S{(where.stop - where.start) * 8}")[:, 0]
            elif where.stop - where.start == 1 and not name.endswith("_hist"):
                out[name] = rows[:, where.start]
            else:
                out[name] = rows[:, where]
        return out


def exited(tgids: np.ndarray, alive: set[int]) -> np.ndarray:
    """Which of `tgids` are not in a /proc listing taken after the map was read (a
    process started after the listing would look dead)."""
    return ~np.isin(tgids, np.fromiter(alive, np.int64, len(alive)))


def live_tgids(proc_root: str = "/proc") -> set[int]:
    return {int(name) for name in os.listdir(proc_root) if name.isdigit()}


@dataclass
class ProcessDeltas:
    """Processes whose counters moved in one interval, as columns."""

    tgid: np.ndarray
    identity: dict[str, np.ndarray]
    diff: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.tgid)

    def select(self, keep: np.ndarray) -> ProcessDeltas:
        return ProcessDeltas(self.tgid[keep], {k: v[keep] for k, v in self.identity.items()},
                             {k: v[keep] for k, v in self.diff.items()})

    def columns(self, now: float, interval_ms: int) -> dict[str, np.ndarray]:
        """The PROCESS_COLUMNS columns of these rows (host is added by the collector),
        as numpy arrays: they wait a minute in the writer (pipeline/writer.py)."""
        n = len(self)
        out = {"ts": np.full(n, now), "interval_ms": np.full(n, interval_ms), "pid": self.tgid,
               "comm": text(self.identity["comm"])}
        for name in ("mnt_ns", "cgroup_id"):
            if name in self.identity:
                out[name] = self.identity[name]
        return out


def compact(counts: np.ndarray) -> np.ndarray:
    """A column of differences as an array of its own; histograms as 32-bit counts
    when they fit (the columns are Array(UInt32): half the memory while buffered,
    and nothing to convert at the insert)."""
    if counts.ndim == 2 and len(counts) and counts.min() >= 0 and counts.max() <= np.iinfo(np.uint32).max:
        return counts.astype(np.uint32)
    return np.ascontiguousarray(counts)


def text(names: np.ndarray) -> np.ndarray:
    """Kernel names (bytes, NUL-padded) as numpy text, undecodable bytes replaced."""
    try:
        return names.astype(f"U{names.dtype.itemsize}")      # ASCII, in C
    except UnicodeDecodeError:
        return np.array([c.decode("utf-8", "replace") for c in names.tolist()], f"U{names.dtype.itemsize}")


class ExitScan:
    """When a drain lists /proc for exited processes (~0.5 ms with a few hundred
    processes, most of it in the kernel): every EVERY drains; at once when GROWN
    more processes are held than after the last look, so a host that starts them
    faster than that a drain is scanned every drain and the dead are not carried;
    when the caller says it is full; and at the drain after a scan that found
    some dead (settled())."""
    EVERY = 5
    GROWN = 64

    def __init__(self):
        self._since = 0
        self._kept = 0
        self._dead = np.empty(0, np.int64)     # found dead by the last scan, not yet forgotten

    def due(self, held: int, full: bool = False) -> bool:
        self._since += 1
        if self._since < self.EVERY and held - self._kept < self.GROWN and not full and not len(self._dead):
            return False
        self._since = 0
        return True

    def settled(self, tgids: np.ndarray, alive: set[int]) -> np.ndarray:
        """Which of `tgids` (their entries read from a map before /proc was listed as
        `alive`) to forget now: those this scan and the one before both found dead.
        A process this listing misses may have died after the map was read, its last
        counts (its exit's switch-out, its last reply) not in what was read; read
        again at the next scan, after its death, they all are. A tgid alive again
        in between is another process's."""
        dead = exited(tgids, alive)
        gone = dead & np.isin(tgids, self._dead)
        self._dead = np.unique(tgids[dead & ~gone]).astype(np.int64)
        return gone

    def kept(self, held: int) -> None:
        """What the scan left: the baseline GROWN counts from."""
        self._kept = held


class ProcessTable:
    # Dead processes' entries stop moving, but every drain reads them (a short-lived
    # process would be read SCAN_EVERY times after it exited): ExitScan, and at once
    # when the map is SCAN_FILL full.
    SCAN_EVERY, SCAN_GROWN = ExitScan.EVERY, ExitScan.GROWN
    SCAN_FILL = 0.25

    def __init__(self, table, ctype, proc_root: str = "/proc", reader=None):
        self.table = table
        self.proc_root = proc_root
        self._scan = ExitScan()
        self.layout = Layout.of(ctype)
        self._reader = reader or MapDrainer(table)
        self._counters = KeyedCounters(wrapping=self.layout.wrapping)
        # the kernel side keeps the name a process had when first seen: a container's
        # main process is still "runc:[2:INIT]" then; its name after the exec is read
        # once, at the next scan, from /proc
        self._new: list[np.ndarray] = []
        self._names: dict[int, bytes] = {}

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """(tgids, one combined row of words per tgid) of every entry."""
        words = self.layout.words

        def combined(rows: np.ndarray) -> np.ndarray:     # each batch's copies (per CPU, or 1)
            return self.layout.combine(rows.reshape(len(rows), rows.shape[1] // words, words))
        return self._reader.read_arrays(np.dtype(np.uint32), np.dtype(np.uint64), each=combined)

    def baseline(self) -> None:
        self._counters.advance(*self.read())

    def deltas(self) -> ProcessDeltas:
        known = self._counters.keys is not None and len(self._counters.keys)
        keys, current, diff, seen = self._counters.deltas(*self.read())
        if not len(keys) and not known:       # a map nothing has written to yet
            return self._result(keys, current, current)
        moved = (diff[:, self.layout.counted] != 0).any(axis=1)
        if known:
            self._new.append(keys[~seen])
        self._counters.remember(*self._forget_exited(keys, current))
        return self._result(keys[moved], current[moved], diff[moved])

    def _result(self, keys: np.ndarray, current: np.ndarray, diff: np.ndarray) -> ProcessDeltas:
        # the rows wait a minute in the writer: each column its own array, so neither
        # drain-wide matrix is kept alive by a view of a few of its words (the whole
        # current values were, for the name and namespace alone)
        values = self.layout.fields(current)
        identity = {k: np.ascontiguousarray(values[k]) for k in IDENTITY if k in values}
        changes = {k: compact(v) for k, v in self.layout.fields(diff).items()}
        if self._names and "comm" in identity:
            renamed = np.flatnonzero(np.isin(keys, np.fromiter(self._names, np.uint32, len(self._names))))
            if len(renamed):
                comm = identity["comm"].copy()
                for i in renamed.tolist():
                    comm[i] = self._names[int(keys[i])]
                identity["comm"] = comm
        return ProcessDeltas(keys, identity, {k: v for k, v in changes.items() if k not in IDENTITY})

    def _forget_exited(self, keys: np.ndarray, current: np.ndarray):
        if not self._scan.due(len(keys), full=len(keys) >= self.SCAN_FILL * self.table.max_entries):
            return keys, current
        alive = live_tgids(self.proc_root)
        gone = self._scan.settled(keys, alive)
        dead = keys[gone]
        self._reader.delete(dead)
        for tgid in dead.tolist():
            self._names.pop(tgid, None)
        self._rename_new(alive, keys, current)
        self._scan.kept(len(keys) - len(dead))
        return keys[~gone], current[~gone]

    def _rename_new(self, alive: set[int], keys: np.ndarray, current: np.ndarray) -> None:
        """The current name of each process first seen since the last scan, kept only
        where it is not the name the kernel side has: every kept name renames its
        process's rows one by one, every drain."""
        new = np.concatenate(self._new) if self._new else np.empty(0, keys.dtype)
        self._new = []
        if not len(new):
            return
        first_seen = {}
        if "comm" in self.layout.slices:
            at = np.isin(keys, new)
            first_seen = dict(zip(keys[at].tolist(), self.layout.fields(current[at])["comm"].tolist()))
        for tgid in new.tolist():
            if tgid not in alive:
                continue
            try:
                with open(f"{self.proc_root}/{tgid}/comm", "rb") as f:
                    name = f.read().rstrip(b"\n")[:15]
            except OSError:
                continue
            if name and name != first_seen.get(tgid):
                self._names[tgid] = name
