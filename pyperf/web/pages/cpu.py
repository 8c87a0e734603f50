"""CPU & scheduler: per-CPU use and context switches, run-queue latency as a
heatmap over time, the processes that waited longest for a CPU."""

from __future__ import annotations

from pyperf.web import cpu_queries


def charts(store, time_range, host, window) -> dict:
    return {"busy": cpu_queries.cpu_busy(store, time_range, host, window),
            "switches": cpu_queries.context_switches(store, time_range, host, window),
            "runq": cpu_queries.runq_heatmap(store, time_range, host, window)}


def tables(store, time_range, host, window) -> dict:
    return {"waiters": cpu_queries.top_waiters(store, time_range, host, window)}
