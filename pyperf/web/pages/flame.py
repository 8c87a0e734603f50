"""Flame graphs: on-CPU or off-CPU, for the host, a container or a process over
the range; zoom and search in the graph; the top table (function, self,
total: the bottleneck summary); downloads as folded stacks and speedscope.
With ?base=previous (the equal range before) or ?base=custom&base_from=&base_to=,
a differential graph and table against that baseline."""

from __future__ import annotations

import json

from flask import Response, abort, request

from pyperf.flamegraph import to_folded, to_speedscope
from pyperf.web import container_queries, flame_queries
from pyperf.web.timerange import TimeRange, parse_range


def scope() -> tuple[str, int, str]:
    """kind, pid and container id from the URL; a bad one is a 400."""
    kind = request.args.get("kind", "cpu")
    if kind not in flame_queries.KINDS:
        abort(400, "kind is cpu or offcpu")
    try:
        pid = int(request.args.get("pid") or 0)
    except ValueError:
        abort(400, "pid must be a number")
    if not 0 <= pid < 2**32:
        abort(400, "pid must be a number")
    return kind, pid, request.args.get("container", "")


def baseline(time_range: TimeRange) -> TimeRange | None:
    """The range to diff against, from the URL; a bad one is a 400 saying why."""
    mode = request.args.get("base", "")
    if not mode:
        return None
    if mode == "previous":
        return TimeRange("custom", time_range.start - (time_range.end - time_range.start), time_range.start)
    if mode != "custom":
        abort(400, "base is previous or custom")
    try:
        return parse_range({"range": "custom", "from": request.args.get("base_from"),
                            "to": request.args.get("base_to")})
    except ValueError as e:
        abort(400, f"baseline: {e}")


def _stacks(store, time_range, host, window):
    kind, pid, container = scope()
    namespaces = None
    if container:
        found = container_queries.container(store, container, host, window)
        namespaces = found["mnt_ns"] if found else [0]       # an unknown container has no stacks
    return kind, flame_queries.stacks(store, time_range, host, kind, pid, namespaces)


def tables(store, time_range, host, window) -> dict:
    kind, stacks = _stacks(store, time_range, host, window)
    shown = {"unit": flame_queries.KINDS[kind][2], "stacks": len(stacks)}
    base = baseline(time_range)
    if base is None:
        return {**shown, "tree": flame_queries.tree(stacks), "top": flame_queries.top_functions(stacks)}
    _, base_stacks = _stacks(store, base, host, window)
    return {**shown, "tree": flame_queries.diff_tree(base_stacks, stacks),
            "top": flame_queries.diff_top(base_stacks, stacks), "base": base,
            "base_weight": sum(w for _, w in base_stacks), "weight": sum(w for _, w in stacks)}


def routes(bp, store, collector, page_context) -> None:
    @bp.get("/flame/download")
    def download():
        """?format=folded|speedscope over the same range and scope."""
        context = page_context()
        fmt = request.args.get("format", "folded")
        if fmt not in ("folded", "speedscope"):
            abort(400, "format is folded or speedscope")
        window = collector.window if collector is not None else None
        kind, stacks = _stacks(store, context["range"], context["host"], window)
        name = f"pyperf-{kind}-{context['host']}-{context['range'].name}"
        if fmt == "folded":
            body, mimetype, ext = to_folded(stacks), "text/plain; charset=utf-8", "folded"
        else:
            unit = "microseconds" if kind == "offcpu" else "none"
            body, mimetype, ext = json.dumps(to_speedscope(stacks, name, unit)), "application/json", "speedscope.json"
        return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'})
