"""Overview: the host's CPU, memory, disk and network against the
requirements' thresholds, and the processes using the most CPU."""

from __future__ import annotations

from pyperf.web import cpu_queries, overview_queries


def charts(store, time_range, host, window) -> dict:
    return overview_queries.host_charts(store, time_range, host, window)


def tables(store, time_range, host, window) -> dict:
    return {"busiest": cpu_queries.top_waiters(store, time_range, host, window, limit=10, order="oncpu_ms"),
            "tile_stats": overview_queries.tiles(overview_queries.host_charts(store, time_range, host, window))}


def finish(shown: dict, incremental: bool) -> dict:
    """The tiles: mean and peak over the range, the latest value from the newest charts."""
    newest = overview_queries.tiles(shown["charts"])
    shown["tiles"] = overview_queries.with_latest(shown["tile_stats"], newest) if incremental else newest
    return shown
