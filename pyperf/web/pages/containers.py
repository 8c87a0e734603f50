"""Containers: every container over the range against the container thresholds;
one container's CPU, throttling, memory, I/O and network over time and its
processes (/containers/<id>)."""

from __future__ import annotations

import time

from flask import abort, current_app, render_template

from pyperf.errors import StoreError
from pyperf.web import container_queries


def tables(store, time_range, host, window) -> dict:
    return {"containers": container_queries.containers(store, time_range, host, window)}


def routes(bp, store, collector, page_context) -> None:
    """One container's page and its data partial (the id is only ever a query parameter)."""

    @bp.get("/containers/<container_id>")
    def one(container_id: str):
        context = page_context()
        try:
            window = collector.window if collector is not None else None
            found = container_queries.container(store, container_id, context["host"], window)
        except StoreError as e:
            return render_template("partials/store_down.html", error=str(e)), 503
        if found is None:
            abort(404, "no container with that id on this host")
        return render_template("container.html", container_id=container_id, container=found, **context)

    @bp.get("/containers/<container_id>/data")
    def one_data(container_id: str):
        context = page_context()
        tr, host = context["range"], context["host"]
        window = collector.window if collector is not None else None
        started = time.perf_counter()
        try:
            charts = container_queries.container_charts(store, container_id, tr, host, window)
            processes = container_queries.container_processes(store, container_id, tr, host, window)
        except StoreError as e:
            current_app.logger.warning("container page: %s", e)
            return render_template("partials/store_down.html", error=str(e)), 503
        return render_template("partials/container_data.html", charts=charts, processes=processes,
                               elapsed_ms=(time.perf_counter() - started) * 1000)
