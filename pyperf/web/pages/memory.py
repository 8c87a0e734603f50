"""Memory: usage, swap, pressure (PSI), faults, and the processes that fault most."""

from __future__ import annotations

from pyperf.web import memory_queries


def data(store, time_range, host, window) -> dict:
    return {"charts": memory_queries.memory_charts(store, time_range, host, window),
            "faulting": memory_queries.top_faulting(store, time_range, host, window)}
