"""Scheduler: per process and per CPU, context switches (voluntary and
involuntary), on-CPU time, run-queue latency and off-CPU (blocked) time, with
log2 histograms. Kernel side and its reasoning: bpf/sched.bpf.c.

Kernel maps are cumulative; this module turns them into per-interval rows and
forgets processes that have exited once their last counts are stored."""

from __future__ import annotations

import ctypes
from collections import defaultdict

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, quantile_us
from pyperf.probes.base import Batch
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS, BPFProbe
from pyperf.probes.process_table import PROCESS_COLUMNS, ProcessTable, sum_percpu
from pyperf.probes.stacks import StackSymbolizer, fold
from pyperf.schema import (AGENT_HOST, COUNTER, HISTOGRAM, INTERVAL_END, INTERVAL_MS, KEY, STORED, Column, Table,
                           log2_histogram)

BTF_OFFSETS = {
    "OFF_TASK_SUM_EXEC": ("task_struct", "se.sum_exec_runtime"),
    "OFF_TASK_PREV_SUM_EXEC": ("task_struct", "se.prev_sum_exec_runtime"),
    "OFF_TASK_RUN_DELAY": ("task_struct", "sched_info.run_delay"),
    "OFF_TASK_PCOUNT": ("task_struct", "sched_info.pcount"),
    "OFF_TASK_LAST_ARRIVAL": ("task_struct", "sched_info.last_arrival"),
    **TASK_KEY_OFFSETS,
}

STACK_ENTRIES = 16384
COUNTERS = ("voluntary", "involuntary", "oncpu_ns", "runq_ns", "runq_waits", "offcpu_ns", "offcpu_count")


class ProcessSched(ctypes.Structure):
    """struct sched_process in bpf/sched.h."""

    _fields_ = [(name, ctypes.c_uint64) for name in COUNTERS] + [
        ("mnt_ns", ctypes.c_uint64),
        ("cgroup_id", ctypes.c_uint64),
        ("comm", ctypes.c_char * 16),
        ("runq_hist", ctypes.c_uint32 * HIST_SLOTS),
        ("offcpu_hist", ctypes.c_uint32 * HIST_SLOTS),
    ]


class OffcpuKey(ctypes.Structure):
    """struct offcpu_key in bpf/sched.h."""

    _fields_ = [("tgid", ctypes.c_uint32), ("user_stack_id", ctypes.c_int32),
                ("kernel_stack_id", ctypes.c_int32), ("pad", ctypes.c_uint32),
                ("mnt_ns", ctypes.c_uint64), ("comm", ctypes.c_char * 16)]


class CpuSched(ctypes.Structure):
    """struct sched_cpu in bpf/sched.h."""

    _fields_ = [
        ("switches", ctypes.c_uint64),
        ("runq_ns", ctypes.c_uint64),
        ("runq_waits", ctypes.c_uint64),
        ("runq_hist", ctypes.c_uint64 * HIST_SLOTS),
    ]


TABLES = (
    Table("sched_process",
          "Per interval and process (thread group) that was switched out at least once.",
          order_by=("host", "pid", "ts"), rollup=STORED, columns=(
        *PROCESS_COLUMNS,
        Column("voluntary_switches", "UInt64", COUNTER, "count",
               "switches while blocking (the kernel's nvcsw)", codec="T64, ZSTD(1)"),
        Column("involuntary_switches", "UInt64", COUNTER, "count",
               "switches while runnable: preemptions (nivcsw)", codec="T64, ZSTD(1)"),
        Column("oncpu_us", "UInt64", COUNTER, "µs",
               "CPU time (se.sum_exec_runtime), counted at switch-out", codec="T64, ZSTD(1)"),
        Column("runq_latency_sum_us", "UInt64", COUNTER, "µs",
               "time runnable but waiting for a CPU (sched_info.run_delay)", codec="T64, ZSTD(1)"),
        Column("runq_waits", "UInt64", COUNTER, "count",
               "waits on a run queue (arrivals on a CPU)", codec="T64, ZSTD(1)"),
        log2_histogram("runq_latency_hist", "run-queue latency histogram, slot i = [2^i, 2^(i+1)) µs"),
        Column("offcpu_sum_us", "UInt64", COUNTER, "µs",
               "time blocked (sleeping, waiting for I/O or locks), run-queue wait excluded", codec="T64, ZSTD(1)"),
        Column("offcpu_count", "UInt64", COUNTER, "count",
               "blocked periods that ended in the interval", codec="T64, ZSTD(1)"),
        log2_histogram("offcpu_hist", "off-CPU (blocked) time histogram"),
      )),
    Table("sched_cpu",
          "Per interval and CPU.",
          order_by=("host", "cpu", "ts"), metrics=True, rollup=STORED, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("cpu", "UInt16", KEY, "", "CPU number"),
        Column("context_switches", "UInt64", COUNTER, "count",
               "context switches on this CPU (idle task included)", codec="T64, ZSTD(1)"),
        Column("runq_latency_sum_us", "UInt64", COUNTER, "µs",
               "run-queue wait of the tasks that ran on this CPU", codec="T64, ZSTD(1)"),
        Column("runq_waits", "UInt64", COUNTER, "count", "run-queue waits", codec="T64, ZSTD(1)"),
        log2_histogram("runq_latency_hist", "run-queue latency histogram"),
      )),
    Table("offcpu_stack",
          "With --offcpu-stacks: per interval, process and stack where it blocked, the time blocked (periods of "
          "at least --offcpu-min-ms). Off-CPU flame graphs: pyperf export --kind offcpu.",
          order_by=("host", "pid", "ts"), columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("pid", "UInt32", KEY, "", "process id (thread group id)"),
        Column("comm", "LowCardinality(String)", KEY, "", "command name"),
        Column("mnt_ns", "UInt64", COUNTER, "", "mount namespace inode: the container key", codec="T64, ZSTD(1)"),
        Column("stack", "Array(LowCardinality(String))", HISTOGRAM, "",
               "rows stored before schema 22 only: the frames as an array (now `folded`)", codec="ZSTD(3)"),
        Column("folded", "LowCardinality(String)", KEY, "",
               "frames from the root to where it blocked (kernel frames suffixed _[k]), joined with ';'", codec="ZSTD(1)", default="DEFAULT arrayStringConcat(stack, ';')"),
        Column("blocked_us", "UInt64", COUNTER, "µs",
               "time blocked with this stack, run-queue wait excluded", codec="T64, ZSTD(1)"),
        Column("count", "UInt32", COUNTER, "count", "blocked periods with this stack", codec="T64, ZSTD(1)"),
      )),
)


class SchedProbe(BPFProbe):
    name = "sched"
    optional = False
    description = "context switches, on-CPU time, run-queue latency and off-CPU time"
    schema = TABLES
    btf_offsets = BTF_OFFSETS

    def __init__(self, options=None):
        super().__init__(options)
        self.processes: ProcessTable | None = None
        self.symbolizer: StackSymbolizer | None = None
        self._prev_cpu: dict[int, dict] = {}
        self._totals = {"context_switches": 0, "voluntary": 0, "involuntary": 0, "lost": 0}
        self._live: dict = {}

    @property
    def offcpu_stacks(self) -> bool:
        return self.options.extra.get("sched.offcpu_stacks") == "1"

    @property
    def process_tables(self) -> tuple[str, ...]:
        return ("sched_process", "offcpu_stack") if self.offcpu_stacks else ("sched_process",)

    def extra_cflags(self) -> list[str]:
        if not self.offcpu_stacks:
            return []
        min_ms = float(self.options.extra.get("sched.offcpu_min_ms", "1"))
        return ["-DOFFCPU_STACKS", f"-DOFFCPU_MIN_NS={int(min_ms * 1e6)}ULL",
                f"-DSTACK_ENTRIES={STACK_ENTRIES}"]

    def chosen_path(self) -> str:
        stacks = ", off-CPU stacks" if self.offcpu_stacks else ""
        return f"raw tracepoint sched_switch with task-local storage{stacks}"

    def attach(self) -> None:
        self.load()
        self.processes = ProcessTable(self.bpf[b"sched_processes"], ProcessSched)
        if self.offcpu_stacks:
            self.symbolizer = StackSymbolizer(self.bpf, b"offcpu_stacks")
        self.processes.baseline()
        self._prev_cpu = self._read_cpus()

    def _read_cpus(self) -> dict[int, dict]:
        values = self.bpf[b"sched_cpus"][0]          # one struct per CPU
        return {cpu: sum_percpu([v], CpuSched) for cpu, v in enumerate(values)}

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        interval_ms = round(self.interval_s() * 1000)
        process_ms = self.process_interval_ms()
        batch: Batch = {}
        if process_ms is not None:
            proc = self._process_rows(now, process_ms)
            if proc:
                batch["sched_process"] = proc
            stacks = self._offcpu_rows(now, process_ms) if self.symbolizer is not None else {}
            if stacks:
                batch["offcpu_stack"] = stacks
        batch["sched_cpu"] = self._cpu_rows(now, interval_ms)
        return batch

    def _process_rows(self, now: float, interval_ms: int) -> dict:
        moved = self.processes.deltas()
        d = moved.diff
        moved = moved.select((d["voluntary"] != 0) | (d["involuntary"] != 0))
        if not len(moved):
            return {}
        d = moved.diff
        proc = moved.columns(now, interval_ms)
        proc.update({
            "voluntary_switches": d["voluntary"],
            "involuntary_switches": d["involuntary"],
            "oncpu_us": d["oncpu_ns"] // 1000,
            "runq_latency_sum_us": d["runq_ns"] // 1000,
            "runq_waits": d["runq_waits"],
            "runq_latency_hist": d["runq_hist"],
            "offcpu_sum_us": d["offcpu_ns"] // 1000,
            "offcpu_count": d["offcpu_count"],
            "offcpu_hist": d["offcpu_hist"],
        })
        self._totals["voluntary"] += int(d["voluntary"].sum())
        self._totals["involuntary"] += int(d["involuntary"].sum())
        return proc

    def _cpu_rows(self, now: float, interval_ms: int) -> dict:
        cpus = self._read_cpus()
        cpu_rows = defaultdict(list)
        runq_all = np.zeros(HIST_SLOTS, np.int64)
        for cpu, cur in cpus.items():
            before = self._prev_cpu.get(cpu, cur)
            switches = cur["switches"] - before["switches"]
            self._totals["context_switches"] += switches
            hist = cur["runq_hist"] - before["runq_hist"]
            runq_all += hist
            cpu_rows["ts"].append(now)
            cpu_rows["interval_ms"].append(interval_ms)
            cpu_rows["cpu"].append(cpu)
            cpu_rows["context_switches"].append(switches)
            cpu_rows["runq_latency_sum_us"].append((cur["runq_ns"] - before["runq_ns"]) // 1000)
            cpu_rows["runq_waits"].append(cur["runq_waits"] - before["runq_waits"])
            cpu_rows["runq_latency_hist"].append(hist.tolist())
        self._prev_cpu = cpus
        self._totals["lost"] = self.bpf[b"sched_lost"][0].value
        self._live = {"ts": now, "runq_p50_us": quantile_us(runq_all, 0.5),
                      "runq_p99_us": quantile_us(runq_all, 0.99), "totals": dict(self._totals)}
        return dict(cpu_rows)

    def _offcpu_rows(self, now: float, interval_ms: int) -> dict:
        merged: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for key, value in self.drainer(b"offcpu_counts").take_all():
            frames = self.symbolizer.frames(key.tgid, key.user_stack_id, key.kernel_stack_id)
            entry = merged[(key.tgid, key.comm, key.mnt_ns, frames)]
            entry[0] += value.blocked_ns
            entry[1] += value.count
        self.symbolizer.forget_exited()
        rows = defaultdict(list)
        for (tgid, comm, mnt_ns, frames), (blocked_ns, count) in merged.items():
            rows["ts"].append(now)
            rows["interval_ms"].append(interval_ms)
            rows["pid"].append(tgid)
            rows["comm"].append(comm.decode("utf-8", "replace"))
            rows["mnt_ns"].append(mnt_ns)
            rows["folded"].append(fold(frames))
            rows["blocked_us"].append(blocked_ns // 1000)
            rows["count"].append(count)
        return dict(rows)

    def totals(self) -> dict[str, int]:
        return dict(self._totals)

    def live(self) -> dict:
        return self._live
