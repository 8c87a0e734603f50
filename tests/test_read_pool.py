"""The read pool (pyperf.store.pool): reads shared within one page or findings
evaluation, and run_all, which its callers may call from anywhere."""

import threading

import pytest

from pyperf.store import pool


def test_a_shared_read_runs_once_per_arguments_inside_sharing_and_every_time_outside():
    calls = []
    started = threading.Event()
    release = threading.Event()

    @pool.shared
    def identities(store, host, window=None):
        calls.append((store, host, window))
        started.set()
        release.wait(10)
        return {"host": host}

    with pool.sharing():
        first = pool.submit(identities, "store", "h1")         # on a pool thread
        started.wait(10)
        second = pool.submit(identities, "store", "h1", None)   # the same, defaults bound: waits for the first
        release.set()
        assert first.result(10) is second.result(10)
        assert identities("store", "h1", window=None) is first.result()
        assert identities("store", "h2") == {"host": "h2"}      # other arguments: a read of their own
        with pool.sharing():                                    # nested: the same memo
            assert identities("store", "h2") == {"host": "h2"}
    assert calls == [("store", "h1", None), ("store", "h2", None)]
    identities("store", "h1")
    identities("store", "h1")
    assert len(calls) == 4                                      # outside: every call reads


def test_a_shared_read_that_fails_fails_for_every_caller_and_unhashable_arguments_are_not_shared():
    calls = []

    @pool.shared
    def broken(store):
        calls.append(store)
        raise LookupError("store down")

    @pool.shared
    def by_list(store, namespaces):
        calls.append(namespaces)
        return len(namespaces)

    with pool.sharing():
        for _ in range(2):
            with pytest.raises(LookupError, match="store down"):
                broken("s")
        assert by_list("s", [1, 2]) == by_list("s", [1, 2]) == 2
    assert calls == ["s", [1, 2], [1, 2]]


def test_run_all_keeps_the_order_raises_the_first_error_and_never_waits_on_itself():
    assert pool.run_all({"b": (lambda x: x * 2, 2), "a": (str.upper, "x")}) == {"b": 4, "a": "X"}
    assert list(pool.run_all({"b": (int, "1"), "a": (int, "2"), "c": (int, "3")})) == ["b", "a", "c"]
    assert pool.run_all({}) == {}
    with pytest.raises(ValueError):
        pool.run_all({"good": (int, "1"), "bad": (int, "x"), "more": (int, "2")})

    # both workers busy in calls that themselves run_all: their callers do the work
    gate = threading.Barrier(2, timeout=10)

    def nested(n):
        gate.wait()                   # both pool threads are taken now
        return sum(pool.run_all({str(i): (lambda i=i: i, ) for i in range(n)}).values())
    outer = [pool.submit(nested, 3), pool.submit(nested, 4)]
    assert [f.result(timeout=30) for f in outer] == [3, 6]


def test_sharing_reaches_reads_made_on_the_pool():
    """A call submitted inside sharing() sees its memo (the submitter's context)."""
    calls = []

    @pool.shared
    def read(key):
        calls.append(key)
        return key

    with pool.sharing():
        results = pool.run_all({str(i): (read, "same") for i in range(6)})
    assert set(results.values()) == {"same"} and calls == ["same"]
