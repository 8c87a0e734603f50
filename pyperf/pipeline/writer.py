"""Buffers per-interval rows and writes them to the store in columnar batches,
one insert per table per flush, from its own thread, so a slow store never
stalls the probes.

Why flush less often than we collect: every insert into ClickHouse makes a new
part, and in embedded chDB one insert costs ~10 ms of CPU however few its rows
(measured: docs/performance.md). At a 1 s interval and three tables that alone
would be 3 % of a CPU. So rows are flushed every `flush_interval_s` (15 s by
default), and readers that need the newest rows (the web UI, `pyperf sql`
through `up`) call `flush()` first: data is as fresh as when it was collected,
and the cost is paid only while someone looks.

Every row is accounted for: inserted, failed (store error) or dropped (buffer
full)."""

from __future__ import annotations

import logging
import threading
from collections import Counter

from pyperf.errors import StoreError
from pyperf.probes.base import Batch

log = logging.getLogger("pyperf.writer")


class BatchWriter:
    def __init__(self, store, flush_interval_s: float = 15.0, max_buffered_rows: int = 1_000_000):
        self.store = store
        self.flush_interval_s = flush_interval_s
        self.max_buffered_rows = max_buffered_rows
        self.inserted: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.flushes = 0
        self.last_error: str | None = None
        self._buffer: dict[str, dict[str, list]] = {}
        self._buffered_rows = 0
        self._buffer_lock = threading.Lock()      # guards _buffer
        self._flush_lock = threading.Lock()       # one flush at a time, in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pyperf-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, batch: Batch) -> None:
        if not batch:
            return
        with self._buffer_lock:
            rows = sum(_rows(c) for c in batch.values())
            if self._buffered_rows + rows > self.max_buffered_rows:
                for table, columns in batch.items():
                    self.dropped[table] += _rows(columns)
                log.warning("store is too slow: dropped one interval's rows (buffer full)")
                return
            for table, columns in batch.items():
                target = self._buffer.setdefault(table, {name: [] for name in columns})
                for name, values in columns.items():
                    target.setdefault(name, []).extend(values)
            self._buffered_rows += rows

    def flush(self) -> None:
        """Write everything buffered now (called by readers that need fresh rows)."""
        with self._flush_lock:
            with self._buffer_lock:
                pending, self._buffer, self._buffered_rows = self._buffer, {}, 0
            for table, columns in pending.items():
                try:
                    self.inserted[table] += self.store.insert(table, columns)
                except StoreError as e:
                    self.failed[table] += _rows(columns)
                    if str(e) != self.last_error:
                        log.error("%s", e)
                    self.last_error = str(e)
            if pending:
                self.flushes += 1

    def close(self, timeout: float = 60.0) -> None:
        """Stop the thread and write everything still buffered."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self.flush()

    def stats(self) -> dict:
        return {"inserted": dict(self.inserted), "failed": dict(self.failed),
                "dropped": dict(self.dropped), "buffered_rows": self._buffered_rows,
                "flushes": self.flushes}


def _rows(columns: dict[str, list]) -> int:
    return len(next(iter(columns.values()))) if columns else 0
