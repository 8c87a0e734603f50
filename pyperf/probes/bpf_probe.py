"""What every BPF-backed probe shares: BTF offsets as -D constants, compiling
and loading bpf/<name>.bpf.c, --dump-bpf, and cleaning up."""

from __future__ import annotations

import time
from typing import ClassVar

from pyperf.errors import ProbeError
from pyperf.kernel import host
from pyperf.kernel.btf import BTFError, offset_cflags
from pyperf.probes.base import Probe
from pyperf.probes.bpf_loader import bpf_path, compile_bpf, full_cflags, require_bpf_privileges

# task -> nsproxy -> mnt_ns -> ns.inum: the mount namespace, pyperf's container key
# (bpf/common.h mount_ns_of() reads it with these)
MOUNT_NS_OFFSETS = {
    "OFF_TASK_NSPROXY": ("task_struct", "nsproxy"),
    "OFF_NSPROXY_MNT_NS": ("nsproxy", "mnt_ns"),
    "OFF_MNT_NS_INUM": ("mnt_namespace", "ns.inum"),
}


class BPFProbe(Probe):
    # -D constant -> (struct, member path), read from the running kernel's BTF
    btf_offsets: ClassVar[dict[str, tuple[str, str]]] = {}
    needs = host.BPF_CAPABILITIES

    def __init__(self, options=None):
        super().__init__(options)
        self.bpf = None
        self._drainers: dict = {}
        self._last_drain = time.monotonic()
        self._missed_before = 0   # of programs loaded earlier (detached, or switched off and on)

    def extra_cflags(self) -> list[str]:
        """Probe-specific -D constants besides the BTF offsets."""
        return []

    def cflags(self) -> list[str]:
        try:
            flags = offset_cflags(self.btf_offsets) if self.btf_offsets else []
        except BTFError as e:
            raise ProbeError(f"probe {self.name}: {e}") from None
        return flags + self.extra_cflags()

    def bpf_source(self) -> tuple[str, list[str]]:
        return bpf_path(self.name).read_text(), full_cflags(self.cflags())

    def load(self) -> None:
        """Compile and load the program (its tracepoints attach with it)."""
        require_bpf_privileges(self.name)
        self.bpf = compile_bpf(self.name, self.cflags())
        self._drainers = {}
        self._last_drain = time.monotonic()

    def drainer(self, map_name: bytes):
        """A MapDrainer for one of this program's hash maps, its buffers kept between drains."""
        from pyperf.probes.map_drain import MapDrainer

        if map_name not in self._drainers:
            self._drainers[map_name] = MapDrainer(self.bpf[map_name])
        return self._drainers[map_name]

    def attach(self) -> None:
        self.load()

    def detach(self) -> None:
        if self.bpf is not None:
            self._missed_before = self.missed_runs()
            self.bpf.cleanup()
            self.bpf = None

    def prog_fds(self) -> list[int]:
        if self.bpf is None:
            return []
        return [fn.fd for fn in getattr(self.bpf, "funcs", {}).values()]

    def missed_runs(self) -> int:
        """Program runs the kernel skipped (one of our programs interrupted, on
        its CPU, by an event for the same program): events this probe never saw,
        so a count it reports may be short by up to this many."""
        from pyperf.kernel import bpf_stats

        live = sum(s.recursion_misses for s in bpf_stats.of_fds(self.prog_fds()).values())
        return self._missed_before + live

    def interval_s(self) -> float:
        """Seconds since the previous drain (or load); restarts the clock."""
        now = time.monotonic()
        elapsed, self._last_drain = max(now - self._last_drain, 1e-6), now
        return elapsed
