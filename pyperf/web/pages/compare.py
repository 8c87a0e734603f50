"""Compare: two ranges side by side for every host metric and container, with
the change (?a_range=… or a_from/a_to, the same for b; by default the last
hour against the hour before)."""

from __future__ import annotations

import datetime as dt

from flask import abort, jsonify, render_template, request

from pyperf.errors import StoreError
from pyperf.web import compare_queries
from pyperf.web.timerange import parse_range


def ranges(args, now: dt.datetime | None = None):
    """The two ranges from `a_*` and `b_*` arguments; ValueError says which is wrong."""
    now = now or dt.datetime.now(dt.timezone.utc)
    hour = dt.timedelta(hours=1)
    defaults = {"a": {"range": "custom", "from": (now - 2 * hour).isoformat(), "to": (now - hour).isoformat()},
                "b": {"range": "1h"}}
    out = []
    for side in ("a", "b"):
        given = {k: args.get(f"{side}_{k}") for k in ("range", "from", "to") if args.get(f"{side}_{k}")}
        try:
            out.append(parse_range(given or defaults[side], now))
        except ValueError as e:
            raise ValueError(f"range {side.upper()}: {e}") from None
    return out


def routes(bp, store, collector, page_context) -> None:
    @bp.get("/compare")
    def show():
        context = page_context()
        try:
            a, b = ranges(request.args)
        except ValueError as e:
            abort(400, str(e))
        window = collector.window if collector is not None else None
        try:
            result = compare_queries.compare(store, a, b, context["host"], window)
        except StoreError as e:
            return render_template("partials/store_down.html", error=str(e)), 503
        return render_template("compare.html", a=a, b=b, **result, **context)

    @bp.get("/api/compare")
    def api_compare():
        """The same comparison as JSON (?a_range=…|a_from/a_to, b_…; &host=)."""
        try:
            a, b = ranges(request.args)
        except ValueError as e:
            return jsonify(error=str(e)), 400
        window = collector.window if collector is not None else None
        result = compare_queries.compare(store, a, b, request.args.get("host") or store.host_name, window)
        return jsonify(a={"from": a.start.isoformat(), "to": a.end.isoformat()},
                       b={"from": b.start.isoformat(), "to": b.end.isoformat()}, **result)
