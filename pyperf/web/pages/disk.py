"""Disk: per device IOPS, throughput and p50/p99 latency, a latency heatmap of
all devices, each device's totals and queue depth, I/O per container, and the
newest slow I/Os, all of them or one container's (?container=ID)."""

from __future__ import annotations

from flask import request

from pyperf.store import pool
from pyperf.web import container_queries, disk_queries


def charts(store, time_range, host, window) -> dict:
    return disk_queries.charts(store, time_range, host, window)


def tables(store, time_range, host, window) -> dict:
    chosen = request.args.get("container", "")
    namespaces = None
    if chosen:
        found = container_queries.container(store, chosen, host, window)
        namespaces = found["mnt_ns"] if found else [0]           # an unknown container has none
    shown = pool.run_all({"devices": (disk_queries.devices, store, time_range, host, window),
                          "containers": (disk_queries.by_container, store, time_range, host, window),
                          "slow": (disk_queries.slow_ios, store, time_range, host, window, namespaces)})
    return {**shown, "container": chosen}
