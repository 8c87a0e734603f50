"""The pool that lends store clients and user-SQL sessions (pyperf.store.clients),
with stand-in clients: what is opened, lent, kept and closed."""

from __future__ import annotations

import threading

import pytest

from pyperf.store.clients import ClientPool


class Clients:
    def __init__(self, fail_opens: int = 0):
        self.opened: list[object] = []
        self.closed: list[object] = []
        self.fail_opens = fail_opens

    def open(self) -> object:
        if self.fail_opens:
            self.fail_opens -= 1
            raise ConnectionError("refused")
        client = object()
        self.opened.append(client)
        return client

    def close(self, client) -> None:
        self.closed.append(client)


def test_an_idle_client_is_lent_again_and_at_most_max_idle_wait():
    made = Clients()
    pool = ClientPool(made.open, made.close, max_idle=2)
    with pool.lent() as first:
        pass
    with pool.lent() as again:
        assert again is first
    lent = [pool.acquire() for _ in range(4)]
    assert len(set(map(id, lent))) == 4 and len(made.opened) == 4
    for client in lent:
        pool.release(client)
    assert len(made.closed) == 2 and len(pool) == 2


def test_a_client_goes_back_after_a_failed_call_unless_told_not_to():
    made = Clients()
    pool = ClientPool(made.open, made.close, max_idle=2)
    with pytest.raises(ValueError):
        with pool.lent() as client:
            raise ValueError("query failed")
    assert made.closed == [] and pool.acquire() is client
    pool.release(client, reuse=False)
    assert made.closed == [client] and len(pool) == 0


def test_with_max_open_a_caller_waits_for_a_client_to_come_back_then_is_told_busy():
    made = Clients()
    pool = ClientPool(made.open, made.close, max_idle=1, max_open=1, busy=lambda: RuntimeError("busy"))
    held = pool.acquire()
    with pytest.raises(RuntimeError, match="busy"):
        pool.acquire(wait_s=0)

    got: list = []
    waiting = threading.Thread(target=lambda: got.append(pool.acquire(wait_s=None)))
    waiting.start()
    pool.release(held)
    waiting.join()
    assert got == [held] and len(made.opened) == 1

    pool.release(held, reuse=False)          # closed: room for a new one
    fresh = pool.acquire(wait_s=0)
    assert fresh is not held and len(made.opened) == 2


def test_a_failed_open_takes_no_room():
    made = Clients(fail_opens=1)
    pool = ClientPool(made.open, made.close, max_idle=1, max_open=1, busy=lambda: RuntimeError("busy"))
    with pytest.raises(ConnectionError):
        pool.acquire(wait_s=0)
    assert pool.acquire(wait_s=0) is made.opened[0]


def test_close_closes_the_idle_clients_and_each_lent_one_when_it_comes_back():
    made = Clients()
    pool = ClientPool(made.open, made.close, max_idle=4)
    idle, lent = pool.acquire(), pool.acquire()
    pool.release(idle)
    pool.close()
    assert made.closed == [idle]
    pool.release(lent)
    assert made.closed == [idle, lent] and len(pool) == 0
    with pool.lent() as later:              # still usable: a new client
        assert later not in (idle, lent)


def test_a_close_that_fails_is_not_the_callers_problem():
    def refuse(client) -> None:
        raise OSError("already gone")

    pool = ClientPool(object, refuse, max_idle=0)
    with pool.lent():
        pass
    assert len(pool) == 0
