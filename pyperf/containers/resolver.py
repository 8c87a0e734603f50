"""Kernel keys (pid, mount-namespace inode) to containers, cached.

The mount namespace is the dependable key on cgroup v1 hosts (the BPF helper
for cgroup ids only sees v2); every probe row that carries `mnt_ns` is
resolved here: a process in that namespace is found in /proc, its cgroup path
names the runtime and container id, and the runtime's state files give the
name and image. Hits and misses are cached; a miss is retried after
`miss_ttl_s`, since a container's first process may not be visible yet."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from pyperf.containers.cgroup_paths import container_from_cgroups, parse_proc_cgroup
from pyperf.containers.runtimes import READERS

HOST = "host"
# cgroups of the host itself: the root, systemd's service and session slices
HOST_CGROUP_PREFIXES = ("/system.slice", "/user.slice", "/init.scope")


def is_host_cgroup(path: str) -> bool:
    return path in ("", "/") or path.startswith(HOST_CGROUP_PREFIXES)


@dataclass(frozen=True)
class Container:
    id: str            # the runtime's container id; "host"; or the cgroup path for plain cgroups
    name: str
    image: str
    runtime: str       # docker, podman, kubernetes, cri-o, containerd, lxc, cgroup or host
    pod_uid: str
    cgroup_path: str
    mnt_ns: int


class ContainerResolver:
    def __init__(self, proc_root: str = "/proc", runtime_roots: dict[str, str] | None = None,
                 miss_ttl_s: float = 10.0):
        self.proc = Path(proc_root)
        self.runtime_roots = runtime_roots or {}
        self.miss_ttl_s = miss_ttl_s
        # pyperf runs in the host's mount namespace; pid 1 may not be readable from a sandbox
        self.host_mnt_ns = self._mnt_ns_of(os.getpid()) or self._mnt_ns_of(1) or 0
        self._by_mnt_ns: dict[int, Container] = {}
        self._misses: dict[int, float] = {}

    def _mnt_ns_of(self, pid: int | str) -> int | None:
        try:
            return os.stat(self.proc / str(pid) / "ns" / "mnt").st_ino
        except OSError:
            return None

    def by_pid(self, pid: int) -> Container | None:
        """The container of a live process (None when it is gone)."""
        mnt_ns = self._mnt_ns_of(pid)
        if mnt_ns is None:
            return None
        cached = self._by_mnt_ns.get(mnt_ns)
        if cached is not None:
            return cached
        try:
            cgroups = parse_proc_cgroup((self.proc / str(pid) / "cgroup").read_text())
        except OSError:
            return None
        container = self._identify(cgroups, mnt_ns)
        # A process in its own mount namespace but still in a host cgroup is often a
        # container being set up (runc moves it into its cgroup a moment later): that
        # verdict is not cached, so the next look can see the container.
        if container.runtime != HOST or mnt_ns == self.host_mnt_ns:
            self._by_mnt_ns[mnt_ns] = container
        return container

    def by_mnt_ns(self, mnt_ns: int) -> Container | None:
        cached = self._by_mnt_ns.get(mnt_ns)
        if cached is not None:
            return cached
        if mnt_ns == 0:
            return None
        missed_at = self._misses.get(mnt_ns)
        if missed_at is not None and time.monotonic() - missed_at < self.miss_ttl_s:
            return None
        for entry in os.scandir(self.proc):
            if entry.name.isdigit() and self._mnt_ns_of(entry.name) == mnt_ns:
                found = self.by_pid(int(entry.name))
                if found is not None:
                    self._misses.pop(mnt_ns, None)
                    return found
        self._misses[mnt_ns] = time.monotonic()
        return None

    def pid_in(self, mnt_ns: int) -> int | None:
        """A live process in that mount namespace."""
        for entry in os.scandir(self.proc):
            if entry.name.isdigit() and self._mnt_ns_of(entry.name) == mnt_ns:
                return int(entry.name)
        return None

    def _identify(self, cgroups, mnt_ns: int) -> Container:
        ref, path = container_from_cgroups(cgroups)
        if ref is not None:
            reader = READERS.get(ref.runtime)
            meta = None
            if reader is not None:
                root = self.runtime_roots.get(ref.runtime)
                meta = reader(ref.id, root) if root else reader(ref.id)
            return Container(ref.id, (meta.name if meta else "") or ref.id[:12],
                             meta.image if meta else "", ref.runtime, ref.pod_uid, path, mnt_ns)
        if mnt_ns == self.host_mnt_ns or is_host_cgroup(path):
            return Container(HOST, HOST, "", HOST, "", path, mnt_ns)
        # its own mount namespace in a cgroup no runtime claims: a hand-made container
        name = path.rstrip("/").rsplit("/", 1)[-1] or path
        return Container(path, name, "", "cgroup", "", path, mnt_ns)
