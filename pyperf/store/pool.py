"""Two threads for the reads of one page or findings evaluation: each query runs
on one thread of the embedded engine (pyperf.store.store), and the 24 h
findings' ~37 queries took 270 ms one after the other (docs/performance.md);
a page's charts are read beside its tables. Two, not more: the agent shares
the host it watches.

Never submit from inside a submitted call: with two workers, a call waiting for
calls it submitted can wait forever."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

THREADS = 2
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def submit(fn, *args) -> Future:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="pyperf-reads")
    return _pool.submit(fn, *args)


def run_all(calls: dict[str, tuple]) -> dict:
    """{name: (fn, *args)} -> {name: fn(*args)}, run on the pool (in this thread when
    there is one call); the first call's exception is raised."""
    if len(calls) < 2:
        return {name: fn(*args) for name, (fn, *args) in calls.items()}
    futures = {name: submit(fn, *args) for name, (fn, *args) in calls.items()}
    return {name: f.result() for name, f in futures.items()}
