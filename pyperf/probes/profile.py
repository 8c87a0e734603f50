"""On-CPU profile: sampled stacks (kernel and user) per process, counted in the
kernel (bpf/profile.bpf.c) and symbolised here, processes in containers
included (bcc reads their binaries through /proc/<pid>/root). Stored one row
per (process, stack) and interval, frames root first, so a flame graph of any
process, container or time range is one SQL GROUP BY (see pyperf/flamegraph.py)."""

from __future__ import annotations

import ctypes
from collections import defaultdict

from pyperf.kernel import host
from pyperf.errors import ProbeError
from pyperf.probes.base import Batch
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS, BPFProbe
from pyperf.probes.stacks import StackSymbolizer, fold
from pyperf.schema import AGENT_HOST, COUNTER, HISTOGRAM, INTERVAL_END, INTERVAL_MS, KEY, Column, Table

DEFAULT_HZ = 49          # off the 50/100 Hz beat of timers, as the bcc and perf tools do
STACK_ENTRIES = 16384

TABLES = (
    Table("profile_stack",
          "Per interval, process and distinct stack: on-CPU samples (CPU_CLOCK at --profile-hz).",
          order_by=("host", "pid", "ts"), columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("pid", "UInt32", KEY, "", "process id (thread group id)"),
        Column("comm", "LowCardinality(String)", KEY, "", "command name of the sampled thread"),
        Column("mnt_ns", "UInt64", COUNTER, "", "mount namespace inode: the container key", codec="T64, ZSTD(1)"),
        Column("stack", "Array(LowCardinality(String))", HISTOGRAM, "",
               "rows stored before schema 22 only: the frames as an array (now `folded`)", codec="ZSTD(3)"),
        Column("folded", "LowCardinality(String)", KEY, "",
               "frames from the root (user, then kernel frames suffixed _[k]) to the leaf, joined with ';' (the "
               "flame graph format; split with splitByChar(';', folded)); [unknown] where a frame could not be "
               "symbolised", codec="ZSTD(1)", default="DEFAULT arrayStringConcat(stack, ';')"),
        Column("samples", "UInt32", COUNTER, "count", "samples of this stack in the interval", codec="T64, ZSTD(1)"),
        Column("hz", "UInt16", COUNTER, "Hz", "sampling frequency per CPU, so samples / hz is CPU seconds"),
      )),
)


class SampleKey(ctypes.Structure):
    """struct sample_key in bpf/profile.h."""

    _fields_ = [
        ("tgid", ctypes.c_uint32), ("pad", ctypes.c_uint32),
        ("user_stack_id", ctypes.c_int32), ("kernel_stack_id", ctypes.c_int32),
        ("mnt_ns", ctypes.c_uint64), ("comm", ctypes.c_char * 16),
    ]


class ProfileProbe(BPFProbe):
    name = "profile"
    description = "on-CPU stack sampling (perf events, CPU_CLOCK)"
    degrades_without = host.PROCESS_CAPABILITIES
    schema = TABLES
    process_tables = ("profile_stack",)
    btf_offsets = TASK_KEY_OFFSETS
    rate_steps = (19, 9)
    rate_unit = "Hz"

    def __init__(self, options=None):
        super().__init__(options)
        self.hz = int(self.options.extra.get("profile.hz", DEFAULT_HZ))
        if not 1 <= self.hz <= 1000:
            raise ProbeError(f"probe profile: frequency {self.hz} Hz is outside 1..1000")
        self._totals = {"samples": 0, "lost": 0, "stack_errors": 0}
        self.symbolizer: StackSymbolizer | None = None

    def extra_cflags(self) -> list[str]:
        return [f"-DSTACK_ENTRIES={STACK_ENTRIES}"]

    def chosen_path(self) -> str:
        return f"perf event CPU_CLOCK at {self.hz} Hz per CPU with stack maps"

    def attach(self) -> None:
        from bcc import PerfSWConfig, PerfType

        self.load()
        try:
            self.bpf.attach_perf_event(ev_type=PerfType.SOFTWARE, ev_config=PerfSWConfig.CPU_CLOCK,
                                       fn_name=b"on_cpu_sample", sample_freq=self.hz)
        except Exception as e:
            self.detach()
            raise ProbeError(f"probe profile: cannot open CPU_CLOCK perf events: {e}") from None
        self.symbolizer = StackSymbolizer(self.bpf, b"profile_stacks")

    @property
    def rate(self) -> int:
        return self.hz

    def set_rate(self, rate: int) -> None:
        self.set_frequency(rate)

    def set_frequency(self, hz: int) -> None:
        """Re-open the perf events at another frequency (the overhead governor's
        first lever); rows carry the frequency they were sampled at."""
        from bcc import PerfSWConfig, PerfType

        if self.bpf is None or hz == self.hz:
            return
        self.bpf.detach_perf_event(ev_type=PerfType.SOFTWARE, ev_config=PerfSWConfig.CPU_CLOCK)
        self.bpf.attach_perf_event(ev_type=PerfType.SOFTWARE, ev_config=PerfSWConfig.CPU_CLOCK,
                                   fn_name=b"on_cpu_sample", sample_freq=hz)
        self.hz = hz

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        interval_ms = self.process_interval_ms()
        if interval_ms is None:
            return {}
        samples = self.drainer(b"profile_counts").take_all()
        merged: dict[tuple, int] = defaultdict(int)
        used_stacks = set()
        for key, value in samples:
            frames = self.symbolizer.frames(key.tgid, key.user_stack_id, key.kernel_stack_id)
            group = (key.tgid, key.comm, key.mnt_ns, frames)
            merged[group] += value if isinstance(value, int) else value.value
            used_stacks.update((key.user_stack_id, key.kernel_stack_id))
        self.symbolizer.release(used_stacks)
        rows = defaultdict(list)
        for (tgid, comm, mnt_ns, frames), n in merged.items():
            rows["ts"].append(now)
            rows["interval_ms"].append(interval_ms)
            rows["pid"].append(tgid)
            rows["comm"].append(comm.decode("utf-8", "replace"))
            rows["mnt_ns"].append(mnt_ns)
            rows["folded"].append(fold(frames))
            rows["samples"].append(n)
            rows["hz"].append(self.hz)
            self._totals["samples"] += n
        self._totals["lost"] = self.bpf[b"profile_lost"][0].value
        self._totals["stack_errors"] = self.symbolizer.errors
        self.symbolizer.forget_exited()
        return {"profile_stack": dict(rows)} if rows else {}

    def totals(self) -> dict[str, int]:
        return dict(self._totals)
