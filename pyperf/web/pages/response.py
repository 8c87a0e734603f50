"""Response time: per server process and port, requests and p50/p99 over time
with the 100 ms threshold drawn."""

from __future__ import annotations

from pyperf.analysis import thresholds
from pyperf.web import response_queries


def charts(store, time_range, host, window) -> dict:
    return response_queries.response_charts(store, time_range, host, window)


def tables(store, time_range, host, window) -> dict:
    return {"servers": response_queries.servers(store, time_range, host, window),
            "threshold_ms": thresholds.CONTAINER["response_time_us"] / 1000}
