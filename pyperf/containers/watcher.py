"""Resolves containers the moment their first program starts (bpf/containers.bpf.c
announces new mount namespaces on exec), from a thread of its own, so that
short-lived containers are attributed even if they are gone by the next
interval. Shares the resolver (and its cache) with the enricher."""

from __future__ import annotations

import ctypes
import logging
import threading

from pyperf.containers.resolver import ContainerResolver
from pyperf.kernel.btf import offset_cflags
from pyperf.probes.bpf_loader import compile_bpf
from pyperf.probes.bpf_probe import MOUNT_NS_OFFSETS

log = logging.getLogger("pyperf.containers")


class NewNamespace(ctypes.Structure):
    """struct new_namespace in bpf/containers.h."""

    _fields_ = [("mnt_ns", ctypes.c_uint64), ("cgroup_id", ctypes.c_uint64), ("pid", ctypes.c_uint32),
                ("pad", ctypes.c_uint32)]


class NamespaceWatcher:
    def __init__(self, resolver: ContainerResolver):
        self.resolver = resolver
        self.bpf = None
        self.announced = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pyperf-containers", daemon=True)

    def start(self) -> None:
        """Raises ProbeError when the program cannot load (the caller carries on without)."""
        self.bpf = compile_bpf("containers", offset_cflags(MOUNT_NS_OFFSETS))
        self.bpf[b"new_namespaces"].open_ring_buffer(self._on_namespace)
        self._thread.start()

    def _on_namespace(self, _ctx, data, _size) -> None:
        event = NewNamespace.from_buffer_copy(ctypes.string_at(data, ctypes.sizeof(NewNamespace)))
        self.announced += 1
        try:
            self.resolver.by_pid(event.pid)
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
