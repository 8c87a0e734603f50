"""Resolves containers the moment their first program starts (bpf/containers.bpf.c
announces new mount namespaces on exec), from a thread of its own, so that
short-lived containers are attributed even if they are gone by the next
interval. Shares the resolver (and its cache) with the enricher."""

from __future__ import annotations

import ctypes
import logging
import threading

from pyperf import threads
from pyperf.containers.cgroup_paths import CgroupLine
from pyperf.containers.resolver import ContainerResolver
from pyperf.kernel.btf import BTFError, kernel_offset, offset_cflags
from pyperf.probes.bpf_loader import compile_bpf
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS

log = logging.getLogger("pyperf.containers")


CGROUP_DEPTH, CGROUP_NAME_LEN = 8, 128   # bpf/containers.h

CGROUP_OFFSETS = {
    "OFF_TASK_CGROUPS": ("task_struct", "cgroups"),
    "OFF_CSS_SET_DFL_CGRP": ("css_set", "dfl_cgrp"),
    "OFF_CSS_SET_SUBSYS": ("css_set", "subsys"),
    "OFF_CSS_CGROUP": ("cgroup_subsys_state", "cgroup"),
    "OFF_CGROUP_KN": ("cgroup", "kn"),
    "OFF_KN_NAME": ("kernfs_node", "name"),
}

_Path = ctypes.c_uint8 * (CGROUP_DEPTH * CGROUP_NAME_LEN)   # bytes, NULs included


class NewNamespace(ctypes.Structure):
    """struct new_namespace in bpf/containers.h."""

    _fields_ = [("mnt_ns", ctypes.c_uint64), ("cgroup_id", ctypes.c_uint64), ("pid", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("v2_path", _Path), ("memory_path", _Path)]

    def cgroups(self) -> list[CgroupLine]:
        """The paths as /proc/<pid>/cgroup would give them (v2 first)."""
        return [CgroupLine(0, (), _joined(self.v2_path)), CgroupLine(1, ("memory",), _joined(self.memory_path))]


def _joined(levels) -> str:
    raw, names = bytes(levels), []
    for i in range(CGROUP_DEPTH):
        name = raw[i * CGROUP_NAME_LEN:(i + 1) * CGROUP_NAME_LEN].split(b"\0", 1)[0]
        if not name:
            break
        names.append(name.decode("utf-8", "replace"))
    return "/" + "/".join(reversed(names))


def memory_subsys(cgroups_file: str = "/proc/cgroups") -> int:
    """The memory controller's index in the kernel's css_set.subsys array: /proc/cgroups
    lists the controllers in that order; -1 without one."""
    try:
        lines = [line.split() for line in open(cgroups_file) if not line.startswith("#")]
    except OSError:
        return -1
    names = [fields[0] for fields in lines if fields]
    return names.index("memory") if "memory" in names else -1


def cgroup_cflags() -> list[str]:
    """TASK_KEY_OFFSETS and what the cgroup paths are read with (the two share some)."""
    flags = offset_cflags({**TASK_KEY_OFFSETS, **CGROUP_OFFSETS})
    try:
        parent = kernel_offset("kernfs_node", "__parent")     # renamed in 6.15
    except BTFError:
        parent = kernel_offset("kernfs_node", "parent")
    return [*flags, f"-DOFF_KN_PARENT={parent}", f"-DMEMORY_SUBSYS={memory_subsys()}"]


class NamespaceWatcher:
    def __init__(self, resolver: ContainerResolver):
        self.resolver = resolver
        self.bpf = None
        self.announced = 0
        self._stop = threading.Event()
        self._thread = threads.Named(target=self._run, name="pyperf-containers", daemon=True)

    def start(self) -> None:
        """Raises ProbeError when the program cannot load (the caller carries on without)."""
        self.bpf = compile_bpf("containers", cgroup_cflags())
        self.bpf[b"new_namespaces"].open_ring_buffer(self._on_namespace)
        self._thread.start()

    def _on_namespace(self, _ctx, data, _size) -> None:
        event = NewNamespace.from_buffer_copy(ctypes.string_at(data, ctypes.sizeof(NewNamespace)))
        self.announced += 1
        try:
            self.resolver.by_exec(event.pid, event.mnt_ns, event.cgroup_id, event.cgroups())
        except Exception as e:  # a vanished process is normal; anything else is logged
            log.debug("cannot resolve pid %d: %s", event.pid, e)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.bpf.ring_buffer_poll(1000)   # events wake it at once; the timeout only bounds stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(3)
        if self.bpf is not None:
            self.bpf.cleanup()
            self.bpf = None
