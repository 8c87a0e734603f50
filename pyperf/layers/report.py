"""The layer report of a container: per layer what exists and what was read,
layers never read, startup order, hot files, and static waste (bytes shadowed
or deleted by higher layers). Everything is SQL over layer_files and
layer_file_access, so the same numbers are one query away for users."""

from __future__ import annotations

from pyperf.analysis import thresholds
from pyperf.store import pool

PAGE = 4096
STARTUP_S = 10.0          # accesses this soon after a container's first one make its startup profile

# Accesses of one container's files, summed over the whole recording.
ACCESS = """
SELECT dev, inode,
       sum(reads) AS reads, sum(mmap_pages) AS mmap_pages, sum(added_pages) AS added_pages,
       min(first_page) AS first_page, max(last_page) AS last_page, min(first_access) AS first_access,
       sum(dirtied_folios) AS dirtied_folios
FROM layer_file_access
WHERE host = {host:String} AND mnt_ns = {mnt_ns:UInt64}
GROUP BY dev, inode
"""

FILES = """
SELECT layer_index, argMax(layer_id, ts) AS layer_id, path, argMax(kind, ts) AS kind,
       argMax(dev, ts) AS dev, argMax(inode, ts) AS inode, argMax(size, ts) AS size
FROM layer_files
WHERE host = {host:String} AND mnt_ns = {mnt_ns:UInt64}
GROUP BY layer_index, path
"""

CONTAINERS = """
SELECT mnt_ns, any(container_id), any(container_name), any(image), min(ts)
FROM layer_files WHERE host = {host:String}
GROUP BY mnt_ns ORDER BY min(ts)
"""


def bytes_read(size: int, first_page: int, last_page: int, mmap_pages: int) -> int:
    """Bytes of the file touched: the page span read (exact for sequential reads), or
    the pages mapped, whichever is larger, never more than the file."""
    span = (last_page - first_page + 1) * PAGE if last_page >= first_page else 0
    return min(size, max(span, mmap_pages * PAGE))


def read_and_mmap_bytes(size: int, reads: int, first_page: int, last_page: int,
                        mmap_pages: int) -> tuple[int, int]:
    """(bytes through read(), bytes through mmap) of one file, counted apart."""
    mapped = min(size, mmap_pages * PAGE)
    span = (last_page - first_page + 1) * PAGE if reads and last_page >= first_page else 0
    return min(size, span), mapped


@pool.shared          # (the findings' image and container-layer scopes read both alike)
def containers(store, host: str | None = None) -> list[dict]:
    rows = store.query(CONTAINERS, {"host": host or store.host_name}).rows
    return [{"mnt_ns": r[0], "id": r[1], "name": r[2], "image": r[3], "first_seen": r[4].isoformat()} for r in rows]


@pool.shared
def report(store, mnt_ns: int, host: str | None = None) -> dict:
    """Plain data (numbers, strings, lists, dicts: times as ISO 8601) so the same
    report is printed here or sent from a running agent as JSON."""
    host = host or store.host_name
    params = {"host": host, "mnt_ns": mnt_ns}
    access = {(r[0], r[1]): r[2:] for r in store.query(ACCESS, params).rows}
    files = store.query(FILES, params).rows

    layers: dict[int, dict] = {}
    read_files, written_files = [], []
    paths_by_layer: dict[int, dict[str, tuple]] = {}
    for layer_index, layer_id, path, kind, dev, inode, size in files:
        layer = layers.setdefault(layer_index, {"index": layer_index, "id": layer_id, "files": 0, "bytes": 0,
                                                "files_read": 0, "bytes_read": 0, "bytes_read_via_read": 0,
                                                "bytes_read_via_mmap": 0, "bytes_missed_cache": 0,
                                                "whiteouts": 0, "files_written": 0, "folios_dirtied": 0})
        paths_by_layer.setdefault(layer_index, {})[path] = (kind, size)
        if kind == "whiteout":
            layer["whiteouts"] += 1
            continue
        if kind != "file":
            continue
        layer["files"] += 1
        layer["bytes"] += size
        hit = access.get((dev, inode))
        if hit is None:
            continue
        reads, mmap_pages, added_pages, first_page, last_page, first_access, dirtied = hit
        if dirtied:
            layer["files_written"] += 1
            layer["folios_dirtied"] += dirtied
            written_files.append({"path": path, "layer": layer_index, "size": size, "folios_dirtied": dirtied})
        if not (reads or mmap_pages):
            continue
        touched = bytes_read(size, first_page, last_page, mmap_pages)
        via_read, via_mmap = read_and_mmap_bytes(size, reads, first_page, last_page, mmap_pages)
        layer["files_read"] += 1
        layer["bytes_read"] += touched
        layer["bytes_read_via_read"] += via_read
        layer["bytes_read_via_mmap"] += via_mmap
        layer["bytes_missed_cache"] += min(size, added_pages * PAGE)
        read_files.append({"path": path, "layer": layer_index, "size": size, "bytes_read": touched,
                           "bytes_via_read": via_read, "bytes_via_mmap": via_mmap,
                           "reads": reads, "mmap_pages": mmap_pages, "first_access": first_access})

    for layer in layers.values():
        layer["share_files_read"] = layer["files_read"] / layer["files"] if layer["files"] else 0.0
        layer["share_bytes_read"] = layer["bytes_read"] / layer["bytes"] if layer["bytes"] else 0.0

    # static waste: a lower file hidden by the same path (or a whiteout) in a higher layer,
    # or by an opaque directory above it
    shadowed_bytes, deleted_bytes = 0, 0
    ordered = sorted(paths_by_layer)
    for position, index in enumerate(ordered):
        higher = [paths_by_layer[i] for i in ordered[:position]]
        for path, (kind, size) in paths_by_layer[index].items():
            if kind != "file":
                continue
            for above in higher:
                entry = above.get(path)
                if entry is not None:
                    if entry[0] == "whiteout":
                        deleted_bytes += size
                    else:
                        shadowed_bytes += size
                    break
                if any(k == "opaque" and path.startswith(p + "/") for p, (k, _) in above.items()):
                    deleted_bytes += size
                    break

    # copy-ups: files of the writable layer that exist as files in an image layer
    # (overlayfs copied the file up on its first write; or the container replaced it)
    upper = paths_by_layer.get(0, {})
    copy_ups = sorted(path for path, (kind, _) in upper.items() if kind == "file" and any(
        paths_by_layer[i].get(path, ("",))[0] == "file" for i in ordered if i > 0))
    copy_up_bytes = sum(next(paths_by_layer[i][path][1] for i in ordered if i > 0
                             and paths_by_layer[i].get(path, ("",))[0] == "file") for path in copy_ups)

    image_layers = [layers[i] for i in sorted(layers) if i > 0]
    image_bytes = sum(l["bytes"] for l in image_layers)
    image_read = sum(l["bytes_read"] for l in image_layers)
    startup = sorted(read_files, key=lambda f: f["first_access"])
    phases = startup_and_steady(startup)
    rate = accesses_per_minute(store, mnt_ns, host)
    for f in read_files:
        f["first_access"] = f["first_access"].isoformat()
    return {
        "mnt_ns": mnt_ns,
        "layers": [layers[i] for i in sorted(layers)],
        "never_read_layers": [l["index"] for l in image_layers if l["files"] and not l["files_read"]],
        "image_bytes": image_bytes,
        "image_bytes_read": image_read,
        "share_of_image_read": image_read / image_bytes if image_bytes else 0.0,
        "shadowed_bytes": shadowed_bytes,
        "deleted_bytes": deleted_bytes,
        "startup_order": [f["path"] for f in startup],
        "startup": phases["startup"],
        "steady": phases["steady"],
        "accesses_per_minute": rate,
        "accesses_over_alert": rate > thresholds.CONTAINER["layer_accesses_per_min"],
        "hot_files": sorted(read_files, key=lambda f: (-f["reads"] - f["mmap_pages"], f["path"]))[:20],
        "files_read": sorted(read_files, key=lambda f: f["path"]),
        "files_written": sorted(written_files, key=lambda f: f["path"]),
        "copy_ups": copy_ups,
        "copy_up_bytes": copy_up_bytes,
    }


def path_list(reports: list[dict], key: str) -> str:
    """The prefetch list (key "startup_order": first reads first) or the keep list
    ("files_read") of some containers' reports: one path per line, each once."""
    seen: dict[str, None] = {}
    for r in reports:
        for item in r[key]:
            path = item if isinstance(item, str) else item["path"]
            if "\n" not in path:     # a line-per-path list cannot hold it; it would name two other files
                seen.setdefault(path)
    return "".join(path + "\n" for path in seen)


def startup_and_steady(by_first_access: list[dict]) -> dict:
    """Files first read within STARTUP_S of the container's first read (its startup
    profile) apart from those first read later (steady state)."""
    if not by_first_access:
        empty = {"files": 0, "bytes": 0}
        return {"startup": dict(empty), "steady": dict(empty)}
    start = by_first_access[0]["first_access"]
    phases = {"startup": {"files": 0, "bytes": 0}, "steady": {"files": 0, "bytes": 0}}
    for f in by_first_access:
        phase = "startup" if (f["first_access"] - start).total_seconds() <= STARTUP_S else "steady"
        phases[phase]["files"] += 1
        phases[phase]["bytes"] += f["bytes_read"]
    return phases


RATE = """
SELECT sum(reads + (mmap_pages > 0)) AS accesses,
       dateDiff('millisecond', min(first_access), max(last_access)) AS span_ms
FROM layer_file_access
WHERE host = {host:String} AND mnt_ns = {mnt_ns:UInt64}
"""


def accesses_per_minute(store, mnt_ns: int, host: str | None = None) -> float:
    """Layer accesses (read calls, plus one per file and interval it was mapped in) per
    minute over the time it was observed
    reading (at least one minute, so a burst at start-up is not inflated)."""
    rows = store.query(RATE, {"host": host or store.host_name, "mnt_ns": mnt_ns}).rows
    if not rows or not rows[0][0]:
        return 0.0
    accesses, span_ms = rows[0]
    return float(accesses) / max(float(span_ms) / 60000.0, 1.0)


def rollup(image: str, reports: list[tuple[dict, dict]]) -> dict:
    """One image's layers over all its containers: per layer, the files and bytes
    read by any of them (a file counts once, at the most any container read of
    it), and the layers none of them read. The writable upper layer (index 0)
    belongs to each container and is left out."""
    layers: dict[str, dict] = {}
    read: dict[tuple[str, str], int] = {}
    for _, r in reports:
        ids = {layer["index"]: layer["id"] for layer in r["layers"]}
        for layer in r["layers"]:
            if layer["index"] > 0:
                layers.setdefault(layer["id"], {"id": layer["id"], "index": layer["index"],
                                                "files": layer["files"], "bytes": layer["bytes"]})
        for f in r["files_read"]:
            if f["layer"] > 0:
                key = (ids[f["layer"]], f["path"])
                read[key] = max(read.get(key, 0), f["bytes_read"])
    for layer in layers.values():
        mine = [n for (layer_id, _), n in read.items() if layer_id == layer["id"]]
        layer["files_read"] = len(mine)
        layer["bytes_read"] = sum(mine)
        layer["share_bytes_read"] = layer["bytes_read"] / layer["bytes"] if layer["bytes"] else 0.0
    ordered = sorted(layers.values(), key=lambda layer: layer["index"])
    image_bytes = sum(layer["bytes"] for layer in ordered)
    image_read = sum(layer["bytes_read"] for layer in ordered)
    return {
        "image": image,
        "containers": [c["name"] for c, _ in reports],
        "layers": ordered,
        "never_read_layers": [layer["id"] for layer in ordered if layer["files"] and not layer["files_read"]],
        "image_bytes": image_bytes,
        "image_bytes_read": image_read,
        "share_of_image_read": image_read / image_bytes if image_bytes else 0.0,
        "files_read": sorted({path for (_, path) in read}),
    }
