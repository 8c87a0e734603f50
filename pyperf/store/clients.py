"""Clients of one store lent to threads one call at a time: the store's own
(the collector writes while the web UI reads) and the read-only sessions of
user SQL share this one pool type.

Not one client per thread: the web server runs each request on a thread of its
own, and every chDB client kept costs ~1 MiB of engine memory
(scripts/bench/store_clients.py). An idle client is lent before a new one is
opened; at most `max_idle` wait for the next call; with `max_open` set, a
caller waits up to `wait_s` for one to come back and then gets `busy`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class ClientPool(Generic[T]):
    def __init__(self, open_one: Callable[[], T], close_one: Callable[[T], None], *,
                 max_idle: int, max_open: int | None = None,
                 busy: Callable[[], Exception] | None = None):
        self._open_one = open_one
        self._close_one = close_one
        self.max_idle = max_idle
        self.max_open = max_open
        self._busy = busy or (lambda: TimeoutError("every client is busy"))
        self._cond = threading.Condition()
        self._mine: dict[int, T] = {}     # opened and not closed, by id (sessions may be unhashable)
        self._idle: list[T] = []
        self._opening = 0

    def __len__(self) -> int:
        """Clients open now, lent or idle."""
        with self._cond:
            return len(self._mine)

    def _room(self) -> bool:
        return self.max_open is None or len(self._mine) + self._opening < self.max_open

    def acquire(self, wait_s: float | None = None) -> T:
        with self._cond:
            if not self._idle and not self._room():
                if not self._cond.wait_for(lambda: self._idle or self._room(), timeout=wait_s):
                    raise self._busy()
            if self._idle:
                return self._idle.pop()
            self._opening += 1
        try:
            client = self._open_one()
        except BaseException:
            with self._cond:
                self._opening -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._opening -= 1
            self._mine[id(client)] = client
        return client

    def release(self, client: T, reuse: bool = True) -> None:
        """Back to the idle ones, or closed: when `reuse` is false, when enough wait
        already, or when the pool was closed while it was lent."""
        with self._cond:
            keep = reuse and id(client) in self._mine and len(self._idle) < self.max_idle
            if keep:
                self._idle.append(client)
            else:
                self._mine.pop(id(client), None)
            self._cond.notify()
        if not keep:
            self._close_quietly(client)

    @contextmanager
    def lent(self, wait_s: float | None = None):
        """A client for the block. It goes back after a failed call too: closing the
        embedded engine's last client shuts the engine down."""
        client = self.acquire(wait_s)
        try:
            yield client
        finally:
            self.release(client)

    def close(self) -> None:
        """Close the idle clients; those lent now are closed when they come back.
        The pool stays usable (a later call opens a new client)."""
        with self._cond:
            idle, self._idle, self._mine = self._idle, [], {}
            self._cond.notify_all()
        for client in idle:
            self._close_quietly(client)

    def _close_quietly(self, client: T) -> None:
        try:
            self._close_one(client)
        except Exception:
            pass
