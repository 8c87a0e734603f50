"""CPU & scheduler: per-CPU use and context switches, run-queue latency as a
heatmap over time, the processes that waited longest for a CPU."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, render_template

from pyperf.errors import StoreError
from pyperf.web import cpu_queries


def blueprint(store, collector, page_context) -> Blueprint:
    bp = Blueprint("cpu", __name__)

    @bp.get("/cpu")
    def page():
        context = page_context()
        return render_template("cpu.html", **context)

    @bp.get("/cpu/data")
    def data():
        """The page's data, as a partial: a JSON blob for the charts and the table."""
        context = page_context()
        tr, host = context["range"], context["host"]
        started = time.perf_counter()
        window = collector.window if collector is not None else None
        try:
            charts = {
                "busy": cpu_queries.cpu_busy(store, tr, host, window),
                "switches": cpu_queries.context_switches(store, tr, host, window),
                "runq": cpu_queries.runq_heatmap(store, tr, host, window),
            }
            waiters = cpu_queries.top_waiters(store, tr, host, window)
        except StoreError as e:
            current_app.logger.warning("cpu page: %s", e)
            return render_template("partials/store_down.html", error=str(e)), 503
        return render_template("partials/cpu_data.html", charts=charts, waiters=waiters,
                               elapsed_ms=(time.perf_counter() - started) * 1000)

    return bp
