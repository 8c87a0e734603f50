"""Buffers per-interval rows and writes them to the store in columnar batches,
one insert per table per flush (a large one in slices: INSERT_ROWS), from its
own thread, so a slow store never stalls the probes.

Why flush less often than we collect: every insert into ClickHouse makes a new
part, and in embedded chDB one insert costs ~10 ms of CPU however few its rows
(measured: docs/performance.md). At a 1 s interval and three tables that alone
would be 3 % of a CPU. So rows are flushed every `flush_interval_s` (60 s by
default), and readers that need the newest rows (the web UI, `pyperf sql`
through `up`) call `flush()` first: data is as fresh as when it was collected,
and the cost is paid only while someone looks.

Never lose, never store twice: every batch gets a deduplication token when it
is cut. When the store fails in a way that may pass (down, overloaded,
timing out: `StoreError.transient`), the batch goes to the on-disk spool with
its token and is replayed, oldest first, once the store answers again; while
anything is spooled, new batches queue behind it so the order holds. A batch
whose insert reached the server before the failure was noticed is dropped by
the server on replay (same token). A batch the store rejects for its content
is counted as failed and not retried.

Loss window: rows still in memory when the process dies without a clean stop
(kill -9, OOM): at most one flush interval of collection (WINDOWED_EVERY of them
for a windowed table's small batches), plus the batch in flight. Everything
spooled survives restarts.

Every row is accounted for: inserted, spooled (pending), dropped by a full
spool, failed (rejected), or dropped from memory (buffer full).

A minute of rows waits as each drain's columns (chunks), as the probes made
them: the per-process tables' as numpy arrays, a few objects each. At the flush
a table's numeric chunks are joined one insert slice at a time into one array
per column and handed to the client as arrays (pyperf/store/insert_columns.py);
only text becomes Python values. Extended into lists as they came, a minute's rows were a Python object
per value, made between the agent's longer-lived ones, and the allocator's
arenas stayed pinned by the survivors after the flush: a burst minute's rows
left ~110 MiB behind, as numpy chunks 7; made lists at the flush, the flush
itself peaked at +276 MiB, as arrays +96 (scripts/bench/writer_memory.py)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np

from pyperf import threads
from pyperf.errors import StoreError
from pyperf.pipeline.live_window import WINDOW_S
from pyperf.pipeline.spool import Spool
from pyperf.probes.base import Batch

log = logging.getLogger("pyperf.writer")

# a table's batch goes in at most this many rows at a time, the memory of each full
# slice given back before the next: a minute of a per-process table under process
# churn is ~15 000 rows, and an insert's engine memory grows with its rows (a
# 19 000-row sched_process insert +26 MiB, 4 750 rows +4 to +8; docs/performance.md)
INSERT_ROWS = 5_000
RETRY_MIN_S = 1.0      # first retry of a failing store; doubles up to the flush interval
# a table whose recent rows readers get from the agent's live window (pyperf/pipeline/
# live_window.py: 15 minutes) waits for every WINDOWED_EVERY-th scheduled flush while it
# holds fewer than WINDOWED_SMALL_ROWS rows: an insert costs the embedded store 3-8 ms
# however small (docs/performance.md), and on an idle host those tables are most of a
# flush's inserts. Each waits for its own turn, so the flushes stay even.
WINDOWED_EVERY = 5
WINDOWED_SMALL_ROWS = 2_000


class BatchWriter:
    def __init__(self, store, flush_interval_s: float = 60.0, max_buffered_rows: int = 1_000_000,
                 spool: Spool | None = None, maintenance=None, maintenance_every_s: float = 300.0,
                 windowed: frozenset[str] | tuple[str, ...] = (), window_s: float = WINDOW_S):
        self.store = store
        self.windowed = frozenset(windowed)     # tables the live window holds: their small batches may wait
        self.window_s = window_s                # ... for at most half of what the window holds
        self._turn: dict[str, int] = {}         # windowed table -> its place, in the order first seen
        self._scheduled = 0
        # store upkeep run from this thread after a flush with nothing left behind (the rollups)
        self.maintenance = maintenance
        self.maintenance_every_s = maintenance_every_s
        self._maintained_at = time.monotonic()
        self.flush_interval_s = flush_interval_s
        self.max_buffered_rows = max_buffered_rows
        self.spool = spool
        self.inserted: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.spooled: Counter[str] = Counter()     # rows ever sent to the spool
        self.replayed: Counter[str] = Counter()    # rows stored from the spool
        self.flushes = 0
        self.flush_cpu_s = 0.0        # CPU time spent in flush(), cumulative (the governor spreads it)
        self.upkeep_cpu_s = 0.0       # and in the upkeep (rollups), once every maintenance_every_s
        self.store_down_since: float | None = None
        self.last_error: str | None = None
        self._run_id = uuid.uuid4().hex[:12]
        self._sequence = 0
        self._buffer: dict[str, dict[str, list]] = {}     # table -> column -> the drains' chunks
        self._buffered_rows = 0
        self._buffer_lock = threading.Lock()      # guards _buffer
        self._flush_lock = threading.Lock()       # one flush at a time, in order
        self._stop = threading.Event()
        self._thread = threads.Named(target=self._run, name="pyperf-writer", daemon=True)

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
                    target.setdefault(name, []).append(values)
            self._buffered_rows += rows

    def _token(self) -> str:
        self._sequence += 1
        return f"pyperf-{self.store.host_name}-{self._run_id}-{self._sequence}"

    @property
    def windowed_every(self) -> int:
        """Every how many scheduled flushes a small windowed batch is written: WINDOWED_EVERY,
        fewer when the flush interval is long (the governor doubles it), so that no row
        waits longer than half the window, from which readers get the newest rows."""
        if not self.windowed:
            return 1
        return max(1, min(WINDOWED_EVERY, int(self.window_s / 2 / self.flush_interval_s)))

    @property
    def longest_wait_s(self) -> float:
        """The longest a buffered row waits for a scheduled flush (a small windowed table's)."""
        return self.flush_interval_s * self.windowed_every

    def flush(self, scheduled: bool = False) -> None:
        """Write everything buffered now (called by readers that need fresh rows),
        after whatever waits in the spool, then give the memory it took back (a
        large insert's at once: _stored). No merge runs meanwhile
        (Store.merges_held): the two at once were the agent's highest memory; the
        flush's parts merge after the release. `scheduled`: the minute's flush, in
        which a small batch of a windowed table waits for its turn."""
        with self._flush_lock:
            started = time.thread_time()
            try:
                with self._merges_held():
                    self._flush_locked(scheduled)
                    self._release_memory()
            finally:
                # the embedded engine builds parts in the calling thread: this is the store's CPU
                self.flush_cpu_s += time.thread_time() - started

    def _merges_held(self):
        hold = getattr(self.store, "merges_held", None)
        return hold() if hold is not None and self.store_down_since is None else contextlib.nullcontext()

    def _waits(self, table: str, chunks: dict[str, list]) -> bool:
        """Whether a windowed table's small batch waits past this scheduled flush."""
        if table not in self.windowed or _chunk_rows(chunks) >= WINDOWED_SMALL_ROWS:
            return False
        every = self.windowed_every
        return self._scheduled % every != self._turn.setdefault(table, len(self._turn)) % every

    def _flush_locked(self, scheduled: bool = False) -> None:
        with self._buffer_lock:
            if scheduled:
                self._scheduled += 1
                waiting = {t: c for t, c in self._buffer.items() if self._waits(t, c)}
            else:
                waiting = {}
            pending = {t: c for t, c in self._buffer.items() if t not in waiting}
            self._buffer = waiting
            self._buffered_rows = sum(_chunk_rows(c) for c in waiting.values())
        backlog = self._replay()
        flushed = bool(pending)
        for table in list(pending):
            chunks = pending.pop(table)
            token = self._token()
            if backlog:
                self._to_spool(table, _joined_columns(chunks), token)
                continue
            try:
                self.inserted[table] += self._stored(table, chunks, token)
                self._store_answered()
            except StoreError as e:
                self._store_failed(e)
                if e.transient and self.spool is not None:
                    self._to_spool(table, _joined_columns(chunks), token)
                    backlog = True
                else:
                    self._rejected(table, _chunk_rows(chunks), e)
            del chunks
        if flushed:
            self.flushes += 1

    def _replay(self) -> bool:
        """Store spooled batches, oldest first; True while some remain."""
        if self.spool is None:
            return False
        for path in self.spool.pending():
            try:
                table, token, columns = self.spool.load(path)
            except Exception as e:   # a damaged file must not block the ones behind it
                log.error("spool file %s unreadable (%s): dropped", path.name, e)
                self.spool.discard(path)
                continue
            try:
                n = self._stored(table, {name: [values] for name, values in columns.items()}, token)
            except StoreError as e:
                self._store_failed(e)
                if e.transient:
                    return True
                self._rejected(table, _rows(columns), e)
                self.spool.remove(path)
                continue
            self.inserted[table] += n
            self.replayed[table] += n
            self.spool.remove(path)
            self._store_answered()
        return False

    def _stored(self, table: str, chunks: dict[str, list], token: str) -> int:
        """Insert one table's batch (each column as its chunks), INSERT_ROWS at a
        time, each slice joined from the chunks as it goes in: the batch is never
        held twice (joined whole first, a burst minute's flush peaked at +96 MiB
        over the level, now +67: scripts/bench/writer_memory.py). After each full slice, give back the
        memory it took before the next goes in (given back only after all of a
        flush's inserts, what the large ones left with the allocators added up).
        Not after every insert: each release is an engine statement, ~5 ms.
        Slice i > 0 carries the token `<token>.<i>`: the slices are cut the same
        way on replay, so a slice stored before a failure is dropped by the store
        then. A StoreError says in `rows_stored` how many rows went in before it."""
        stored = 0
        try:
            for i, part in enumerate(_slices(chunks, INSERT_ROWS)):
                stored += self.store.insert(table, part, token if i == 0 else f"{token}.{i}")
                if _rows(part) >= INSERT_ROWS:
                    self._release_memory()
        except StoreError as e:
            e.rows_stored = stored
            raise
        return stored

    def _rejected(self, table: str, rows: int, e: StoreError) -> None:
        stored = getattr(e, "rows_stored", 0)
        self.inserted[table] += stored
        self.failed[table] += rows - stored

    def _to_spool(self, table: str, columns: dict[str, list], token: str) -> None:
        # spool files hold Python values only (their reader refuses anything else)
        columns = {name: v.tolist() if isinstance(v, np.ndarray) else v for name, v in columns.items()}
        try:
            if self.spool.append(table, columns, token) is not None:
                self.spooled[table] += _rows(columns)
        except StoreError as e:
            log.error("%s: %d %s rows lost", e, _rows(columns), table)

    def _store_failed(self, e: StoreError) -> None:
        if e.transient and self.store_down_since is None:
            self.store_down_since = time.time()
        if str(e) != self.last_error:
            log.error("%s%s", e, " (spooling until it answers)" if e.transient and self.spool else "")
        self.last_error = str(e)

    def _store_answered(self) -> None:
        if self.store_down_since is not None:
            log.warning("store answers again after %.0f s", time.time() - self.store_down_since)
        self.store_down_since = None
        self.last_error = None

    def close(self, timeout: float = 60.0) -> None:
        """Stop the thread and write everything still buffered (to the spool if
        the store is still down)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._scheduled_flush(last=True)

    def _run(self) -> None:
        with self._flush_lock:
            self._replay()   # what an earlier run left in the spool
        retry = RETRY_MIN_S
        next_flush = time.monotonic() + self.flush_interval_s
        while not self._stop.is_set():
            waiting = self.spool is not None and self.store_down_since is not None
            wake = min(next_flush, time.monotonic() + retry) if waiting else next_flush
            if self._stop.wait(max(0.0, wake - time.monotonic())):
                return
            if time.monotonic() >= next_flush:
                next_flush = time.monotonic() + self.flush_interval_s
                self._scheduled_flush()
            else:
                with self._flush_lock:
                    self._replay()
            retry = min(retry * 2, self.flush_interval_s) if self.store_down_since is not None else RETRY_MIN_S

    def _scheduled_flush(self, last: bool = False) -> None:
        """The minute's flush (or the last one: everything, and the upkeep), then upkeep when due. What the
        flush's insert left with the allocators is given back before a rollup
        starts, not after it: the two peaks stacked made the agent's highest
        memory (~60 MiB of a minute's columns under a rollup's; docs/performance.md).
        Merges wait until both are over and their memory is given back."""
        with self._merges_held():
            self.flush(scheduled=not last)
            if self._maintain(due=last):
                started = time.thread_time()
                self._release_memory(code_pages=True)
                self.upkeep_cpu_s += time.thread_time() - started

    def _maintain(self, due: bool = False) -> bool:
        """Upkeep once every maintenance_every_s (and at close), only while the store
        answers and nothing waits in the spool (rows of a finished hour may be in it);
        True when it ran."""
        if self.maintenance is None or (not due and time.monotonic() - self._maintained_at < self.maintenance_every_s):
            return False
        if self.store_down_since is not None or (self.spool is not None and self.spool.pending()):
            return False
        self._maintained_at = time.monotonic()
        started = time.thread_time()
        try:
            self.maintenance()
        except StoreError as e:
            log.error("store upkeep failed: %s (retried in %.0f s)", e, self.maintenance_every_s)
        except Exception:
            # a fault in the upkeep must not end this thread: nothing would be stored after it
            log.exception("store upkeep failed (a bug; retried in %.0f s, rows are stored meanwhile)",
                          self.maintenance_every_s)
        finally:
            self.upkeep_cpu_s += time.thread_time() - started
        return True

    def _release_memory(self, code_pages: bool = False) -> None:
        release = getattr(self.store, "release_memory", None)
        if release is not None and self.store_down_since is None:
            release(code_pages=code_pages)

    def stats(self) -> dict:
        spool = {}
        if self.spool is not None:
            spool = {"spool_pending_rows": dict(self.spool.pending_rows()),
                     "spool_dropped": dict(self.spool.dropped_rows), "spool_bytes": self.spool.size(),
                     "spool_folder": str(self.spool.folder)}
        return {"inserted": dict(self.inserted), "failed": dict(self.failed),
                "dropped": dict(self.dropped), "spooled": dict(self.spooled),
                "replayed": dict(self.replayed), "buffered_rows": self._buffered_rows,
                "flushes": self.flushes, "flush_cpu_s": round(self.flush_cpu_s, 3),
                "upkeep_cpu_s": round(self.upkeep_cpu_s, 3), "store_down_since": self.store_down_since, **spool}


def default_spool_folder(address, host_name: str | None = None) -> Path:
    """Beside the embedded store, or per server under /var/lib/pyperf/spool; with a
    host name given (--host-name: several agents on one machine, each writing as
    its own host), per server and host name, so each has a folder of its own."""
    if address.embedded:
        return Path(address.path + ".spool")
    safe = f"{address.host}_{address.port}_{address.database}"
    if host_name:
        safe += f"_as_{host_name}"
    return Path("/var/lib/pyperf/spool") / safe.replace(os.sep, "_")


def _rows(columns: dict[str, list]) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def _chunk_rows(chunks: dict[str, list]) -> int:
    return sum(len(c) for c in next(iter(chunks.values()))) if chunks else 0


def _joined_columns(chunks: dict[str, list]) -> dict:
    return {name: _joined(column) for name, column in chunks.items()}


def _slices(chunks: dict[str, list], size: int):
    """A table's columns, each given as its chunks, as {column: values} of `size`
    rows each (the last: the rest), cut across chunk boundaries at the same rows
    whatever the chunks were."""
    columns = [_pieces(column, size) for column in chunks.values()]
    for values in zip(*columns):
        yield dict(zip(chunks, values))


def _pieces(chunks: list, size: int):
    part: list = []
    have = 0
    for chunk in chunks:
        start = 0
        while start < len(chunk):
            take = min(size - have, len(chunk) - start)
            part.append(chunk[start:start + take])
            have += take
            start += take
            if have == size:
                yield _joined(part)
                part, have = [], 0
    if part:
        yield _joined(part)


def _joined(chunks: list):
    """One column's chunks as one column: numbers (a histogram's rows too) as one
    numpy array, which the store hands the client without Python values
    (pyperf/store/insert_columns.py); anything else as a list (text as str)."""
    if all(isinstance(c, np.ndarray) and c.dtype.kind in "biuf" for c in chunks) and \
            len({c.shape[1:] for c in chunks}) == 1:
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    out: list = []
    for chunk in chunks:
        out.extend(chunk.tolist() if isinstance(chunk, np.ndarray) else chunk)
    return out
