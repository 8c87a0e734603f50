"""A container's overlay layers, from its mount table, and the runtime's layer
identities. Readers take their roots as arguments; parsers are pure."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layer:
    index: int        # 0 = the container's writable (upper) layer, 1.. = lower layers, top first
    path: str         # the layer's directory on the host
    layer_id: str     # runtime identity: Docker's diff id, "docker-init", "upper", or the directory name
    writable: bool


def parse_overlay_root(mountinfo: str) -> tuple[list[str], str | None] | None:
    """(lowerdirs top first, upperdir) of the overlay mounted at "/" in a mountinfo text."""
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or fields[4] != "/":
            continue
        fstype, _source, options = (right.split() + ["", "", ""])[:3]
        if fstype != "overlay":
            return None
        opts = dict(o.split("=", 1) for o in options.split(",") if "=" in o)
        lowers = [p for p in opts.get("lowerdir", "").split(":") if p]
        return lowers, opts.get("upperdir")
    return None


def docker_layer_ids(docker_root: str = "/var/lib/docker") -> dict[str, str]:
    """{overlay2 cache id: diff id} from Docker's layer database."""
    out = {}
    layerdb = Path(docker_root) / "image" / "overlay2" / "layerdb" / "sha256"
    try:
        entries = list(layerdb.iterdir())
    except OSError:
        return out
    for entry in entries:
        try:
            cache_id = (entry / "cache-id").read_text().strip()
            out[cache_id] = (entry / "diff").read_text().strip()
        except OSError:
            continue
    return out


def container_layers(pid: int, proc_root: str = "/proc", docker_root: str = "/var/lib/docker") -> list[Layer]:
    """The layers of the container that `pid` lives in; empty when its root is not overlayfs."""
    try:
        mountinfo = Path(proc_root, str(pid), "mountinfo").read_text()
    except OSError:
        return []
    parsed = parse_overlay_root(mountinfo)
    if parsed is None:
        return []
    lowers, upper = parsed
    ids = docker_layer_ids(docker_root)
    layers = []
    if upper:
        layers.append(Layer(0, upper, "upper", True))
    for i, lower in enumerate(lowers, start=1):
        real = os.path.realpath(lower)
        directory = os.path.basename(os.path.dirname(real)) if real.endswith("/diff") else os.path.basename(real)
        if directory.endswith("-init"):
            layer_id = "docker-init"
        else:
            layer_id = ids.get(directory, directory)
        layers.append(Layer(i, real, layer_id, False))
    return layers
