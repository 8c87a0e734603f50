"""What a read of rolled-up rows returned, kept for the reads after it.

A rolled-up minute or hour never changes (pyperf.store.rollups.roll_up sums
each once), so the part of a range that lies in rolled-up buckets gives the
same rows every time it is asked with the same bounds, step, keys and filter:
a 24 h page refreshed, re-sorted or revisited asks the store only for its
edges (the minutes before its first whole bucket, the ones not rolled up yet).
Kept per store and host; at most MAX_CELLS values (~15 MB) and for TTL_S after
its last use, the entry used longest ago dropped first."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RolledPieces:
    MAX_CELLS = 400_000
    TTL_S = 600.0

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._kept: OrderedDict[tuple, tuple[float, int, list[str], list[tuple]]] = OrderedDict()
        self._cells = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[list[str], list[tuple]] | None:
        """(columns, rows) kept for `key`, or None."""
        with self._lock:
            self._expire()
            kept = self._kept.get(key)
            if kept is None:
                return None
            self._kept[key] = (self._clock(), *kept[1:])
            self._kept.move_to_end(key)
            return kept[2], kept[3]

    def keep(self, key: tuple, columns: list[str], rows: list[tuple]) -> None:
        cells = _cells(rows)
        if cells > self.MAX_CELLS // 4:
            return          # a read that large is rare; keeping it would push out every other
        with self._lock:
            self._drop(key)
            self._kept[key] = (self._clock(), cells, list(columns), rows)
            self._cells += cells
            while self._cells > self.MAX_CELLS:
                self._drop(next(iter(self._kept)))

    def forget(self, address: str | None = None) -> None:
        """Drop what was kept (for one store's address): its rolled-up rows were deleted."""
        with self._lock:
            for key in [k for k in self._kept if address is None or k[0] == address]:
                self._drop(key)

    @property
    def cells(self) -> int:
        return self._cells

    def _expire(self) -> None:
        oldest = self._clock() - self.TTL_S
        while self._kept and next(iter(self._kept.values()))[0] < oldest:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: tuple) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self._cells -= kept[1]


def _cells(rows: list[tuple]) -> int:
    """Values held: one per column, one per histogram bucket (lists)."""
    if not rows:
        return 1
    first = rows[0]
    return len(rows) * sum(len(v) if isinstance(v, list) else 1 for v in first)
