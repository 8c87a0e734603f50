"""Page faults per process (minor and major, as the kernel classifies them) and
page-cache lookups against pages added, per process and host. Kernel side and
its reasoning: bpf/faults.bpf.c."""

from __future__ import annotations

import ctypes
import threading
import time

import numpy as np

from pyperf.probes.base import Batch
from pyperf.probes.bpf_loader import compile_bpf
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS, BPFProbe
from pyperf.probes.process_table import PROCESS_COLUMNS, ProcessTable
from pyperf.schema import COUNTER, GAUGE, STORED, Column, Table

SETTLE_OFFSETS = {      # bpf/faults_settle.h's, in whichever program settles
    "OFF_TASK_MIN_FLT": ("task_struct", "min_flt"),
    "OFF_TASK_MAJ_FLT": ("task_struct", "maj_flt"),
    "OFF_TASK_START_TIME": ("task_struct", "start_time"),
}
BTF_OFFSETS = {**SETTLE_OFFSETS, **TASK_KEY_OFFSETS}


class ProcessFaults(ctypes.Structure):
    """struct process_faults in bpf/faults.h."""

    _fields_ = [
        ("minor", ctypes.c_uint64),
        ("major", ctypes.c_uint64),
        ("cache_lookups", ctypes.c_uint64),
        ("cache_added", ctypes.c_uint64),
        ("mnt_ns", ctypes.c_uint64),
        ("cgroup_id", ctypes.c_uint64),
        ("comm", ctypes.c_char * 16),
    ]


TABLES = (
    Table("faults_process",
          "Per interval and process with faults or page-cache activity.",
          order_by=("host", "pid", "ts"), rollup=STORED, columns=(
        *PROCESS_COLUMNS,
        Column("minor_faults", "UInt64", COUNTER, "count",
               "faults served without I/O (the kernel's min_flt)", codec="T64, ZSTD(1)"),
        Column("major_faults", "UInt64", COUNTER, "count",
               "faults that waited for I/O (maj_flt)", codec="T64, ZSTD(1)"),
        Column("cache_lookups", "UInt64", COUNTER, "pages",
               "page-cache pages looked up (read(), mmap faults, fault-around)", codec="T64, ZSTD(1)"),
        Column("cache_added", "UInt64", COUNTER, "pages",
               "pages added to the page cache in this process's context (misses, readahead and writes to new "
               "ranges)", codec="T64, ZSTD(1)"),
        Column("cache_hit_ratio", "Float32", GAUGE, "ratio",
               "1 - added / looked up, clamped to [0, 1]; NaN without lookups; an estimate (see "
               "docs/monitoring.md)", codec="Gorilla(4), ZSTD(1)", rollup=False),
      )),
)


_shared_maps = None
_shared_lock = threading.Lock()


def shared_maps():
    """Make the faults maps once in the agent's life (bpf/faults_maps.bpf.c): the
    faults probe's programs and the sched probe's, when it settles the counters,
    find them by name however often either is loaded again."""
    global _shared_maps
    with _shared_lock:
        if _shared_maps is None:
            _shared_maps = compile_bpf("faults_maps", [])
        return _shared_maps


def _attach_time() -> list[str]:
    # tasks started after the settling program was compiled count from zero (bpf/faults_settle.h)
    return [f"-DATTACH_MONO_NS={time.monotonic_ns()}ULL"]


def hit_ratios(lookups: np.ndarray, added: np.ndarray) -> np.ndarray:
    """1 - added / looked up, clamped to [0, 1], per element; NaN without lookups."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(1.0 - added / lookups, 0.0, 1.0)
    return np.where(lookups > 0, ratio, np.nan)


def hit_ratio(lookups: int, added: int) -> float:
    return float(hit_ratios(np.array([lookups]), np.array([added]))[0])


class FaultsProbe(BPFProbe):
    name = "faults"
    description = "minor and major page faults and page-cache hit ratio per process"
    schema = TABLES
    process_tables = ("faults_process",)
    btf_offsets = BTF_OFFSETS
    # with the sched probe, its switch program settles the fault counters: one
    # program per context switch instead of two (docs/performance.md)
    rides_on = "sched"
    parts = ("faults_settle",)
    rider_part = "faults_settle"

    def __init__(self, options=None):
        super().__init__(options)
        self.processes: ProcessTable | None = None
        self.riding = False
        self._totals = {"minor": 0, "major": 0, "cache_lookups": 0, "cache_added": 0, "lost": 0}

    def chosen_path(self) -> str:
        settled = ("the sched probe's sched_switch program and sched_process_exit" if self.riding
                   else "raw tracepoints sched_switch, sched_process_exit")
        return f"{settled} (the kernel's min_flt/maj_flt); filemap tracepoints"

    def extra_cflags(self) -> list[str]:
        return ["-DSETTLED_BY_SCHED"] if self.riding else _attach_time()

    def rider_cflags(self) -> list[str]:
        return ["-DSETTLE_FAULTS", *self.offset_cflags(SETTLE_OFFSETS), *_attach_time()]

    def before_host_loads(self) -> None:
        shared_maps()          # the host's programs find them by name

    def attach(self) -> None:
        shared_maps()
        self.riding = self.host is not None and self.host.hosts(self)
        self.load()
        self.processes = ProcessTable(self.bpf[b"fault_processes"], ProcessFaults)
        self.processes.baseline()

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        interval_ms = self.process_interval_ms()
        if interval_ms is None:
            return {}
        moved = self.processes.deltas()
        self._totals["lost"] = self.bpf[b"fault_lost"][0].value
        if not len(moved):
            return {}
        d = moved.diff
        rows = moved.columns(now, interval_ms)
        rows["minor_faults"] = d["minor"]
        rows["major_faults"] = d["major"]
        rows["cache_lookups"] = d["cache_lookups"]
        rows["cache_added"] = d["cache_added"]
        rows["cache_hit_ratio"] = hit_ratios(d["cache_lookups"], d["cache_added"])
        for key in ("minor", "major", "cache_lookups", "cache_added"):
            self._totals[key] += int(d[key].sum())
        return {"faults_process": rows}

    def totals(self) -> dict[str, int]:
        return dict(self._totals)

    def live(self) -> dict:
        t = self._totals
        return {"totals": dict(t), "cache_hit_ratio": hit_ratio(t["cache_lookups"], t["cache_added"])}
