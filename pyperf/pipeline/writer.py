"""A bounded queue between collection and the store, drained by one thread, so a
slow store never stalls the probes. Every row is accounted for: inserted,
failed (store error) or dropped (queue full)."""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter

from pyperf.errors import StoreError
from pyperf.probes.base import Batch

log = logging.getLogger("pyperf.writer")


class BatchWriter:
    def __init__(self, store, max_batches: int = 120):
        self.store = store
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=max_batches)
        self.inserted: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="pyperf-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, batch: Batch) -> None:
        if not batch:
            return
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            for table, columns in batch.items():
                self.dropped[table] += _rows(columns)
            log.warning("store is too slow: dropped one interval's batch (queue full)")

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            for table, columns in batch.items():
                try:
                    self.inserted[table] += self.store.insert(table, columns)
                except StoreError as e:
                    self.failed[table] += _rows(columns)
                    if str(e) != self.last_error:
                        log.error("%s", e)
                    self.last_error = str(e)

    def stats(self) -> dict:
        return {"inserted": dict(self.inserted), "failed": dict(self.failed),
                "dropped": dict(self.dropped), "queued": self._queue.qsize()}


def _rows(columns: dict[str, list]) -> int:
    return len(next(iter(columns.values()))) if columns else 0
