"""Layers: what each container (or every container of an image) reads of its
image — per layer the size against the bytes read, layers never read, hot
files, shadowed and deleted bytes, startup against steady state — and the
prefetch and keep lists as downloads. The report covers everything recorded
for the container (pyperf.layers.report), whatever the range. /api/layers
serves the same reports to `pyperf layers` while `up` holds the store."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from pyperf.commands.layers import reports_from_store
from pyperf.layers import report as layer_report
from pyperf.web.pages import flush_pending

LISTS = {"prefetch": "startup_order", "keep": "files_read"}


def _chosen(store, host) -> tuple[list[dict], list[tuple[dict, dict]], str]:
    """Every container with layer data, the reports chosen by ?container=ID or
    ?image=NAME (exact: these come from links, not from typing), and which."""
    container, image = request.args.get("container", ""), request.args.get("image", "")
    known = layer_report.containers(store, host)
    if image:
        members = [c for c in known if c["image"] == image]
        return known, [(c, layer_report.report(store, c["mnt_ns"], host)) for c in members], "image"
    if container:
        members = [c for c in known if c["id"] == container]
        return known, [(c, layer_report.report(store, c["mnt_ns"], host)) for c in members], "container"
    return known, [], ""


def tables(store, time_range, host, window) -> dict:
    known, chosen, by = _chosen(store, host)
    shown = {"known": known, "images": sorted({c["image"] for c in known if c["image"]}), "by": by,
             "chosen": [c for c, _ in chosen]}
    if by == "container" and chosen:
        r = chosen[0][1]
        largest = max((layer["bytes"] for layer in r["layers"]), default=0)
        shown.update(report=r, largest=largest, layers=r["layers"], hot_files=r["hot_files"],
                     files_written=r["files_written"])
    elif by == "image" and chosen:
        u = layer_report.rollup(request.args["image"], chosen)
        shown.update(rollup=u, largest=max((layer["bytes"] for layer in u["layers"]), default=0),
                     layers=u["layers"])
    return shown


def routes(bp, store, collector, page_context) -> None:
    @bp.get("/layers/list")
    def path_list():
        """?kind=prefetch|keep and the container or image: one path per line."""
        context = page_context()
        kind = request.args.get("kind", "")
        if kind not in LISTS:
            abort(400, "kind is prefetch or keep")
        _, chosen, by = _chosen(store, context["host"])
        if not chosen:
            abort(404, "no such container or image in the layer data")
        body = layer_report.path_list([r for _, r in chosen], LISTS[kind])
        name = f"pyperf-{kind}-{by}.txt"
        return Response(body, mimetype="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @bp.get("/api/layers")
    def api_layers():
        """?container=NAME|ID|ID-PREFIX|IMAGE (empty: all): the reports `pyperf layers` prints."""
        flush_pending(collector)
        known, chosen = reports_from_store(store, request.args.get("container", ""),
                                           request.args.get("host") or None)
        return jsonify(known=known, reports=[{"container": c, "report": r} for c, r in chosen])
