"""Container metadata from the runtimes' own state files, read-only: names and
images without talking to a daemon that may be slow, down or absent.
Each reader takes its root folder as an argument."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ContainerMeta:
    name: str = ""
    image: str = ""
    image_id: str = ""
    created: str = ""
    started: str = ""
    pod_name: str = ""
    namespace: str = ""     # Kubernetes namespace


def docker_meta(container_id: str, docker_root: str = "/var/lib/docker") -> ContainerMeta | None:
    """From /var/lib/docker/containers/<id>/config.v2.json."""
    path = Path(docker_root) / "containers" / container_id / "config.v2.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    started = (doc.get("State") or {}).get("StartedAt", "")
    if not started or started.startswith("0001-"):
        # resolved as its first program starts, before Docker wrote the start time
        started = doc.get("Created", "")
    return ContainerMeta(
        name=(doc.get("Name") or "").lstrip("/"),
        image=(doc.get("Config") or {}).get("Image", ""),
        image_id=doc.get("Image", ""),
        created=doc.get("Created", ""),
        started=started,
    )


def podman_meta(container_id: str, storage_root: str = "/var/lib/containers/storage") -> ContainerMeta | None:
    """From containers/storage's overlay-containers/containers.json."""
    path = Path(storage_root) / "overlay-containers" / "containers.json"
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for entry in entries:
        if entry.get("id") == container_id:
            names = entry.get("names") or [""]
            return ContainerMeta(name=names[0], image_id=entry.get("image", ""),
                                 created=entry.get("created", ""))
    return None


# kubelet's log links: <pod>_<namespace>_<container>-<64 hex id>.log (names are DNS labels: no '_')
KUBELET_LOG = re.compile(r"^(?P<pod>[^_]+)_(?P<namespace>[^_]+)_(?P<container>.+)-(?P<id>[0-9a-f]{64})\.log$")


def kubernetes_meta(container_id: str, log_root: str = "/var/log/containers") -> ContainerMeta | None:
    """Pod, namespace and container names of a Kubernetes container from the links
    kubelet keeps in /var/log/containers (every CRI runtime gets them, and reading
    them needs no API server, token or CRI socket)."""
    try:
        names = [entry.name for entry in os.scandir(log_root) if entry.name.endswith(f"-{container_id}.log")]
    except OSError:
        return None
    for name in names:
        m = KUBELET_LOG.match(name)
        if m and m.group("id") == container_id:
            return ContainerMeta(name=m.group("container"), pod_name=m.group("pod"),
                                 namespace=m.group("namespace"))
    return None


READERS = {"docker": docker_meta, "podman": podman_meta, "kubernetes": kubernetes_meta}
