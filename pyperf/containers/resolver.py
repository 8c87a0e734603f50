"""Kernel keys (pid; mount-namespace inode and cgroup v2 id) to containers, cached.

The mount namespace is the dependable key on cgroup v1 hosts (the BPF helper
for cgroup ids only sees v2), but its inode number is reused once a namespace
dies, so under container churn the cgroup v2 id — which is never reused —
tells containers apart where the host has a v2 hierarchy (v2 and hybrid
hosts). A process with the key is found in /proc, its cgroup path names the
runtime and container id, and the runtime's state files give the name and
image. Hits are cached (least recently used dropped past MAX_CACHED); misses
are retried after `miss_ttl_s`."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from pyperf.containers.cgroup_paths import container_from_cgroups, parse_proc_cgroup
from pyperf.containers.runtimes import READERS
from pyperf.layers.overlay import container_layers

HOST = "host"
MAX_CACHED = 20_000   # keys remembered: memory stays flat under churn
# cgroups of the host itself: the root, systemd's service and session slices
HOST_CGROUP_PREFIXES = ("/system.slice", "/user.slice", "/init.scope")


def is_host_cgroup(path: str) -> bool:
    return path in ("", "/") or path.startswith(HOST_CGROUP_PREFIXES)


def cgroup2_mount(mounts_file: str = "/proc/self/mounts") -> str | None:
    try:
        for line in Path(mounts_file).read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and parts[2] == "cgroup2":
                return parts[1]
    except OSError:
        pass
    return None


@dataclass(frozen=True)
class Container:
    id: str            # the runtime's container id; "host"; or the cgroup path for plain cgroups
    name: str
    image: str
    runtime: str       # docker, podman, kubernetes, cri-o, containerd, lxc, cgroup or host
    pod_uid: str
    cgroup_path: str
    mnt_ns: int
    cgroup_id: int = 0
    started: str = ""              # the runtime's start time, as it reports it
    layers: tuple[str, ...] = ()   # image layer ids, top first (overlay-rooted containers)
    net_ns: int = 0                # network namespace inode: the key of TCP event rows
    pod_name: str = ""             # Kubernetes pod and namespace, where kubelet names them
    namespace: str = ""


class ContainerResolver:
    def __init__(self, proc_root: str = "/proc", runtime_roots: dict[str, str] | None = None,
                 miss_ttl_s: float = 10.0, mounts_file: str = "/proc/self/mounts"):
        self.proc = Path(proc_root)
        self.runtime_roots = runtime_roots or {}
        self.miss_ttl_s = miss_ttl_s
        self.v2_mount = cgroup2_mount(mounts_file)
        # pyperf runs in the host's mount namespace; pid 1 may not be readable from a sandbox
        self.host_mnt_ns = self._mnt_ns_of(os.getpid()) or self._mnt_ns_of(1) or 0
        self._by_key: OrderedDict[tuple[int, int], Container] = OrderedDict()
        self._latest: dict[int, Container] = {}      # mnt_ns -> the container seen last with it
        self._misses: dict[tuple[int, int], float] = {}
        self._lock = threading.Lock()   # the exec watcher's thread resolves too

    # -- kernel keys of a live process ------------------------------------------
    def _mnt_ns_of(self, pid: int | str) -> int | None:
        try:
            return os.stat(self.proc / str(pid) / "ns" / "mnt").st_ino
        except OSError:
            return None

    def _net_ns_of(self, pid: int) -> int:
        try:
            return os.stat(self.proc / str(pid) / "ns" / "net").st_ino
        except OSError:
            return 0

    def _cgroup_id(self, cgroups) -> int:
        """The v2 cgroup id is the inode of the cgroup's directory in the v2 hierarchy."""
        if not self.v2_mount:
            return 0
        for line in cgroups:
            if line.hierarchy == 0:
                try:
                    return os.stat(self.v2_mount + line.path).st_ino
                except OSError:
                    return 0
        return 0

    # -- lookups -------------------------------------------------------------
    def by_pid(self, pid: int) -> Container | None:
        """The container of a live process (None when it is gone)."""
        mnt_ns = self._mnt_ns_of(pid)
        if mnt_ns is None:
            return None
        try:
            cgroups = parse_proc_cgroup((self.proc / str(pid) / "cgroup").read_text())
        except OSError:
            return None
        key = (mnt_ns, self._cgroup_id(cgroups))
        cached = self._cached(key)
        if cached is not None:
            return cached
        container = self._identify(cgroups, mnt_ns, key[1], pid)
        # A process in its own mount namespace but still in a host cgroup is often a
        # container being set up (runc moves it into its cgroup a moment later): that
        # verdict is not cached, so the next look can see the container.
        if container.runtime != HOST or mnt_ns == self.host_mnt_ns:
            self._remember(key, container)
        return container

    def by_exec(self, pid: int, mnt_ns: int, cgroup_id: int, cgroups) -> Container | None:
        """The container of a program's first exec in (mnt_ns, cgroup_id): from /proc
        while the process lives; once it is gone (a container that ran for
        milliseconds, or a pid already reused), from the cgroup paths the kernel
        handed over with the exec."""
        found = self.by_pid(pid)
        if found is not None and (found.mnt_ns, found.cgroup_id) == (mnt_ns, cgroup_id):
            return found
        key = (mnt_ns, cgroup_id)
        cached = self._cached(key)
        if cached is not None:
            return cached
        # a live process under another key has reused the pid: its layers and network are not this container's
        container = self._identify(cgroups, mnt_ns, cgroup_id, pid if found is None else 0)
        if container.runtime == HOST:
            return None                  # nothing a path alone can tell apart from a container being set up
        self._remember(key, container)
        return container

    def by_key(self, mnt_ns: int, cgroup_id: int) -> Container | None:
        """The container of probe rows that carry both keys."""
        if not cgroup_id:
            return self.by_mnt_ns(mnt_ns)
        cached = self._cached((mnt_ns, cgroup_id))
        if cached is not None:
            return cached
        return self._search((mnt_ns, cgroup_id), lambda c: c.cgroup_id == cgroup_id)

    def by_mnt_ns(self, mnt_ns: int) -> Container | None:
        """The container last seen with this mount namespace (inodes are reused)."""
        with self._lock:
            latest = self._latest.get(mnt_ns)
        if latest is not None:
            return latest
        if mnt_ns == 0:
            return None
        return self._search((mnt_ns, 0), lambda c: True)

    def pid_in(self, mnt_ns: int) -> int | None:
        """A live process in that mount namespace."""
        for entry in os.scandir(self.proc):
            if entry.name.isdigit() and self._mnt_ns_of(entry.name) == mnt_ns:
                return int(entry.name)
        return None

    # -- internals -----------------------------------------------------------
    def _search(self, key: tuple[int, int], accept) -> Container | None:
        missed_at = self._misses.get(key)
        if missed_at is not None and time.monotonic() - missed_at < self.miss_ttl_s:
            return None
        for entry in os.scandir(self.proc):
            if entry.name.isdigit() and self._mnt_ns_of(entry.name) == key[0]:
                found = self.by_pid(int(entry.name))
                if found is not None and accept(found):
                    return found
        with self._lock:
            self._misses[key] = time.monotonic()
            if len(self._misses) > MAX_CACHED:
                self._misses.clear()
        return None

    def _cached(self, key: tuple[int, int]) -> Container | None:
        with self._lock:
            found = self._by_key.get(key)
            if found is not None:
                self._by_key.move_to_end(key)
            return found

    def _remember(self, key: tuple[int, int], container: Container) -> None:
        with self._lock:
            self._by_key[key] = container
            self._latest[key[0]] = container
            self._misses.pop(key, None)
            while len(self._by_key) > MAX_CACHED:
                old_key, old = self._by_key.popitem(last=False)
                if self._latest.get(old_key[0]) is old:
                    del self._latest[old_key[0]]

    def _identify(self, cgroups, mnt_ns: int, cgroup_id: int, pid: int) -> Container:
        ref, path = container_from_cgroups(cgroups)
        if ref is not None:
            reader = READERS.get(ref.runtime)
            meta = None
            if reader is not None:
                root = self.runtime_roots.get(ref.runtime)
                meta = reader(ref.id, root) if root else reader(ref.id)
            layers = tuple(layer.layer_id for layer in container_layers(pid, str(self.proc))
                           if not layer.writable)
            return Container(ref.id, (meta.name if meta else "") or ref.id[:12],
                             meta.image if meta else "", ref.runtime, ref.pod_uid, path, mnt_ns, cgroup_id,
                             meta.started if meta else "", layers, self._net_ns_of(pid),
                             meta.pod_name if meta else "", meta.namespace if meta else "")
        if mnt_ns == self.host_mnt_ns or is_host_cgroup(path):
            return Container(HOST, HOST, "", HOST, "", path, mnt_ns, cgroup_id, net_ns=self._net_ns_of(pid))
        # its own mount namespace in a cgroup no runtime claims: a hand-made container
        name = path.rstrip("/").rsplit("/", 1)[-1] or path
        return Container(path, name, "", "cgroup", "", path, mnt_ns, cgroup_id, net_ns=self._net_ns_of(pid))
