"""`pyperf layers`: which image layers and files a container really reads."""

from __future__ import annotations

import json

from pyperf.commands import running_agent
from pyperf.errors import UsageError
from pyperf.layers import report as layer_report
from pyperf.store.dsn import resolve_address


def matches(container: dict, wanted: str) -> bool:
    """A container chosen by name, id (or its prefix) or image; empty chooses all."""
    return (not wanted or wanted in (container["name"], container["id"], container["image"])
            or container["id"].startswith(wanted))


def reports_from_store(store, wanted: str, host: str | None = None) -> tuple[list[dict], list[tuple[dict, dict]]]:
    """(every container with layer data, (container, report) of those chosen)."""
    known = layer_report.containers(store, host)
    return known, [(c, layer_report.report(store, c["mnt_ns"], host)) for c in known if matches(c, wanted)]


def _reports(args) -> list[tuple[dict, dict]]:
    address = resolve_address(args.store)
    agent = running_agent.agent_for(address, "layers")
    if agent is not None:
        body = running_agent.call(agent, "/api/layers", query={"container": args.container or ""})
        known, chosen = body["known"], [(r["container"], r["report"]) for r in body["reports"]]
    else:
        with running_agent.store_of_my_own(address, "layers") as store:
            known, chosen = reports_from_store(store, args.container or "")
    if not chosen:
        names = ", ".join(sorted({c["name"] for c in known})) or "none recorded yet"
        raise UsageError(f"no container or image '{args.container}' in the layer data (known: {names})")
    return chosen


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run(args) -> int:
    reports = _reports(args)
    for path_arg, key in ((args.prefetch_list, "startup_order"), (args.keep_list, "files_read")):
        if path_arg:
            with open(path_arg, "w") as f:
                f.write(layer_report.path_list([r for _, r in reports], key))
    if args.by_image:
        return _print_rollups(reports, args.json)
    if args.json:
        out = [{"container": c, **r} for c, r in reports]
        print(json.dumps(out, default=str))
        return 0
    for c, r in reports:
        print(f"{c['name']} ({c['image'] or 'image unknown'}), container {c['id'][:12]}")
        print(f"  {'layer':>5}  {'id':<20} {'files':>6} {'size':>10} {'read':>6} {'bytes read':>11} {'share':>6}")
        for layer in r["layers"]:
            print(f"  {layer['index']:>5}  {layer['id'][:20]:<20} {layer['files']:>6} {_human(layer['bytes']):>10} "
                  f"{layer['files_read']:>6} {_human(layer['bytes_read']):>11} {layer['share_bytes_read']:>6.1%}")
        never = ", ".join(str(i) for i in r["never_read_layers"]) or "none"
        print(f"  image bytes read: {_human(r['image_bytes_read'])} of {_human(r['image_bytes'])} "
              f"({r['share_of_image_read']:.1%}); layers never read: {never}")
        print(f"  static waste: {_human(r['shadowed_bytes'])} shadowed by higher layers, "
              f"{_human(r['deleted_bytes'])} deleted by whiteouts")
        print(f"  startup (first {layer_report.STARTUP_S:.0f} s): {r['startup']['files']} files, "
              f"{_human(r['startup']['bytes'])}; steady state: {r['steady']['files']} files, "
              f"{_human(r['steady']['bytes'])}")
        upper = next((layer for layer in r["layers"] if layer["index"] == 0), None)
        if upper is not None:
            print(f"  writable layer: {upper['files_written']} files written ({upper['folios_dirtied']} page-cache "
                  f"folios dirtied); {len(r['copy_ups'])} copied up from image layers ({_human(r['copy_up_bytes'])})")
        alert = "  ALERT: over 1000/min" if r["accesses_over_alert"] else ""
        print(f"  layer accesses: {r['accesses_per_minute']:.0f} per minute{alert}")
        print("  first files read: " + ", ".join(r["startup_order"][:8]))
    return 0


def _print_rollups(reports, as_json: bool) -> int:
    by_image: dict[str, list] = {}
    for c, r in reports:
        by_image.setdefault(c["image"] or "(image unknown)", []).append((c, r))
    rollups = [layer_report.rollup(image, members) for image, members in sorted(by_image.items())]
    if as_json:
        print(json.dumps(rollups))
        return 0
    for u in rollups:
        print(f"image {u['image']}: {len(u['containers'])} containers ({', '.join(u['containers'])})")
        print(f"  {'layer':>5}  {'id':<20} {'files':>6} {'size':>10} {'read':>6} {'bytes read':>11} {'share':>6}")
        for layer in u["layers"]:
            print(f"  {layer['index']:>5}  {layer['id'][:20]:<20} {layer['files']:>6} {_human(layer['bytes']):>10} "
                  f"{layer['files_read']:>6} {_human(layer['bytes_read']):>11} {layer['share_bytes_read']:>6.1%}")
        never = ", ".join(i[:20] for i in u["never_read_layers"]) or "none"
        print(f"  read by any container: {_human(u['image_bytes_read'])} of {_human(u['image_bytes'])} "
              f"({u['share_of_image_read']:.1%}); layers no container read: {never}")
    return 0
