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
DEFAULT_TABLES = ("disk_io", "disk_queue", "disk_slow_io", "sched_cpu", "system_cpu", "system_host",
                  "system_net", "tcp_host", "container_resources", "containers")


def _sum_arrays(arrays: list) -> list[int]:
    """Element-wise sum of histograms of any lengths (an interval that did not
    sample one stores []), as ClickHouse's sumForEach: to the longest."""
    total = np.zeros(max((len(a) for a in arrays), default=0), np.int64)
    for a in arrays:
        total[: len(a)] += np.asarray(a, np.int64)
    return total.tolist()


class LiveWindow:
    def __init__(self, tables=DEFAULT_TABLES, seconds: float = 900.0):
        self.seconds = seconds
        self._chunks: dict[str, deque] = {t: deque() for t in tables}
        self._since: dict[str, float] = {}           # per table: the window holds every row from then on
        self._lock = threading.Lock()

    def add(self, batch: dict, now: float) -> None:
        """Keep the rows of our tables from one drain; forget what is older than the window."""
        with self._lock:
            for table, chunks in self._chunks.items():
                columns = batch.get(table)
                if columns and columns.get("ts"):
                    chunks.append({name: list(values) for name, values in columns.items()})
                    # event rows carry their own time, before the drain's: the window
                    # holds every row from the first one it got
                    self._since.setdefault(table, min(columns["ts"]))
                horizon = now - self.seconds
                while chunks and max(chunks[0]["ts"]) < horizon:
                    chunks.popleft()
                if chunks and table in self._since:
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
            keep = [i for i, t in enumerate(chunk["ts"]) if start <= t < end]
            if not keep:
                continue
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
            keep &= np.array([v == value for v in rows[column]])
        buckets = (np.floor(np.asarray(rows["ts"], float) / step) * step).astype(np.int64)
        groups: dict[tuple, list[int]] = {}
        for i in np.flatnonzero(keep):
            groups.setdefault((int(buckets[i]), *(rows[k][i] for k in by)), []).append(int(i))
        out = []
        for key in sorted(groups):
            idx = groups[key]
            row = [dt.datetime.fromtimestamp(key[0], dt.timezone.utc), *key[1:], len(idx),
                   sum(rows["interval_ms"][i] for i in idx)]
            row += [sum(rows[c][i] for i in idx) for c in rollup.sums]
            for g in rollup.gauges:
                values = [float(rows[g][i]) for i in idx]
                row += [min(values), max(values), sum(values) / len(values)]
            for h in rollup.hists:
                row.append(_sum_arrays([rows[h][i] for i in idx]))
            out.append(tuple(row))
        return Series("raw", step, columns, out)
