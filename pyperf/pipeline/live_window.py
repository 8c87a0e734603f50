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
from typing import NamedTuple

import numpy as np

# one row per device, CPU or event per interval: small enough to hold as lists. Tables
# with a row per process (sched_process: hundreds a second on a busy host, two
# histograms each) would need a columnar window first; their views read the store.
DEFAULT_TABLES = ("disk_io", "disk_queue", "disk_slow_io", "sched_cpu", "system_cpu", "system_disk", "system_host",
                  "system_net", "tcp_host", "container_resources", "containers", "response_time")


WINDOW_S = 900.0     # how far back the window holds every row


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
# columns of rows summed (LiveWindow._minute) and of rows about to be: the rows
# behind each, each gauge's sum (and min and max, for the gauges read with them)
_SAMPLES, _MIN, _MAX, _SUM = "\0samples", "\0min", "\0max", "\0sum"
_BUCKET = "\0bucket"      # a read's bucket of each row


def _arrays(chunk: dict) -> dict:
    cache = chunk.get(_ARRAYS)
    if cache is None:
        cache = chunk[_ARRAYS] = {}          # chunks never change: safe to share
    return cache


class _Held(NamedTuple):
    """A table's drains as reads see them, oldest first: each one's rows, first and
    last time, and number (never reused). Made once per drain, on the first read
    after it: a 24 h page's reads each looked at the window's 900 drains of a table
    one by one (docs/performance.md)."""
    chunks: list
    lows: np.ndarray
    highs: np.ndarray
    serials: np.ndarray


def _overlapping(held: _Held, start: float, end: float) -> np.ndarray:
    """The indexes of the drains with rows in [start, end)."""
    return np.flatnonzero((held.highs >= start) & (held.lows < end))


def _as_summed(rows: dict, rollup, keys) -> dict:
    """Rows as the summed rows of one row each: what series() adds up."""
    out = {"ts": rows["ts"], _SAMPLES: np.ones(len(rows["ts"]), np.int64), "interval_ms": rows["interval_ms"]}
    out.update({k: rows[k] for k in keys})
    out.update({c: rows[c] for c in rollup.sums})
    for g in rollup.gauges:
        value = rows[g].astype(np.float64)
        out[g + _SUM] = value
        if g in rollup.extremes:
            out.update({g + _MIN: value, g + _MAX: value})
    out.update({h: rows[h] for h in rollup.hists})
    return out


def _hist_sums(matrix: np.ndarray, lengths: np.ndarray, group: np.ndarray, groups: int):
    """Histograms summed per group, element-wise (as ClickHouse's sumForEach), and
    each group's longest."""
    width = matrix.shape[1]
    cells = (group[:, None] * width + np.arange(width)).ravel()
    sums = np.bincount(cells, weights=matrix.ravel(), minlength=groups * width).astype(np.int64)
    longest = np.zeros(groups, np.int64)
    np.maximum.at(longest, group, lengths)
    return sums.reshape(groups, width), longest


def _sum_by(rows: dict, rollup, keys) -> dict:
    """Summed rows (see _as_summed) summed again by `keys` (no time)."""
    codes, sizes, values = [], [], []
    for k in keys:
        distinct, code = _factorize(rows[k])
        codes.append(code)
        sizes.append(len(distinct))
        values.append(distinct)
    if codes:
        combined = np.ravel_multi_index(codes, sizes) if len(codes) > 1 else codes[0]
        used, group = _factorize(combined)
        at = np.unravel_index(used, sizes) if len(codes) > 1 else (used,)
    else:
        used, group, at = np.zeros(1, np.int64), np.zeros(len(rows["ts"]), np.int64), ()
    groups = len(used)
    out = {k: values[i][at[i]] for i, k in enumerate(keys)}
    out[_SAMPLES] = _group_sums(rows[_SAMPLES], group, groups).astype(np.int64)
    for c in ("interval_ms", *rollup.sums):
        out[c] = _group_sums(rows[c], group, groups).astype(np.int64)
    for g in rollup.gauges:
        out[g + _SUM] = _group_sums(rows[g + _SUM], group, groups)
        if g in rollup.extremes:
            low, high = np.full(groups, np.inf), np.full(groups, -np.inf)
            np.minimum.at(low, group, rows[g + _MIN])
            np.maximum.at(high, group, rows[g + _MAX])
            out.update({g + _MIN: low, g + _MAX: high})
    for h in rollup.hists:
        out[h] = _hist_sums(*rows[h], group, groups)
    return out


def _project(block: dict, by, where, rollup) -> dict:
    """The columns of a minute's sum (which holds all) that one read adds up."""
    names = ["ts", _SAMPLES, "interval_ms", *dict.fromkeys((*by, *(where or {}))), *rollup.sums,
             *(g + _SUM for g in rollup.gauges), *(g + k for g in rollup.extremes for k in (_MIN, _MAX)),
             *rollup.hists]
    return {name: block[name] for name in names}


class LiveWindow:
    def __init__(self, tables=DEFAULT_TABLES, seconds: float = WINDOW_S):
        self.seconds = seconds
        self._chunks: dict[str, deque] = {t: deque() for t in tables}    # (serial, first, last time, rows)
        self._held: dict[str, _Held] = {}            # per table, until its next change
        self._serial = 0
        self._since: dict[str, float] = {}           # per table: the window holds every row from then on
        self._newest = 0.0                           # the latest drain's time
        self._minutes: dict[str, dict] = {}          # per table: {minute: (its drains' serials, their rows summed)}
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
                    self._serial += 1
                    chunks.append((self._serial, min(columns["ts"]), max(columns["ts"]), kept[table]))
                    self._held.pop(table, None)
                    # event rows carry their own time, before the drain's: the window
                    # holds every row from the first one it got
                    self._since.setdefault(table, chunks[-1][1])
                elif table in covers:
                    self._since.setdefault(table, now)
                horizon = now - self.seconds
                while chunks and chunks[0][2] < horizon:
                    chunks.popleft()
                    self._held.pop(table, None)
                if table in self._since:
                    # what was dropped is before the horizon, whether or not rows remain
                    self._since[table] = max(self._since[table], horizon)
                minutes = self._minutes.get(table, {})
                for minute in [m for m in minutes if m < horizon]:
                    del minutes[minute]
            self._newest = max(self._newest, now)
        return kept

    def since(self, table: str) -> float | None:
        """From when on the window holds every row of `table` (None: nothing yet)."""
        return self._since.get(table)

    def _held_of(self, table: str) -> _Held:
        with self._lock:
            held = self._held.get(table)
            if held is None:
                entries = self._chunks.get(table, ())
                n = len(entries)
                held = self._held[table] = _Held(
                    [e[3] for e in entries], np.fromiter((e[1] for e in entries), np.float64, n),
                    np.fromiter((e[2] for e in entries), np.float64, n), np.fromiter((e[0] for e in entries), np.int64, n))
            return held

    def rows(self, table: str, start: float, end: float = float("inf")) -> dict[str, list]:
        """Columns of the rows with start <= ts < end, oldest first."""
        held = self._held_of(table)
        out: dict[str, list] = {}
        for i in _overlapping(held, start, end):
            chunk, low, high = held.chunks[i], held.lows[i], held.highs[i]
            stamps = chunk["ts"]
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
        held = self._held_of(table)
        names = ["ts", *dict.fromkeys(n for n in names if n != "ts")]
        picked: dict[str, list] = {name: [] for name in names}
        for i in _overlapping(held, start, end):
            chunk, low, high = held.chunks[i], held.lows[i], held.highs[i]
            cache = _arrays(chunk)
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
        """rollups.series() at the raw level over [start, end), from memory. With
        buckets of whole minutes, the minutes the window holds whole are read
        summed (see _minute): a 24 h page read the window's 45 000 rows of 50
        servers one by one at every view (docs/performance.md)."""
        from pyperf.store.rollups import Series, gauge_columns

        columns = ["bucket", *by, "samples", "interval_ms", *rollup.sums, *gauge_columns(rollup), *rollup.hists]
        summed, rest = self._whole_minutes(rollup.table, start, end) if step % 60 == 0 else ([], [(start, end)])
        parts = [_project(block, by, where, rollup) for block in summed]
        for a, b in rest:
            rows = self.columns(rollup.table, a, b, ["interval_ms", *by, *(where or {}), *rollup.sums,
                                                     *rollup.gauges, *rollup.hists])
            if rows:
                parts.append(_as_summed(rows, rollup, (*by, *(where or {}))))
        rows = {name: _concat([p[name] for p in parts]) for name in parts[0]} if parts else {}
        if not rows or not len(rows["ts"]):
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
        rows[_BUCKET] = (np.floor(rows["ts"].astype(np.float64) / step) * step).astype(np.int64)
        summed = _sum_by(rows, rollup, (_BUCKET, *by))         # in the order of (bucket, *key values)
        samples = summed[_SAMPLES]
        stamps = {int(b): dt.datetime.fromtimestamp(int(b), dt.timezone.utc) for b in np.unique(summed[_BUCKET])}
        out_columns = [[stamps[int(b)] for b in summed[_BUCKET]], *(summed[k].tolist() for k in by),
                       samples.tolist(), *(summed[c].tolist() for c in ("interval_ms", *rollup.sums))]
        for g in rollup.gauges:
            if g in rollup.extremes:
                out_columns += [summed[g + _MIN].tolist(), summed[g + _MAX].tolist()]
            out_columns.append((summed[g + _SUM] / samples).tolist())
        for h in rollup.hists:
            sums, longest = summed[h]
            out_columns.append([sums[i, : longest[i]].tolist() for i in range(len(samples))])
        return Series("raw", step, columns, list(zip(*out_columns)))

    def _whole_minutes(self, table: str, start: float, end: float) -> tuple[list[dict], list[tuple[float, float]]]:
        """(the summed rows of each minute inside [start, end) that the window holds
        whole, the ranges left to read row by row). A minute is held whole when
        every row of it is in (it starts after `since`), a later drain came, and
        no drain's rows cross its edges (a drain's rows share one stamp); its sum
        is made once and kept while the drains it came from are the same."""
        from pyperf.store.rollups import raw_only, stored

        full = stored().get(table) or raw_only().get(table)
        since = self._since.get(table)
        held = self._held_of(table)
        with self._lock:
            newest = self._newest
        if full is None or since is None or not held.chunks:
            return [], [(start, end)]
        first = max(np.ceil(start / 60) * 60, np.ceil(since / 60) * 60)
        last = min(np.floor(end / 60) * 60, np.floor(newest / 60) * 60)     # a later drain came: whole
        if last <= first:
            return [], [(start, end)]
        inside = _overlapping(held, first, last)
        m_low, m_high = np.floor(held.lows[inside] / 60) * 60, np.floor(held.highs[inside] / 60) * 60
        crossing = set()
        for a, b in zip(m_low[m_low != m_high], m_high[m_low != m_high]):    # (event rows may span more than two)
            crossing.update(float(m) for m in np.arange(a, b + 60, 60.0))
        one = m_low == m_high
        order = np.argsort(m_low[one], kind="stable")        # each minute's drains, oldest first
        minutes, firsts = np.unique(m_low[one][order], return_index=True)
        members = dict(zip(minutes.tolist(), np.split(inside[one][order], firsts[1:])))
        summed, rest, cursor = [], [], start
        for minute in np.arange(first, last, 60.0):
            minute = float(minute)
            block = self._minute(table, full, minute, held, members[minute]) \
                if minute in members and minute not in crossing else None
            if block is None:
                continue            # read row by row with the range around it
            if cursor < minute:
                rest.append((cursor, minute))
            summed.append(block)
            cursor = minute + 60
        if cursor < end:
            rest.append((cursor, end))
        return summed, rest

    def _minute(self, table: str, full, minute: float, held: _Held, members: np.ndarray) -> dict | None:
        """One minute's rows (of the drains `members` indexes) summed by every key of
        the table (all its counters, gauges and histograms): kept with the numbers of
        the drains it came from, made again if they differ; None if a drain lacks a
        column (read row by row then)."""
        serials = held.serials[members]
        with self._lock:
            kept = self._minutes.setdefault(table, {}).get(minute)
        if kept is not None and np.array_equal(kept[0], serials):
            return kept[1]
        chunks = [held.chunks[i] for i in members]
        names = ["interval_ms", *full.keys, *full.sums, *full.gauges, *full.hists]
        if any(name not in chunk for chunk in chunks for name in names):
            return None
        picked: dict[str, list] = {name: [] for name in ["ts", *names]}
        for chunk in chunks:
            cache = _arrays(chunk)
            for name in picked:
                if name not in cache:
                    cache[name] = _as_column(chunk[name])
                picked[name].append(cache[name])
        rows = {name: _concat(parts) for name, parts in picked.items()}
        block = _sum_by(_as_summed(rows, full, full.keys), full, full.keys)
        block["ts"] = np.full(len(block[_SAMPLES]), minute)
        with self._lock:
            self._minutes.setdefault(table, {})[minute] = (serials, block)
        return block
