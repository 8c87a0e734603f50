"""Flame graphs: on-CPU or off-CPU, for the host, a container or a process over
the range; zoom and search in the graph; the top table (function, self,
total: the bottleneck summary); downloads as folded stacks and speedscope."""

from __future__ import annotations

import json

from flask import Response, abort, request

from pyperf.flamegraph import to_folded, to_speedscope
from pyperf.web import container_queries, flame_queries


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


def _stacks(store, time_range, host, window):
    kind, pid, container = scope()
    namespaces = None
    if container:
        found = container_queries.container(store, container, host, window)
        namespaces = found["mnt_ns"] if found else [0]       # an unknown container has no stacks
    return kind, flame_queries.stacks(store, time_range, host, kind, pid, namespaces)


def tables(store, time_range, host, window) -> dict:
    kind, stacks = _stacks(store, time_range, host, window)
    return {"tree": flame_queries.tree(stacks), "top": flame_queries.top_functions(stacks),
            "unit": flame_queries.KINDS[kind][2], "stacks": len(stacks)}


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
