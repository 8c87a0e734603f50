"""What every BPF-backed probe shares: BTF offsets as -D constants, compiling
and loading bpf/<name>.bpf.c, --dump-bpf, and cleaning up."""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from pyperf.errors import ProbeError
from pyperf.kernel import host
from pyperf.kernel.btf import BTFError, offset_cflags
from pyperf.probes.base import Probe
from pyperf.probes.bpf_loader import bpf_text, compile_bpf, full_cflags, require_bpf_privileges

log = logging.getLogger("pyperf.probes")

# The current task's container key, read by bpf/common.h with these: task -> nsproxy ->
# mnt_ns -> ns.inum, the mount namespace (mount_ns_of()), and task -> cgroups -> dfl_cgrp
# -> kn -> id, the cgroup v2 id (cgroup_id_of(): what bpf_get_current_cgroup_id()
# returns, as four loads where the helper call costs ~24 ns on these VMs)
TASK_KEY_OFFSETS = {
    "OFF_TASK_NSPROXY": ("task_struct", "nsproxy"),
    "OFF_NSPROXY_MNT_NS": ("nsproxy", "mnt_ns"),
    "OFF_MNT_NS_INUM": ("mnt_namespace", "ns.inum"),
    "OFF_TASK_CGROUPS": ("task_struct", "cgroups"),
    "OFF_CSS_SET_DFL_CGRP": ("css_set", "dfl_cgrp"),
    "OFF_CGROUP_KN": ("cgroup", "kn"),
    "OFF_KN_ID": ("kernfs_node", "id"),
}


class BPFProbe(Probe):
    # -D constant -> (struct, member path), read from the running kernel's BTF
    btf_offsets: ClassVar[dict[str, tuple[str, str]]] = {}
    # bpf/<part>.part.c joined before bpf/<name>.bpf.c (bpf_loader.bpf_text)
    parts: ClassVar[tuple[str, ...]] = ()
    needs = host.BPF_CAPABILITIES

    def __init__(self, options=None):
        super().__init__(options)
        self.bpf = None
        self._drainers: dict = {}
        self._last_drain = self._process_drain = time.monotonic()
        self._process_skipped = 0
        self._missed_before = 0   # of programs loaded earlier (detached, or switched off and on)
        self.hosting: tuple[str, ...] = ()     # the riders compiled into the programs loaded

    def extra_cflags(self) -> list[str]:
        """Probe-specific -D constants besides the BTF offsets."""
        return []

    def offset_cflags(self, offsets: dict[str, tuple[str, str]]) -> list[str]:
        """-D constants of struct member offsets from the running kernel's BTF."""
        try:
            return offset_cflags(offsets) if offsets else []
        except BTFError as e:
            raise ProbeError(f"probe {self.name}: {e}") from None

    def cflags(self) -> list[str]:
        return self.offset_cflags(self.btf_offsets) + self.extra_cflags() + self._riders_cflags()

    def _riders_cflags(self) -> list[str]:
        flags, hosting = [], []
        for rider in self.riders:
            try:
                flags += rider.rider_cflags()
                hosting.append(rider.name)
            except ProbeError as e:        # the rider will run alone, or not at all
                log.warning("%s: runs apart from probe %s", e, self.name)
        self.hosting = tuple(hosting)
        return flags

    def hosts(self, rider) -> bool:
        """Whether this probe's loaded programs do `rider`'s share of the work."""
        return self.bpf is not None and rider.name in self.hosting

    def bpf_parts(self) -> tuple[str, ...]:
        """Its own parts, and those of the riders its programs host (after cflags())."""
        hosted = tuple(r.rider_part for r in self.riders if r.name in self.hosting and r.rider_part)
        return self.parts + tuple(p for p in hosted if p not in self.parts)

    def bpf_source(self) -> tuple[str, list[str]]:
        cflags = full_cflags(self.cflags())
        return bpf_text(self.name, self.bpf_parts()), cflags

    def load(self) -> None:
        """Compile and load the program (its tracepoints attach with it)."""
        require_bpf_privileges(self.name)
        cflags = self.cflags()
        for rider in self.riders:
            if rider.name in self.hosting:
                rider.before_host_loads()
        self.bpf = compile_bpf(self.name, cflags, self.bpf_parts())
        self._drainers = {}
        self._last_drain = self._process_drain = time.monotonic()
        self._process_skipped = 0

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
            self.hosting = ()

    def prog_fds(self) -> list[int]:
        if self.bpf is None:
            return []
        return [fn.fd for fn in getattr(self.bpf, "funcs", {}).values()]

    def missed_runs(self) -> int:
        """Program runs the kernel skipped: a raw tracepoint's program when it
        interrupted itself on its CPU; a formatted tracepoint's or perf event's
        whenever any such program was already running there (why tcp and
        response are on raw tracepoints). Events this probe never saw, so a
        count it reports may be short by up to this many."""
        from pyperf.kernel import bpf_stats

        live = sum(s.recursion_misses for s in bpf_stats.of_fds(self.prog_fds()).values())
        return self._missed_before + live

    def interval_s(self) -> float:
        """Seconds since the previous drain (or load); restarts the clock."""
        now = time.monotonic()
        elapsed, self._last_drain = max(now - self._last_drain, 1e-6), now
        return elapsed

    def process_rows_pending(self) -> bool:
        return self._process_skipped > 0

    def take_process_rows(self) -> None:
        self._process_skipped = max(self._process_skipped, self.process_every - 1)

    def process_interval_ms(self) -> int | None:
        """For this drain's per-process rows (process_tables): the milliseconds they
        cover since the last drain that took them, or None when they are not due
        (every `process_every` drains). Their maps go on counting meanwhile."""
        if self._process_skipped + 1 < self.process_every:
            self._process_skipped += 1
            return None
        self._process_skipped = 0
        now = time.monotonic()
        elapsed, self._process_drain = max(now - self._process_drain, 1e-6), now
        return round(elapsed * 1000)
