"""PROBES is the one list of what `pyperf up` can run; a new probe is added here.
Apart from the package's __init__, so that a source outside pyperf.probes (the
containers source, the system sampler) can import pyperf.probes.base without
importing itself back through this list."""

from pyperf.containers.source import ContainersSource
from pyperf.probes.base import Probe
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
