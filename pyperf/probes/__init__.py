"""Probes: one module per BPF program in bpf/, plus the two sources that read
/proc and cgroup files with the same interface. PROBES is the one list of what
`pyperf up` can run; a new probe is added here."""

from pyperf.containers.source import ContainersSource
from pyperf.probes.base import Probe, ProbeOptions
from pyperf.probes.disk import DiskProbe
from pyperf.probes.faults import FaultsProbe
from pyperf.probes.layers import LayersProbe
from pyperf.probes.profile import ProfileProbe
from pyperf.probes.response import ResponseProbe
from pyperf.probes.sched import SchedProbe
from pyperf.probes.tcp import TcpProbe
from pyperf.system.sampler import SystemSampler

PROBES: tuple[type[Probe], ...] = (
    DiskProbe, SchedProbe, FaultsProbe, TcpProbe, ResponseProbe, ProfileProbe, LayersProbe,
    ContainersSource, SystemSampler,
)
REGISTRY: dict[str, type[Probe]] = {probe.name: probe for probe in PROBES}

__all__ = ["PROBES", "REGISTRY", "Probe", "ProbeOptions"]
