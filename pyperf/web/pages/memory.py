"""Memory: usage, swap, pressure (PSI), faults, and the processes that fault most."""

from __future__ import annotations

from pyperf.web import memory_queries


def charts(store, time_range, host, window) -> dict:
    return memory_queries.memory_charts(store, time_range, host, window)


def tables(store, time_range, host, window) -> dict:
    return {"faulting": memory_queries.top_faulting(store, time_range, host, window)}
