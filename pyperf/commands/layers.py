"""`pyperf layers`: which image layers and files a container really reads."""

from __future__ import annotations

import datetime as dt
import json

from pyperf.commands.output import as_records
from pyperf.errors import UsageError
from pyperf.layers import report as layer_report
from pyperf.store.dsn import resolve_address
from pyperf.store.lock import StoreLock, holder
from pyperf.store.store import Store
from pyperf.errors import StoreBusyError


def _open(args):
    address = resolve_address(args.store)
    lock = None
    if address.embedded:
        owner = holder(address.path)
        if owner is not None:
            raise StoreBusyError(f"store {address.path} is open by pyperf {owner.get('command', '?')} "
                                 f"(pid {owner.get('pid', '?')}); run `pyperf layers` after it stops "
                                 "or against a server store")
        lock = StoreLock(address.path, "layers")
        lock.acquire()
    return Store(address).open(), lock


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run(args) -> int:
    store, lock = _open(args)
    try:
        known = layer_report.containers(store)
        chosen = [c for c in known if not args.container or args.container in (c["name"], c["id"], c["image"])
                  or c["id"].startswith(args.container)]
        if not chosen:
            names = ", ".join(sorted({c["name"] for c in known})) or "none recorded yet"
            raise UsageError(f"no container or image '{args.container}' in the layer data (known: {names})")
        reports = [(c, layer_report.report(store, c["mnt_ns"])) for c in chosen]
    finally:
        store.close()
        if lock:
            lock.release()
    if args.prefetch_list or args.keep_list:
        for path_arg, key in ((args.prefetch_list, "startup_order"), (args.keep_list, "files_read")):
            if path_arg:
                seen, lines = set(), []
                for _, r in reports:
                    for item in r[key]:
                        path = item if isinstance(item, str) else item["path"]
                        if path not in seen:
                            seen.add(path)
                            lines.append(path)
                with open(path_arg, "w") as f:
                    f.write("".join(line + "\n" for line in lines))
    if args.by_image:
        return _print_rollups(reports, args.json)
    if args.json:
        out = [{"container": {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in c.items()},
                **{k: (as_records(list(v[0]), [tuple(x.values()) for x in v]) if k in ("hot_files", "files_read", "files_written") and v
                       else v) for k, v in r.items()}} for c, r in reports]
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
