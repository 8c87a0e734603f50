"""The recent past in memory: the rows of the last minutes of some tables, kept
as the collector drains them, so live views and their once-a-second refreshes
read memory instead of making the store write (every insert costs chDB ~10 ms
however small; flushing on every page refresh cost 6.5 % of one CPU with the
dashboard open, scripts/bench/agent_idle.py).

`series()` answers exactly what pyperf.store.rollups.series() answers at the
raw level (same columns, same buckets: a test compares the two on the same
rows), and rollups.series() reads the window for the part of a range the
window holds and the store for the part before it."""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque

import numpy as np

# one row per device, CPU or event per interval: small enough to hold as lists. Tables
# with a row per process (sched_process: hundreds a second on a busy host, two
# histograms each) would need a columnar window first; their views read the store.
DEFAULT_TABLES = ("disk_io", "disk_queue", "disk_slow_io", "sched_cpu", "system_cpu", "system_disk", "system_host",
                  "system_net", "tcp_host", "container_resources", "containers", "response_time")


def _group_hists(arrays: list, group: np.ndarray, groups: int) -> list[list[int]]:
    """Per group, the element-wise sum of its histograms, whatever their lengths (an
    interval that did not sample one stores []), as ClickHouse's sumForEach: to
    the longest in the group."""
    width = max((len(a) for a in arrays), default=0)
    matrix = np.zeros((len(arrays), width), np.int64)
    lengths = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
    full = lengths == width
    if full.all():
        matrix[:] = np.asarray(arrays, np.int64).reshape(len(arrays), width)
    else:
        for i, a in enumerate(arrays):
            matrix[i, : len(a)] = a
    sums = np.zeros((groups, width), np.int64)
    np.add.at(sums, group, matrix)
    longest = np.zeros(groups, np.int64)
    np.maximum.at(longest, group, lengths)
    return [sums[g, : longest[g]].tolist() for g in range(groups)]


class LiveWindow:
    def __init__(self, tables=DEFAULT_TABLES, seconds: float = 900.0):
        self.seconds = seconds
        self._chunks: dict[str, deque] = {t: deque() for t in tables}
        self._since: dict[str, float] = {}           # per table: the window holds every row from then on
        self._lock = threading.Lock()

    def add(self, batch: dict, now: float, covers=()) -> None:
        """Keep the rows of our tables from one drain; forget what is older than the
        window. `covers`: the tables of the probe drained, which the window holds
        from this drain on even without a row yet (a host without containers or
        servers then reads nothing from the store for them)."""
        with self._lock:
            for table, chunks in self._chunks.items():
                columns = batch.get(table)
                if columns and columns.get("ts"):
                    chunks.append({name: list(values) for name, values in columns.items()})
                    # event rows carry their own time, before the drain's: the window
                    # holds every row from the first one it got
                    self._since.setdefault(table, min(columns["ts"]))
                elif table in covers:
                    self._since.setdefault(table, now)
                horizon = now - self.seconds
                while chunks and max(chunks[0]["ts"]) < horizon:
                    chunks.popleft()
                if table in self._since:
                    # what was dropped is before the horizon, whether or not rows remain
                    self._since[table] = max(self._since[table], horizon)

    def since(self, table: str) -> float | None:
        """From when on the window holds every row of `table` (None: nothing yet)."""
        return self._since.get(table)

    def rows(self, table: str, start: float, end: float = float("inf")) -> dict[str, list]:
        """Columns of the rows with start <= ts < end, oldest first."""
        with self._lock:
            chunks = list(self._chunks.get(table, ()))
        out: dict[str, list] = {}
        for chunk in chunks:
            stamps = chunk["ts"]
            low, high = min(stamps), max(stamps)
            if high < start or low >= end:
                continue
            if start <= low and high < end:          # a drain's rows share one stamp: all or none
                for name, values in chunk.items():
                    out.setdefault(name, []).extend(values)
                continue
            keep = [i for i, t in enumerate(stamps) if start <= t < end]
            for name, values in chunk.items():
                out.setdefault(name, []).extend(values[i] for i in keep)
        return out

    def series(self, rollup, start: float, end: float, step: int, by: tuple = (), where: dict | None = None):
        """rollups.series() at the raw level over [start, end), from memory."""
        from pyperf.store.rollups import Series

        rows = self.rows(rollup.table, start, end)
        columns = ["bucket", *by, "samples", "interval_ms", *rollup.sums,
                   *(f"{g}_{k}" for g in rollup.gauges for k in ("min", "max", "avg")), *rollup.hists]
        if not rows:
            return Series("raw", step, columns, [])
        n = len(rows["ts"])
        keep = np.ones(n, bool)
        for column, value in (where or {}).items():
            wanted = set(value) if isinstance(value, (list, tuple, set)) else {value}
            keep &= np.array([v in wanted for v in rows[column]])
        index = np.flatnonzero(keep)
        if not len(index):
            return Series("raw", step, columns, [])
        buckets = (np.floor(np.asarray(rows["ts"], float)[index] / step) * step).astype(np.int64)
        # one group number per row: by bucket, then by the key columns' values
        keys = [buckets] + [np.asarray([rows[k][i] for i in index], dtype=object) for k in by]
        if by:
            labels = list(zip(*(k.tolist() for k in keys)))
            distinct = sorted(set(labels))
            number = {key: g for g, key in enumerate(distinct)}
            group = np.fromiter((number[key] for key in labels), np.int64, len(labels))
        else:
            distinct_buckets, group = np.unique(buckets, return_inverse=True)
            distinct = [(int(b),) for b in distinct_buckets]
        groups = len(distinct)

        def total(column, dtype=np.float64):
            values = np.asarray(rows[column], dtype)[index]
            out = np.zeros(groups, dtype)
            np.add.at(out, group, values)
            return out

        samples = np.bincount(group, minlength=groups)
        parts = [samples, total("interval_ms", np.int64)]
        parts += [total(c, np.int64) for c in rollup.sums]
        for g in rollup.gauges:
            values = np.asarray(rows[g], np.float64)[index]
            low, high = np.full(groups, np.inf), np.full(groups, -np.inf)
            np.minimum.at(low, group, values)
            np.maximum.at(high, group, values)
            parts += [low, high, total(g) / samples]
        hists = [_group_hists([rows[h][i] for i in index], group, groups) for h in rollup.hists]
        stamps = {b: dt.datetime.fromtimestamp(b, dt.timezone.utc) for b in {key[0] for key in distinct}}
        out_columns = [[stamps[key[0]] for key in distinct]]
        out_columns += [[key[i] for key in distinct] for i in range(1, len(by) + 1)]
        out_columns += [p.tolist() for p in parts] + hists
        out = list(zip(*out_columns))
        return Series("raw", step, columns, out)
