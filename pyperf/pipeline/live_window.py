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


def _as_column(values: list) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """One chunk's column as numpy: numbers as they are, text as objects, and a
    histogram column as (a matrix padded with zeros, each row's own length)."""
    if values and isinstance(values[0], (list, tuple, np.ndarray)):
        lengths = np.fromiter((len(v) for v in values), np.int64, len(values))
        width = int(lengths.max(initial=0))
        if (lengths == width).all():
            return np.asarray(values, np.int64).reshape(len(values), width), lengths
        matrix = np.zeros((len(values), width), np.int64)
        for i, v in enumerate(values):
            matrix[i, : len(v)] = v
        return matrix, lengths
    column = np.asarray(values)
    return column if column.dtype.kind in "biuf" else np.asarray(values, dtype=object)


def _concat(parts: list) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    if not isinstance(parts[0], tuple):
        return np.concatenate(parts)
    width = max(m.shape[1] for m, _ in parts)
    if any(m.shape[1] != width for m, _ in parts):
        parts = [(np.pad(m, ((0, 0), (0, width - m.shape[1]))), lengths) for m, lengths in parts]
    return (np.concatenate([m for m, _ in parts]),
            np.concatenate([lengths for _, lengths in parts]))


def _factorize(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values sorted, each row's index into them), as np.unique gives;
    text through a dict (numpy sorts objects one comparison at a time)."""
    if column.dtype != object:
        distinct, code = np.unique(column, return_inverse=True)
        return distinct, code.reshape(-1)
    first: dict = {}
    seen = np.fromiter((first.setdefault(v, len(first)) for v in column), np.int64, len(column))
    order = sorted(first, key=first.__getitem__)
    ranked = sorted(range(len(order)), key=order.__getitem__)      # seen number -> its place sorted
    rank = np.empty(len(order), np.int64)
    rank[ranked] = np.arange(len(order))
    return np.asarray([order[i] for i in ranked], dtype=object), rank[seen]


def _group_sums(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=groups)


_ARRAYS = "\0arrays"      # a chunk's key for its columns as numpy (see LiveWindow.columns)
_SPAN = "\0span"          # in those: the chunk's first and last time


class LiveWindow:
    def __init__(self, tables=DEFAULT_TABLES, seconds: float = 900.0):
        self.seconds = seconds
        self._chunks: dict[str, deque] = {t: deque() for t in tables}
        self._since: dict[str, float] = {}           # per table: the window holds every row from then on
        self._lock = threading.Lock()

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(self._chunks)

    def add(self, batch: dict, now: float, covers=()) -> dict[str, dict]:
        """Keep the rows of our tables from one drain; forget what is older than the
        window. `covers`: the tables of the probe drained, which the window holds
        from this drain on even without a row yet (a host without containers or
        servers then reads nothing from the store for them). Returns the copies
        kept ({table: columns}), which nothing changes: /metrics folds the same."""
        kept = {}
        with self._lock:
            for table, chunks in self._chunks.items():
                columns = batch.get(table)
                if columns and columns.get("ts"):
                    kept[table] = {name: list(values) for name, values in columns.items()}
                    chunks.append(kept[table])
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
        return kept

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
                    if name != _ARRAYS:
                        out.setdefault(name, []).extend(values)
                continue
            keep = [i for i, t in enumerate(stamps) if start <= t < end]
            for name, values in chunk.items():
                if name != _ARRAYS:
                    out.setdefault(name, []).extend(values[i] for i in keep)
        return out

    def columns(self, table: str, start: float, end: float, names) -> dict:
        """The named columns of the rows with start <= ts < end as numpy (see
        _as_column), oldest first; {} without rows. Each drain's chunk is converted
        once, on the first read that needs it: a 24 h page reads the window's minutes
        of 50 containers every refresh."""
        with self._lock:
            chunks = list(self._chunks.get(table, ()))
        names = ["ts", *dict.fromkeys(n for n in names if n != "ts")]
        picked: dict[str, list] = {name: [] for name in names}
        for chunk in chunks:
            cache = chunk.get(_ARRAYS)
            if cache is None:
                cache = chunk[_ARRAYS] = {}          # chunks never change: safe to share
            low, high = cache.setdefault(_SPAN, (min(chunk["ts"]), max(chunk["ts"])))
            if high < start or low >= end:
                continue
            for name in names:
                if name not in cache:
                    cache[name] = _as_column(chunk[name])
            if start <= low and high < end:         # a drain's rows share one stamp: all or none
                for name in names:
                    picked[name].append(cache[name])
                continue
            stamps = cache["ts"]
            keep = (stamps >= start) & (stamps < end)
            for name in names:
                column = cache[name]
                picked[name].append((column[0][keep], column[1][keep]) if isinstance(column, tuple) else column[keep])
        if not picked["ts"]:
            return {}
        out = {name: _concat(parts) for name, parts in picked.items()}
        return out if len(out["ts"]) else {}

    def series(self, rollup, start: float, end: float, step: int, by: tuple = (), where: dict | None = None):
        """rollups.series() at the raw level over [start, end), from memory."""
        from pyperf.store.rollups import Series

        columns = ["bucket", *by, "samples", "interval_ms", *rollup.sums,
                   *(f"{g}_{k}" for g in rollup.gauges for k in ("min", "max", "avg")), *rollup.hists]
        rows = self.columns(rollup.table, start, end, ["interval_ms", *by, *(where or {}), *rollup.sums,
                                                       *rollup.gauges, *rollup.hists])
        if not rows:
            return Series("raw", step, columns, [])
        keep = np.ones(len(rows["ts"]), bool)
        for column, value in (where or {}).items():
            wanted = set(value) if isinstance(value, (list, tuple, set)) else {value}
            values = rows[column]
            if values.dtype == object:
                keep &= np.fromiter((v in wanted for v in values), bool, len(values))
            else:       # a number column matches numbers only, as the store's typed parameter would
                keep &= np.isin(values, [v for v in wanted if isinstance(v, (int, float, np.number))])
        if not keep.any():
            return Series("raw", step, columns, [])
        if not keep.all():
            rows = {name: (c[0][keep], c[1][keep]) if isinstance(c, tuple) else c[keep] for name, c in rows.items()}
        buckets = (np.floor(rows["ts"].astype(np.float64) / step) * step).astype(np.int64)
        # one group number per row, numbered in the order of (bucket, *key values)
        codes, sizes, values = [], [], []
        for key in (buckets, *(rows[k] for k in by)):
            distinct, code = _factorize(key)
            codes.append(code)
            sizes.append(len(distinct))
            values.append(distinct)
        combined = np.ravel_multi_index(codes, sizes) if len(codes) > 1 else codes[0]
        used, group = _factorize(combined)
        groups = len(used)
        at = np.unravel_index(used, sizes) if len(codes) > 1 else (used,)

        samples = np.bincount(group, minlength=groups)
        parts = [samples, _group_sums(rows["interval_ms"], group, groups).astype(np.int64)]
        parts += [_group_sums(rows[c], group, groups).astype(np.int64) for c in rollup.sums]
        for g in rollup.gauges:
            gauge = rows[g].astype(np.float64)
            low, high = np.full(groups, np.inf), np.full(groups, -np.inf)
            np.minimum.at(low, group, gauge)
            np.maximum.at(high, group, gauge)
            parts += [low, high, _group_sums(gauge, group, groups) / samples]
        hists = []
        for h in rollup.hists:
            # as ClickHouse's sumForEach: element-wise, to the longest in the group
            matrix, lengths = rows[h]
            width = matrix.shape[1]
            cells = (group[:, None] * width + np.arange(width)).ravel()
            sums = np.bincount(cells, weights=matrix.ravel(), minlength=groups * width).astype(np.int64)
            sums = sums.reshape(groups, width)
            longest = np.zeros(groups, np.int64)
            np.maximum.at(longest, group, lengths)
            hists.append([sums[g, : longest[g]].tolist() for g in range(groups)])
        stamps = {int(b): dt.datetime.fromtimestamp(int(b), dt.timezone.utc) for b in values[0]}
        out_columns = [[stamps[int(b)] for b in values[0][at[0]]]]
        out_columns += [values[i][at[i]].tolist() for i in range(1, len(by) + 1)]
        out_columns += [p.tolist() for p in parts] + hists
        return Series("raw", step, columns, list(zip(*out_columns)))
