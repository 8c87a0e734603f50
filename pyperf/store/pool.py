"""Two threads for the reads of one page or findings evaluation: each query runs
on one thread of the embedded engine (pyperf.store.store), and the 24 h
findings' ~37 queries took 270 ms one after the other (docs/performance.md);
a page's charts are read beside its tables. Two, not more: the agent shares
the host it watches.

A call submitted here runs in the submitter's context (contextvars), so reads
marked `@shared` inside `sharing()` are shared across the pool's threads too.

Never wait, inside a submitted call, for a call submitted after it: with two
workers, both can end up waiting. `run_all` is safe from anywhere: its caller
runs the calls no worker has started."""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

THREADS = 2
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_shared: contextvars.ContextVar[dict | None] = contextvars.ContextVar("pyperf_shared_reads", default=None)


def submit(fn, *args) -> Future:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="pyperf-reads")
    return _pool.submit(contextvars.copy_context().run, fn, *args)


def run_all(calls: dict[str, tuple]) -> dict:
    """{name: (fn, *args)} -> {name: fn(*args)}, in the order given, on the pool's
    threads and this one (which would otherwise only wait); the first exception
    raised is raised."""
    todo = list(calls.items())
    results: dict = {}
    taken = iter(range(len(todo)))
    take_lock = threading.Lock()

    errors: list[BaseException] = []

    def work() -> None:
        while not errors:
            with take_lock:
                i = next(taken, None)
            if i is None:
                return
            name, (fn, *args) = todo[i]
            try:
                results[name] = fn(*args)
            except BaseException as e:
                errors.append(e)

    helpers = [submit(work) for _ in range(min(THREADS, len(todo) - 1))]
    work()
    for helper in helpers:
        if not helper.cancel():          # started: it finishes the call it took
            helper.result()
    if errors:
        raise errors[0]
    return {name: results[name] for name in calls}


@contextmanager
def sharing():
    """Within, a `@shared` read runs once per arguments, on whichever thread asks
    first; the others wait for its result (the findings' scopes read the same
    container identities three times otherwise)."""
    if _shared.get() is not None:        # already inside one: share with it
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared(fn):
    """Mark a read whose result its callers do not change: inside `sharing()` one
    call per arguments is made (per the arguments as bound, defaults applied, so
    `f(s, k=None)` and `f(s)` share; unhashable ones are not shared); outside, every
    call is."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def read(*args, **kwargs):
        memo = _shared.get()
        if memo is None:
            return fn(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = (fn, bound.args, tuple(bound.kwargs.items()))
        try:
            hash(key)
        except TypeError:
            return fn(*args, **kwargs)
        with _lock:
            future = memo.get(key)
            first = future is None
            if first:
                future = memo[key] = Future()
        if first:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as e:
                future.set_exception(e)
                raise
        return future.result()
    return read
