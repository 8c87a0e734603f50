"""The dashboard's pages: one module each, listed once here; the navigation,
the range picker's links and the tests all read PAGES.

A page module gives `data(store, range, host, window) -> dict`: what its
partial template (`partials/<name>_data.html`) shows, charts as the JSON
charts.js draws. The page itself is `<name>.html` at /<name>; its partial at
/<name>/data is loaded once, or every second while the range is live."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, Response, abort, current_app, render_template, request

from pyperf.errors import StoreError
from pyperf.web import export


@dataclass(frozen=True)
class Page:
    name: str          # blueprint and template name
    title: str         # navigation label
    path: str          # URL of the page
    data: Callable | None = None
    routes: Callable | None = None     # more routes on the page's blueprint (e.g. one container)


def blueprint(page: Page, store, collector, page_context) -> Blueprint:
    bp = Blueprint(page.name, __name__)

    if page.data is None:                  # a page of its own routes only
        page.routes(bp, store, collector, page_context)
        return bp

    @bp.get(page.path)
    def show():
        return render_template(f"{page.name}.html", **page_context())

    @bp.get(f"{page.path}/data")
    def data():
        context = page_context()
        started = time.perf_counter()
        window = collector.window if collector is not None else None
        try:
            shown = page.data(store, context["range"], context["host"], window)
        except StoreError as e:
            current_app.logger.warning("%s page: %s", page.name, e)
            return render_template("partials/store_down.html", error=str(e)), 503
        return render_template(f"partials/{page.name}_data.html", **shown,
                               elapsed_ms=(time.perf_counter() - started) * 1000)

    @bp.get(f"{page.path}/export")
    def export_part():
        """?part=<chart or table>&format=csv|json|parquet, over the page's range and host."""
        context = page_context()
        part, fmt = request.args.get("part", ""), request.args.get("format", "csv")
        if fmt not in export.FORMATS:
            abort(400, f"unknown format {fmt[:20]!r} (csv, json or parquet)")
        window = collector.window if collector is not None else None
        try:
            rows = export.records(page.data(store, context["range"], context["host"], window), part)
        except KeyError:
            abort(400, f"the {page.name} page has no chart or table {part[:40]!r}")
        except StoreError as e:
            return Response(str(e), status=503, mimetype="text/plain")
        name = f"pyperf-{page.name}-{part}-{context['range'].name}.{fmt}"
        return Response(export.render(rows, fmt), mimetype=export.FORMATS[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    if page.routes is not None:
        page.routes(bp, store, collector, page_context)
    return bp


def _pages() -> tuple[Page, ...]:
    from pyperf.web.pages import compare, containers, cpu, flame, memory, network, overview, response

    return (
        Page("overview", "Overview", "/overview", overview.data),
        Page("disk", "Disk", "/disk"),
        Page("containers", "Containers", "/containers", containers.data, containers.routes),
        Page("cpu", "CPU & scheduler", "/cpu", cpu.data),
        Page("memory", "Memory", "/memory", memory.data),
        Page("network", "Network", "/network", network.data),
        Page("response", "Response time", "/response", response.data),
        Page("flame", "Flame graphs", "/flame", flame.data, flame.routes),
        Page("compare", "Compare", "/compare", routes=compare.routes),
        Page("sql", "SQL", "/sql"),
    )


PAGES = _pages()
