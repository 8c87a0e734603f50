"""The probe interface every probe module implements (the list of probes is
pyperf/probes/registry.py).

A probe owns one BPF program (bpf/<name>.bpf.c). `attach()` compiles and
attaches it, `drain()` is called once per interval and returns rows per table
as columns, `detach()` releases everything. Probes never import each other.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from pyperf.schema import Table

Columns = dict[str, list]          # column name -> values, all the same length
Batch = dict[str, Columns]         # table name -> columns


@dataclass
class ProbeOptions:
    interval_s: float = 1.0
    slow_io_ms: float = 10.0
    # Probe-specific switches (e.g. {"disk.hooks": "legacy"}), for tests and doctor.
    extra: dict[str, str] = field(default_factory=dict)


class Probe(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    # the tables it fills, each column declared once (pyperf.schema): the schema, the
    # rollups and docs/schema.md are generated from it
    schema: ClassVar[tuple[Table, ...]]
    tables: ClassVar[tuple[str, ...]]           # their names, from schema
    # What the overhead governor may do to this probe (pyperf/pipeline/governor.py):
    optional: ClassVar[bool] = True                  # switched off when it costs the most
    event_tables: ClassVar[tuple[str, ...]] = ()     # one row per event: thinned to 1 in N
    rate_steps: ClassVar[tuple[int, ...]] = ()       # lower sampling rates, each a step (rate, set_rate)
    rate_unit: ClassVar[str] = ""
    rate: int = 0
    # tables with a row per process (or per process and stack) per drain: on a busy
    # host they are what the drains and the store spend most on, so the governor
    # has them drained every `process_every` drains (rows then cover those
    # intervals); the host's, CPUs' and containers' rows stay at every interval
    process_tables: ClassVar[tuple[str, ...]] = ()
    process_every: int = 1
    # capabilities it cannot run without, and those without which it sees less
    # (other users' processes: names, symbols, namespaces)
    needs: ClassVar[tuple[str, ...]] = ()
    degrades_without: ClassVar[tuple[str, ...]] = ()
    # A probe whose kernel work can run inside another probe's program when both
    # run (faults settles its counters in sched's sched_switch program): that
    # probe's name. The collector links them (host, riders) and moves the rider
    # when its host is switched off or on.
    rides_on: ClassVar[str | None] = None
    rider_part: ClassVar[str | None] = None     # bpf/<part>.part.c its host's source is joined with

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "schema" in vars(cls):
            cls.tables = tuple(t.name for t in cls.schema)

    def process_rows_pending(self) -> bool:
        """Whether drains since the last per-process rows left them in the kernel."""
        return False

    def take_process_rows(self) -> None:
        """Make the next drain take the per-process rows, due or not (the last one)."""

    def set_rate(self, rate: int) -> None:
        """Sample at `rate` (one of rate_steps, or the rate it had)."""
        raise NotImplementedError(f"probe {self.name} has no sampling rate")

    def __init__(self, options: ProbeOptions | None = None):
        self.options = options or ProbeOptions()
        self.host: Probe | None = None          # the probe this one rides on (rides_on), linked
        self.riders: list[Probe] = []           # the probes that ride on this one

    def rider_cflags(self) -> list[str]:
        """What this probe, as a rider, adds to its host's compile."""
        return []

    def before_host_loads(self) -> None:
        """What this probe, as a rider, needs in the kernel before its host's programs load."""

    @abstractmethod
    def attach(self) -> None:
        """Compile and attach; raise ProbeError with a fix-it hint on failure."""

    @abstractmethod
    def drain(self, now: float) -> Batch:
        """Rows for the interval that ends at `now` (epoch seconds)."""

    @abstractmethod
    def detach(self) -> None: ...

    @abstractmethod
    def totals(self) -> dict[str, int]:
        """Host-wide counters since attach, for `pyperf record --json`."""

    def missed_runs(self) -> int | None:
        """Kernel program runs skipped since attach; None for probes without BPF programs."""
        return None

    def prog_fds(self) -> list[int]:
        """The fds of this probe's loaded BPF programs."""
        return []

    def all_totals(self) -> dict[str, int]:
        """totals() plus, for BPF probes, `missed_runs`: what the status, the
        record summary and the stored counters report."""
        out = dict(self.totals())
        missed = self.missed_runs()
        if missed is not None:
            out["missed_runs"] = missed
        return out

    @abstractmethod
    def bpf_source(self) -> tuple[str, list[str]]:
        """(C source, cflags) as compiled, for --dump-bpf."""

    def finish(self) -> Batch:
        """Rows of work a probe does in the background (e.g. indexing), waited for
        when collection stops; called once before detach()."""
        return {}

    def chosen_path(self) -> str:
        """Which kernel hooks were chosen on this host, for `pyperf doctor`."""
        return ""

    def live(self) -> dict:
        """Latest per-interval view for /metrics and the live API."""
        return {}


def link_riders(probes) -> None:
    """Each probe that rides on another of `probes` (rides_on) linked to it: the
    host compiles the rider's share of the work into its programs."""
    by_name = {p.name: p for p in probes}
    for probe in probes:
        host = by_name.get(probe.rides_on) if probe.rides_on else None
        if host is not None and probe not in host.riders:
            probe.host = host
            host.riders.append(probe)


def monotonic_to_epoch_offset() -> float:
    """epoch - monotonic, to turn bpf_ktime_get_ns() stamps into wall time."""
    return time.time() - time.monotonic()
