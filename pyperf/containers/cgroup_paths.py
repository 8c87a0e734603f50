"""Container identity from cgroup paths, for the runtimes and cgroup drivers
seen in the wild. Pure functions over the text of /proc/<pid>/cgroup.

Examples of what is recognised (v1 cgroupfs driver and v2/systemd driver):
  /docker/<id>                                          docker
  /system.slice/docker-<id>.scope                       docker
  /kubepods/burstable/pod<uid>/<id>                     kubernetes (any CRI)
  /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
  /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>      podman
  /system.slice/crio-<id>.scope                         cri-o
  /containerd/<namespace>/<id>  (ctr, nerdctl)          containerd
  /lxc.payload.<name>, /lxc/<name>                      lxc
Anything else is not a container: a host service (/system.slice/nginx.service),
a user session, or the root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ID = r"(?P<id>[0-9a-f]{64})"
POD = r"pod(?P<pod>[0-9a-f_\-]{32,36})"

# (runtime, pattern) tried in order against the whole path; the first match wins.
PATTERNS = [
    ("kubernetes", re.compile(rf"/kubepods[^/]*(?:/[^/]+)*?/(?:kubepods-[a-z]+-)?{POD}(?:\.slice)?/"
                              rf"(?:(?:cri-containerd|crio|docker)-)?{ID}(?:\.scope)?$")),
    ("docker", re.compile(rf"/docker[-/]{ID}(?:\.scope)?$")),
    ("podman", re.compile(rf"/libpod-{ID}(?:\.scope)?(?:/container)?$")),
    ("cri-o", re.compile(rf"/crio-{ID}(?:\.scope)?$")),
    ("containerd", re.compile(rf"/(?:containerd|cri-containerd)[-/](?:[^/]+/)?{ID}(?:\.scope)?$")),
    ("lxc", re.compile(r"/lxc(?:\.payload)?[./](?P<id>[A-Za-z0-9_.\-]+)$")),
]


@dataclass(frozen=True)
class ContainerRef:
    runtime: str
    id: str
    pod_uid: str = ""


@dataclass(frozen=True)
class CgroupLine:
    hierarchy: int
    controllers: tuple[str, ...]
    path: str


def parse_proc_cgroup(text: str) -> list[CgroupLine]:
    """/proc/<pid>/cgroup lines "hierarchy:controllers:path" (v2: "0::path")."""
    lines = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        lines.append(CgroupLine(int(hierarchy), tuple(c for c in controllers.split(",") if c), path))
    return lines


def container_from_path(path: str) -> ContainerRef | None:
    for runtime, pattern in PATTERNS:
        m = pattern.search(path)
        if m:
            pod = m.groupdict().get("pod") or ""
            return ContainerRef(runtime, m.group("id"), pod.replace("_", "-"))
    return None


def container_from_cgroups(lines: list[CgroupLine]) -> tuple[ContainerRef | None, str]:
    """The container of a process and the cgroup path it was found in. The v2
    line wins on v2 and hybrid hosts; on v1 the first controller that names a
    container (name=systemd, pids, cpu, ... all agree for containers)."""
    ordered = sorted(lines, key=lambda line: line.hierarchy != 0)
    for line in ordered:
        ref = container_from_path(line.path)
        if ref is not None:
            return ref, line.path
    first = ordered[0].path if ordered else "/"
    return None, first
