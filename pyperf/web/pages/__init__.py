"""The dashboard's pages: one module each, listed once here; the navigation,
the range picker's links and the tests all read PAGES.

A page module gives `charts(store, range, host, window) -> {name: chart}` (the
JSON charts.js draws) and/or `tables(store, range, host, window) -> dict`: what
its partial template (`partials/<name>_data.html`) shows. The page itself is
`<name>.html` at /<name>; its partial at /<name>/data is loaded once, or every
second while the range is live.

A live page costs little: its charts (`?only=charts`, every second) are
computed for the seconds after the newest time the browser holds (`since`) and
appended there; its tables (`?only=tables`, every 30 s: per process, read from
the store, which changes only at a flush) are computed again at most every
TABLES_MAX_AGE_S or after a flush. Without `only`, everything at once."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from flask_htmx import HTMX

from pyperf.errors import StoreError
from pyperf.store import pool
from pyperf.web import export
from pyperf.web.timerange import TimeRange


@dataclass(frozen=True)
class Page:
    name: str          # blueprint and template name
    title: str         # navigation label
    path: str          # URL of the page
    charts: Callable | None = None
    tables: Callable | None = None
    routes: Callable | None = None     # more routes on the page's blueprint (e.g. one container)
    finish: Callable | None = None     # (shown, incremental) -> shown: what depends on both

    @property
    def has_data(self) -> bool:
        return self.charts is not None or self.tables is not None

    def data(self, store, time_range, host, window) -> dict:
        """Everything the page shows over the range, in full (exports)."""
        shown = dict(self.tables(store, time_range, host, window)) if self.tables else {}
        if self.charts:
            shown["charts"] = self.charts(store, time_range, host, window)
        return self.finish(shown, False) if self.finish else shown


VERSIONS = itertools.count(1)      # of computed tables: a live page asks with the one it shows
TABLES_MAX_AGE_S = 30.0    # what the window adds to them (a container's CPU) may lag this much
htmx = HTMX()          # bound to the app by create_app


def flush_pending(collector) -> None:
    """Write the rows buffered for the next flush, so what a command line or a user
    query reads from the store includes the newest interval."""
    writer = getattr(collector, "writer", None)
    if writer is not None and writer.store_down_since is None:
        writer.flush()


def since_range(time_range: TimeRange, since: float | None) -> TimeRange | None:
    """The part of a live range after `since` (the newest point the browser holds),
    from the second before it (that bucket may have grown), or None for the whole."""
    if not time_range.live or since is None:
        return None
    if not time_range.start.timestamp() < since <= time_range.end.timestamp():
        return None
    return TimeRange("custom", dt.datetime.fromtimestamp(since - 1, dt.timezone.utc), time_range.end)


def blueprint(page: Page, store, collector, page_context) -> Blueprint:
    bp = Blueprint(page.name, __name__)

    if not page.has_data:                  # a page of its own routes only
        page.routes(bp, store, collector, page_context)
        return bp
    cache: dict = {}                       # the live range's tables: key, computed at, value

    def tables(time_range, host, window) -> dict:
        if page.tables is None:
            return {}
        if not time_range.live:
            return page.tables(store, time_range, host, window)
        arguments = tuple(sorted((k, v) for k, v in request.args.items() if k not in ("since", "only", "version")))
        key = (arguments, host, getattr(getattr(collector, "writer", None), "flushes", None))
        now = time.monotonic()
        if cache.get("key") != key or now - cache.get("at", 0) > TABLES_MAX_AGE_S:
            cache.update(key=key, at=now, value=page.tables(store, time_range, host, window),
                         version=str(next(VERSIONS)))
        return cache["value"]

    @bp.get(page.path)
    def show():
        return render_template(f"{page.name}.html", **page_context())

    @bp.get(f"{page.path}/data")
    def data():
        if not htmx and "text/html" in request.headers.get("Accept", ""):
            # a partial opened in a tab of its own (a shared link, a reload): the whole page
            return redirect(page.path + (f"?{request.query_string.decode('ascii', 'replace')}"
                                         if request.query_string else ""))
        context = page_context()
        only = request.args.get("only", "")
        if only not in ("", "charts", "tables"):
            abort(400, "only is charts or tables")
        started = time.perf_counter()
        window = collector.window if collector is not None else None
        tr, host = context["range"], context["host"]
        newer = since_range(tr, request.args.get("since", type=float))
        try:
            with pool.sharing():          # reads the charts and tables both ask for, made once
                # the charts (pure reads) beside the tables (which may need the request)
                charts = (pool.submit(page.charts, store, newer or tr, host, window)
                          if page.charts is not None and only != "tables" else None)
                # a page whose charts need its tables' figures (finish) gets them from the cache
                shown = dict(tables(tr, host, window)) if only != "charts" or page.finish else {}
                if only == "tables" and tr.live and request.args.get("version") == cache.get("version"):
                    return Response(status=204)      # the browser has these tables already
                if charts is not None:
                    shown["charts"] = charts.result()
                if page.finish is not None:
                    shown = page.finish(shown, newer is not None)
        except StoreError as e:
            current_app.logger.warning("%s page: %s", page.name, e)
            return render_template("partials/store_down.html", error=str(e)), 503
        template = ([f"partials/{page.name}_live.html", "partials/charts_only.html"] if only == "charts"
                    else f"partials/{page.name}_data.html")
        html = render_template(template, **{**context, **shown}, incremental=newer is not None,
                               range_start=tr.start.timestamp(),
                               elapsed_ms=(time.perf_counter() - started) * 1000)
        if only == "tables" and tr.live and cache.get("version"):
            html += f'<span hidden data-tables-version="{cache["version"]}"></span>'
        return html

    @bp.get(f"{page.path}/export")
    def export_part():
        """?part=<chart or table>&format=csv|json|parquet, over the page's range and host."""
        context = page_context()
        part, fmt = request.args.get("part", ""), request.args.get("format", "csv")
        window = collector.window if collector is not None else None
        return export.download(lambda: page.data(store, context["range"], context["host"], window), part, fmt,
                               f"the {page.name} page", f"pyperf-{page.name}-{part}-{context['range'].name}")

    if page.routes is not None:
        page.routes(bp, store, collector, page_context)
    return bp


def _pages() -> tuple[Page, ...]:
    from pyperf.web.pages import (alerts, compare, containers, cpu, disk, flame, layers, memory, network, overview,
                                   response, settings)

    return (
        Page("overview", "Overview", "/overview", overview.charts, overview.tables, finish=overview.finish),
        Page("disk", "Disk", "/disk", disk.charts, disk.tables),
        Page("containers", "Containers", "/containers", tables=containers.tables, routes=containers.routes),
        Page("cpu", "CPU & scheduler", "/cpu", cpu.charts, cpu.tables),
        Page("memory", "Memory", "/memory", memory.charts, memory.tables),
        Page("network", "Network", "/network", network.charts, network.tables),
        Page("response", "Response time", "/response", response.charts, response.tables),
        Page("layers", "Layers", "/layers", tables=layers.tables, routes=layers.routes),
        Page("flame", "Flame graphs", "/flame", tables=flame.tables, routes=flame.routes),
        Page("alerts", "Findings & alerts", "/alerts", tables=alerts.tables, routes=alerts.routes),
        Page("compare", "Compare", "/compare", routes=compare.routes),
        Page("sql", "SQL", "/sql"),
        Page("settings", "Settings", "/settings", routes=settings.routes),
    )


PAGES = _pages()
