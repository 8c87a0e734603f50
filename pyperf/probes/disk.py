"""Disk I/O: per device and operation, I/Os, bytes, a log2 latency histogram and
queue depth per interval, plus every I/O slower than a threshold as an event.

Kernel side: bpf/disk.bpf.c (hooks and reasoning there). The kernel keeps
cumulative counters; this module turns them into per-interval deltas, so a
slow drain never loses counts.
"""

from __future__ import annotations

import ctypes
import threading
from collections import defaultdict, deque

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, quantile_us
from pyperf.errors import ProbeError
from pyperf.kernel import host
from pyperf.probes.base import Batch, monotonic_to_epoch_offset
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS, BPFProbe
from pyperf.probes.keyed_counters import KeyedCounters
from pyperf.system.block_devices import BlockDeviceNames
from pyperf.system.procfs import ProcFS
from pyperf.schema import (AGENT_HOST, COUNTER, EVENT, GAUGE, INTERVAL_END, INTERVAL_MS, KEY, RAW, STORED, Column,
                           Table, log2_histogram)

OPS = ("read", "write", "flush", "discard", "other")   # index = DISK_OP_* in bpf/disk.h


# -D constant -> (struct, member) read from BTF at load time.
BTF_OFFSETS = {
    "OFF_RQ_Q": ("request", "q"),
    "OFF_RQ_CMD_FLAGS": ("request", "cmd_flags"),
    "OFF_RQ_DATA_LEN": ("request", "__data_len"),
    "OFF_RQ_START_TIME_NS": ("request", "start_time_ns"),
    "OFF_Q_DISK": ("request_queue", "disk"),
    "OFF_DISK_MAJOR": ("gendisk", "major"),
    "OFF_DISK_FIRST_MINOR": ("gendisk", "first_minor"),
    **TASK_KEY_OFFSETS,
}


# Units and meaning of every stored column; docs/schema.md is generated from these.
TABLES = (
    Table("disk_io",
          "Per interval, per block device and operation. Rows only for device/op pairs with I/O.",
          order_by=("host", "device", "op", "ts"), metrics=True, rollup=STORED, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("device", "LowCardinality(String)", KEY, "",
               "block device name (vda, nvme0n1, loop3); major:minor when unnamed"),
        Column("op", "LowCardinality(String)", KEY, "",
               "read, write, flush, discard or other (the kernel's op_stat_group)"),
        Column("ios", "UInt64", COUNTER, "count", "I/O requests completed in the interval", codec="T64, ZSTD(1)"),
        Column("bytes", "UInt64", COUNTER, "bytes",
               "bytes completed in the interval (partial completions included)", codec="T64, ZSTD(1)"),
        Column("latency_sum_us", "UInt64", COUNTER, "µs",
               "sum of request latencies, from request creation to completion (as /proc/diskstats); divide by "
               "ios for the mean", codec="T64, ZSTD(1)"),
        log2_histogram("latency_hist",
                       "slot i counts requests with latency in [2^i, 2^(i+1)) µs, slot 0 < 2 µs; 32 slots"),
      )),
    Table("disk_queue",
          "Per interval and block device: requests in flight (queue depth).",
          order_by=("host", "device", "ts"), metrics=True, rollup=RAW, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("device", "LowCardinality(String)", KEY, "", "block device name"),
        Column("queue_depth_avg", "Float32", GAUGE, "requests",
               "time-averaged requests in flight (sum of latencies / interval)", codec="Gorilla(4), ZSTD(1)"),
        Column("queue_depth_max", "UInt32", GAUGE, "requests",
               "most requests in flight at once during the interval", codec="T64, ZSTD(1)"),
      )),
    Table("disk_slow_io",
          "One row per I/O slower than --slow-io-ms (default 10 ms).",
          order_by=("host", "ts"), retention_days=30, columns=(
        Column("ts", "DateTime64(6, 'UTC')", KEY, "time",
               "completion time (UTC, µs precision)", codec="Delta(8), ZSTD(1)"),
        AGENT_HOST,
        Column("device", "LowCardinality(String)", EVENT, "", "block device name"),
        Column("op", "LowCardinality(String)", EVENT, "", "read, write, flush, discard or other"),
        Column("bytes", "UInt64", EVENT, "bytes", "size of the request", codec="T64, ZSTD(1)"),
        Column("latency_us", "UInt64", EVENT, "µs", "request latency, creation to completion", codec="T64, ZSTD(1)"),
        Column("pid", "UInt32", EVENT, "",
               "process that submitted the request (0 if it started before pyperf attached)"),
        Column("comm", "LowCardinality(String)", EVENT, "", "command name of that process"),
        Column("mnt_ns", "UInt64", EVENT, "",
               "submitter's mount namespace inode (container key; 0 when unknown)", codec="T64, ZSTD(1)"),
        Column("cgroup_id", "UInt64", EVENT, "", "submitter's cgroup v2 id (container key)", codec="T64, ZSTD(1)"),
      )),
    Table("disk_container_io",
          "Per interval, per container, block device and operation: I/O submitted by processes outside the "
          "host's mount namespace (group by container with `container_of`). Writeback of a container's dirty "
          "pages is submitted by kernel threads and counts as the host's.",
          order_by=("host", "mnt_ns", "cgroup_id", "device", "op", "ts"), rollup=STORED, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("mnt_ns", "UInt64", KEY, "", "submitter's mount namespace inode", codec="T64, ZSTD(1)"),
        Column("cgroup_id", "UInt64", KEY, "", "submitter's cgroup v2 id", codec="T64, ZSTD(1)"),
        Column("device", "LowCardinality(String)", KEY, "", "block device name"),
        Column("op", "LowCardinality(String)", KEY, "", "read, write, flush, discard or other"),
        Column("ios", "UInt64", COUNTER, "count", "I/O requests completed in the interval", codec="T64, ZSTD(1)"),
        Column("bytes", "UInt64", COUNTER, "bytes", "bytes completed in the interval", codec="T64, ZSTD(1)"),
        Column("latency_sum_us", "UInt64", COUNTER, "µs",
               "sum of request latencies, creation to completion", codec="T64, ZSTD(1)"),
        log2_histogram("latency_hist", "as in disk_io"),
      )),
)


class SlowIOEvent(ctypes.Structure):
    """struct disk_slow_event in bpf/disk.h."""

    _fields_ = [
        ("done_ns", ctypes.c_uint64),
        ("latency_ns", ctypes.c_uint64),
        ("bytes", ctypes.c_uint64),
        ("dev", ctypes.c_uint32),
        ("op", ctypes.c_uint32),
        ("pid", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
        ("mnt_ns", ctypes.c_uint64),
        ("cgroup_id", ctypes.c_uint64),
        ("comm", ctypes.c_char * 16),
    ]


class DiskKey(ctypes.Structure):
    """struct disk_key in bpf/disk.h."""

    _fields_ = [("dev", ctypes.c_uint32), ("op", ctypes.c_uint32)]


class DiskContainerKey(ctypes.Structure):
    """struct disk_container_key in bpf/disk.h."""

    _fields_ = [("mnt_ns", ctypes.c_uint64), ("cgroup_id", ctypes.c_uint64), ("dev", ctypes.c_uint32),
                ("op", ctypes.c_uint32)]


DEVICE_KEY, CONTAINER_KEY = np.dtype(DiskKey), np.dtype(DiskContainerKey)


class DiskProbe(BPFProbe):
    name = "disk"
    optional = False
    event_tables = ("disk_slow_io",)
    description = "block I/O latency, throughput and queue depth"
    schema = TABLES
    btf_offsets = BTF_OFFSETS

    def __init__(self, options=None):
        super().__init__(options)
        self.devices = BlockDeviceNames()
        self._per_device = KeyedCounters()
        self._per_container = KeyedCounters()
        self._slow: list[SlowIOEvent] = []
        self._slow_lock = threading.Lock()
        self._totals = {"ios": 0, "bytes": 0, "slow_ios": 0, "lost": 0, "unseen_ios": 0, "lost_starts": 0}
        self._live: dict = {"devices": {}, "slow": deque(maxlen=50)}
        # what the kernel accounted against what the programs saw, per device since attach
        self._proc = ProcFS()
        self._kernel_base: dict[str, int] = {}
        self._seen: dict[str, int] = defaultdict(int)
        self._unseen: dict[str, int] = {}
        self._unseen_before = 0        # of earlier attachments (switched off and on): the total only grows

    # -- kernel side -----------------------------------------------------
    def hooks(self) -> str:
        forced = self.options.extra.get("disk.hooks")
        if forced in ("legacy", "io"):
            return forced
        return "io" if host.tracepoint_exists("block", "block_io_done") else "legacy"

    def chosen_path(self) -> str:
        if self.hooks() == "io":
            return "raw tracepoints block_io_start, block_io_done, block_rq_complete"
        return "raw tracepoints block_rq_issue, block_rq_complete (pre-6.5 kernel)"

    def extra_cflags(self) -> list[str]:
        flags = [f"-DHOST_MNT_NS={host.own_mount_ns()}ULL"]
        flags.append(f"-DSLOW_NS={int(self.options.slow_io_ms * 1e6)}ULL")
        if self.hooks() == "legacy":
            flags.append("-DDISK_LEGACY_HOOKS")
        pages = self.options.extra.get("disk.ringbuf_pages")
        if pages:
            if not pages.isdigit() or int(pages) & (int(pages) - 1):
                raise ProbeError(f"probe disk: ring buffer pages must be a power of two, not {pages}")
            flags.append(f"-DRINGBUF_PAGES={pages}")
        bits = self.options.extra.get("disk.start_bits")
        if bits:
            if not bits.isdigit() or not 1 <= int(bits) <= 20:
                raise ProbeError(f"probe disk: start slot bits must be 1 to 20, not {bits}")
            flags.append(f"-DSTART_BITS={bits}")
        return flags

    def attach(self) -> None:
        self.load()
        self.bpf[b"disk_slow_events"].open_ring_buffer(self._on_slow_event)
        # Counters are cumulative in the kernel: the first drain's baseline is "now".
        self._deltas(b"disk_stats", self._per_device, DEVICE_KEY)
        self._deltas(b"disk_container_stats", self._per_container, CONTAINER_KEY)
        self._start_comparing()

    def _start_comparing(self) -> None:
        """The kernel's counts from now on, against the programs' from the map's
        baseline just taken. Read after it: a completion in between counts for the
        programs only, so `unseen_ios` can be short, never over."""
        self._unseen_before += sum(self._unseen.values())
        self._seen.clear()
        self._unseen = {}
        self._kernel_base = self._kernel_completions()

    def detach(self) -> None:
        super().detach()
        self._proc.close()

    def _kernel_completions(self) -> dict[str, int]:
        """Reads and writes completed per device, as /proc/diskstats counts them
        (discards and flushes apart, as the programs' "flush" and "discard")."""
        try:
            return {name: c.reads + c.writes for name, c in self._proc.diskstats().items()}
        except OSError:
            return {}

    def _count_unseen(self, kernel: dict[str, int]) -> None:
        """Completions the kernel accounted on a device whose requests the programs
        see, but never ran them for (docs/monitoring.md, loss accounting). Only
        devices both know: bio-based ones (device mapper, an NVMe multipath head)
        have no requests, and the programs never see them."""
        self._unseen = {device: max(0, kernel[device] - self._kernel_base.get(device, 0) - seen)
                        for device, seen in self._seen.items() if device in kernel}
        self._totals["unseen_ios"] = self._unseen_before + sum(self._unseen.values())

    def _on_slow_event(self, _ctx, data, _size) -> None:
        event = SlowIOEvent.from_buffer_copy(
            ctypes.string_at(data, ctypes.sizeof(SlowIOEvent))
        )
        with self._slow_lock:
            self._slow.append(event)

    # -- user side -------------------------------------------------------
    def _deltas(self, map_name: bytes, counters: KeyedCounters, key_dtype: np.dtype):
        """[(key fields, ios, bytes, latency ns, histogram)] of the keys that completed
        I/O since the last drain (the container map is an LRU: keys it evicted are
        forgotten, so a reused key starts from zero)."""
        words = 3 + HIST_SLOTS    # struct disk_stats (bpf/disk.h): ios, bytes, latency_sum_ns, hist; one per CPU

        def summed(rows: np.ndarray) -> np.ndarray:
            return rows.reshape(len(rows), rows.shape[1] // words, words).sum(axis=1, dtype=np.uint64)
        keys, values = self.drainer(map_name).read_arrays(np.dtype(f"V{key_dtype.itemsize}"), np.dtype(np.uint64),
                                                          each=summed)
        keys, _, diff = counters.advance(keys, values)
        moved = (diff[:, :2] != 0).any(axis=1)          # ios or bytes
        return [(key, int(d[0]), int(d[1]), int(d[2]), d[3:])
                for key, d in zip(keys[moved].view(key_dtype).tolist(), diff[moved])]

    def _queue_max(self) -> dict[int, int]:
        table = self.bpf[b"disk_queue"]
        out = {}
        for k, v in table.items():
            out[k.value] = max(v.inflight_max, 0)
            v.inflight_max = max(v.inflight, 0)   # next interval starts from what is in flight
            table[k] = v
        return out

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        self.bpf.ring_buffer_consume()
        interval_s = self.interval_s()
        # the kernel's counts first: every completion in them ran its tracepoint before
        kernel = self._kernel_completions()
        deltas = self._deltas(b"disk_stats", self._per_device, DEVICE_KEY)
        queue_max = self._queue_max()
        lost = self.bpf[b"disk_lost"]
        self._totals["lost"], self._totals["lost_starts"] = lost[0].value, lost[1].value

        io = defaultdict(list)
        latency_by_dev: dict[int, int] = defaultdict(int)
        live_devices = {}
        for (dev, op), ios, nbytes, lat_ns, d_hist in deltas:
            device = self.devices.name(dev)
            op_name = OPS[op] if op < len(OPS) else "other"
            io["ts"].append(now)
            io["interval_ms"].append(round(interval_s * 1000))
            io["device"].append(device)
            io["op"].append(op_name)
            io["ios"].append(ios)
            io["bytes"].append(nbytes)
            io["latency_sum_us"].append(lat_ns // 1000)
            io["latency_hist"].append(d_hist.tolist())
            latency_by_dev[dev] += lat_ns
            self._totals["ios"] += ios
            self._totals["bytes"] += nbytes
            if op_name not in ("flush", "discard"):        # diskstats' reads and writes
                self._seen[device] += ios
            entry = live_devices.setdefault(device, {"iops": 0.0, "bytes_per_s": 0.0,
                                                     "hist": np.zeros(HIST_SLOTS, np.int64)})
            entry["iops"] += ios / interval_s
            entry["bytes_per_s"] += nbytes / interval_s
            entry["hist"] = entry["hist"] + d_hist

        queue = defaultdict(list)
        for dev in set(latency_by_dev) | {d for d, m in queue_max.items() if m}:
            queue["ts"].append(now)
            queue["interval_ms"].append(round(interval_s * 1000))
            queue["device"].append(self.devices.name(dev))
            # Little's law: the sum of request times over the interval is the
            # time-integral of requests in flight (diskstats' weighted time).
            queue["queue_depth_avg"].append(latency_by_dev.get(dev, 0) / (interval_s * 1e9))
            queue["queue_depth_max"].append(queue_max.get(dev, 0))

        with self._slow_lock:
            slow, self._slow = self._slow, []
        events = defaultdict(list)
        epoch_offset = monotonic_to_epoch_offset()
        for e in slow:
            events["ts"].append(e.done_ns / 1e9 + epoch_offset)
            events["device"].append(self.devices.name(e.dev))
            events["op"].append(OPS[e.op] if e.op < len(OPS) else "other")
            events["bytes"].append(e.bytes)
            events["latency_us"].append(e.latency_ns // 1000)
            events["pid"].append(e.pid)
            events["comm"].append(e.comm.decode("utf-8", "replace"))
            events["mnt_ns"].append(e.mnt_ns)
            events["cgroup_id"].append(e.cgroup_id)
        self._totals["slow_ios"] += len(slow)

        per_container = defaultdict(list)
        for (mnt_ns, cgroup_id, dev, op), ios, nbytes, lat_ns, d_hist in self._deltas(b"disk_container_stats", self._per_container,
                                                                                CONTAINER_KEY):
            per_container["ts"].append(now)
            per_container["interval_ms"].append(round(interval_s * 1000))
            per_container["mnt_ns"].append(mnt_ns)
            per_container["cgroup_id"].append(cgroup_id)
            per_container["device"].append(self.devices.name(dev))
            per_container["op"].append(OPS[op] if op < len(OPS) else "other")
            per_container["ios"].append(ios)
            per_container["bytes"].append(nbytes)
            per_container["latency_sum_us"].append(lat_ns // 1000)
            per_container["latency_hist"].append(d_hist.tolist())

        self._count_unseen(kernel)
        self._update_live(now, live_devices, events)
        batch: Batch = {}
        if per_container:
            batch["disk_container_io"] = dict(per_container)
        if io:
            batch["disk_io"] = dict(io)
        if queue:
            batch["disk_queue"] = dict(queue)
        if events:
            batch["disk_slow_io"] = dict(events)
        return batch

    def _update_live(self, now, live_devices, events) -> None:
        devices = {}
        for device, entry in live_devices.items():
            devices[device] = {
                "iops": entry["iops"],
                "bytes_per_s": entry["bytes_per_s"],
                "p50_us": quantile_us(entry["hist"], 0.50),
                "p99_us": quantile_us(entry["hist"], 0.99),
            }
        self._live["ts"] = now
        self._live["devices"] = devices
        for i in range(len(events.get("ts", []))):
            self._live["slow"].appendleft({k: events[k][i] for k in events})

    def totals(self) -> dict[str, int]:
        return dict(self._totals)

    def live(self) -> dict:
        return {"ts": self._live.get("ts"), "devices": self._live["devices"],
                "slow": list(self._live["slow"]), "totals": self.totals(), "unseen_ios": dict(self._unseen)}
