"""Overview: the host's CPU, memory, disk and network against the
requirements' thresholds, the top containers (sortable by CPU, memory, I/O,
run-queue p99, response p99, retransmits and layer accesses with ?sort=) and
the top processes (?psort=cpu|runq)."""

from __future__ import annotations

from flask import abort, request

from pyperf.store import pool
from pyperf.web import container_queries, cpu_queries, overview_queries

PROCESS_SORTS = {"cpu": "oncpu_ms", "runq": "runq_ms"}


def charts(store, time_range, host, window) -> dict:
    return overview_queries.host_charts(store, time_range, host, window)


def tables(store, time_range, host, window) -> dict:
    sort, psort = request.args.get("sort", "cpu"), request.args.get("psort", "cpu")
    if sort not in container_queries.TOP_SORTS:
        abort(400, f"sort is one of {', '.join(container_queries.TOP_SORTS)}")
    if psort not in PROCESS_SORTS:
        abort(400, "psort is cpu or runq")
    busiest = pool.submit(cpu_queries.top_waiters, store, time_range, host, window, 10, PROCESS_SORTS[psort])
    containers = container_queries.top_containers(store, time_range, host, window, sort=sort, limit=10)
    return {"containers": containers, "busiest": busiest.result(), "sort": sort, "psort": psort,
            # only a live refresh needs them apart from its (newest seconds') charts
            "tile_stats": overview_queries.tiles(overview_queries.host_charts(store, time_range, host, window))
            if time_range.live else None}


def finish(shown: dict, incremental: bool) -> dict:
    """The tiles: mean and peak over the range, the latest value from the newest charts."""
    if "charts" not in shown:                  # the tables alone (a live page's slower part)
        return shown
    newest = overview_queries.tiles(shown["charts"])
    shown["tiles"] = overview_queries.with_latest(shown["tile_stats"], newest) if incremental else newest
    return shown
