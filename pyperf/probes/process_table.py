"""Per-process kernel maps (per-CPU hashes keyed by tgid with cumulative values)
turned into per-interval differences: what the sched and faults probes share.

A value's fields are counters (summed across CPUs, differenced between
drains), `*_hist` arrays (the same, element-wise) and identity fields
(comm, mnt_ns, cgroup_id: set once, on one CPU's copy). Entries of processes
that have exited are deleted after their last difference is taken."""

from __future__ import annotations

import os

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS

IDENTITY = ("comm", "mnt_ns", "cgroup_id")

# The columns every per-process table starts with (docs/schema.md reads these).
PROCESS_FIELDS = {
    "ts": ("time", "end of the interval (UTC)"),
    "host": ("", "host name of the collecting agent"),
    "interval_ms": ("ms", "length of the interval"),
    "pid": ("", "process id (thread group id)"),
    "comm": ("", "command name when first seen"),
    "mnt_ns": ("", "mount namespace inode: the container key (see docs/monitoring.md)"),
    "cgroup_id": ("", "latest cgroup v2 id of the process (0 on cgroup v1 hosts)"),
}


def append_process_identity(rows, now: float, interval_ms: int, tgid: int, current: dict) -> None:
    """Fill the PROCESS_FIELDS columns of one row from ProcessTable.deltas() output."""
    rows["ts"].append(now)
    rows["interval_ms"].append(interval_ms)
    rows["pid"].append(tgid)
    rows["comm"].append(current["comm"].decode("utf-8", "replace"))
    rows["mnt_ns"].append(current["mnt_ns"])
    rows["cgroup_id"].append(current["cgroup_id"])


def sum_percpu(values, ctype) -> dict:
    """Add up the per-CPU copies of one map value."""
    out: dict = {}
    for name, _ in ctype._fields_:
        if name.endswith("_hist"):
            out[name] = np.zeros(HIST_SLOTS, np.int64)
        elif name in IDENTITY:
            out[name] = b"" if name == "comm" else 0
        else:
            out[name] = 0
    for v in values:
        for name, value in out.items():
            if name.endswith("_hist"):
                value += np.ctypeslib.as_array(getattr(v, name)).astype(np.int64)
            elif name == "cgroup_id":
                out[name] = max(value, getattr(v, name))   # ids only grow: the newest is current
            elif name in IDENTITY:
                out[name] = value or getattr(v, name)
            else:
                out[name] = value + getattr(v, name)
    return out


def forget_exited(table, entries, proc_root: str = "/proc") -> set:
    """Delete from a BPF map the entries of processes that have exited, once their
    last difference has been taken: maps keyed by process would otherwise fill up
    with the dead and then refuse the living. `entries` are (map key, tgid, label);
    returns the labels removed. (A process id reused before this runs keeps its
    entry: its counters just go on, so differences stay right.)"""
    removed = set()
    alive: dict[int, bool] = {}
    for key, tgid, label in entries:
        if tgid not in alive:
            alive[tgid] = os.path.exists(f"{proc_root}/{tgid}")
        if alive[tgid]:
            continue
        try:
            del table[key]
        except KeyError:
            pass
        removed.add(label)
    return removed


class ProcessTable:
    def __init__(self, table, ctype, proc_root: str = "/proc", percpu: bool = True):
        self.table = table
        self.ctype = ctype
        self.proc_root = proc_root
        self.percpu = percpu
        self._previous: dict[int, dict] = {}

    def read(self) -> dict[int, dict]:
        return {k.value: sum_percpu(v if self.percpu else [v], self.ctype) for k, v in self.table.items()}

    def baseline(self) -> None:
        self._previous = self.read()

    def deltas(self) -> list[tuple[int, dict, dict]]:
        """[(tgid, identity+current values, differences)] for processes whose counters moved."""
        current = self.read()
        out = []
        for tgid, cur in current.items():
            before = self._previous.get(tgid)
            diff = {}
            for name, value in cur.items():
                if name in IDENTITY:
                    continue
                diff[name] = value - before[name] if before is not None else value
            moved = any(np.any(v) if isinstance(v, np.ndarray) else v for v in diff.values())
            if moved:
                out.append((tgid, cur, diff))
        self._forget_exited(current)
        self._previous = current
        return out

    def _forget_exited(self, current: dict[int, dict]) -> None:
        entries = [(self.table.Key(tgid), tgid, tgid) for tgid in current]
        for tgid in forget_exited(self.table, entries, self.proc_root):
            current.pop(tgid)
