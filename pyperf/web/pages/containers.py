"""Containers: every container over the range against the container thresholds;
one container (/containers/<id>): CPU, throttling, memory, I/O and network over
time, run-queue and disk latency, response time per port, retransmits by peer,
its processes, and the way to its flame graph and its layers."""

from __future__ import annotations

import time

from flask import abort, current_app, render_template, request

from pyperf.errors import StoreError
from pyperf.web import container_queries, export
from pyperf.web.pages import since_range


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

    def detail(container_id: str):
        context = page_context()
        window = collector.window if collector is not None else None
        return context, container_queries.container_detail(store, container_id, context["range"], context["host"],
                                                           window)

    @bp.get("/containers/<container_id>/data")
    def one_data(container_id: str):
        """Everything; or (a live page) `only=charts`, every second: the charts the
        agent's memory answers; `only=tables`, every 30 s: the rest, with the charts
        read from stored rows."""
        only = request.args.get("only", "")
        if only not in ("", "charts", "tables"):
            abort(400, "only is charts or tables")
        started = time.perf_counter()
        try:
            if only == "charts":
                context = page_context()
                window = collector.window if collector is not None else None
                tr = context["range"]
                newer = since_range(tr, request.args.get("since", type=float))   # only what the browser lacks
                charts = container_queries.container_charts(store, container_id, newer or tr, context["host"], window)
                return render_template("partials/charts_only.html", charts=charts, incremental=newer is not None,
                                       range_start=tr.start.timestamp())
            context, shown = detail(container_id)
        except StoreError as e:
            current_app.logger.warning("container page: %s", e)
            return render_template("partials/store_down.html", error=str(e)), 503
        return render_template("partials/container_data.html", **{**context, **shown}, container_id=container_id,
                               elapsed_ms=(time.perf_counter() - started) * 1000)

    @bp.get("/containers/<container_id>/export")
    def one_export(container_id: str):
        """?part=<chart or table>&format=csv|json|parquet, like every page's exports."""
        part, fmt = request.args.get("part", ""), request.args.get("format", "csv")
        return export.download(lambda: detail(container_id)[1], part, fmt, "a container page",
                               f"pyperf-container-{part}-{page_context()['range'].name}")
