"""Probes: one module per BPF program in bpf/. Importing this package registers them."""

from pyperf.probes import disk, faults, layers, profile, response, sched, tcp  # noqa: F401
from pyperf.containers import source  # noqa: F401  (the "containers" source has the probe interface)
from pyperf.system import sampler  # noqa: F401  (the "system" source has the probe interface)
from pyperf.probes.base import REGISTRY, Probe, ProbeOptions, register

__all__ = ["REGISTRY", "Probe", "ProbeOptions", "register"]
