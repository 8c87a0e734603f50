"""The containers source: per interval and running container, resource usage
from its cgroup files (v1 or v2) and network bytes from its network namespace.
No BPF; it has the probe interface so the collector and store treat it like a
probe. Containers are found by walking /proc and resolving mount namespaces
with the same resolver the enricher uses."""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict

from pyperf.kernel import host
from pyperf.containers.cgroup_stats import CgroupReader, CgroupSample
from pyperf.containers.resolver import HOST, ContainerResolver
from pyperf.probes.base import Batch, Probe
from pyperf.system.procfs import ProcFS
from pyperf.schema import AGENT_HOST, COUNTER, GAUGE, INTERVAL_END, INTERVAL_MS, KEY, STORED, Column, Table

COUNTERS = ("cpu_usage_ns", "nr_periods", "nr_throttled", "throttled_ns", "major_faults", "oom_kills",
            "io_read_bytes", "io_write_bytes", "io_reads", "io_writes", "net_rx_bytes", "net_tx_bytes")

TABLES = (
    Table("container_resources",
          "Per interval and running container: resource usage from its cgroup (v1 or v2) and network namespace. "
          "Counters are per interval, gauges at the end of it.",
          order_by=("host", "container_id", "ts"), metrics=True, rollup=STORED, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("container_id", "LowCardinality(String)", KEY, "",
               "runtime container id (or cgroup path of a plain-cgroup container)"),
        Column("name", "LowCardinality(String)", KEY, "", "container name"),
        Column("runtime", "LowCardinality(String)", KEY, "",
               "docker, podman, kubernetes, cri-o, containerd, lxc or cgroup", rollup=False),
        Column("mnt_ns", "UInt64", KEY, "",
               "mount namespace inode (joins with probe rows)", codec="T64, ZSTD(1)", rollup=False),
        Column("cpu_pct_of_host", "Float32", GAUGE, "%",
               "CPU time used / (interval × host CPUs)", codec="Gorilla(4), ZSTD(1)"),
        Column("cpu_pct_of_limit", "Float32", GAUGE, "%",
               "CPU time used / (interval × its CPU limit); NaN without a limit", codec="Gorilla(4), ZSTD(1)"),
        Column("cpu_limit_cores", "Float32", GAUGE, "CPUs",
               "CPU quota / period; NaN without a limit", codec="Gorilla(4), ZSTD(1)", rollup=False),
        Column("throttled_periods", "UInt64", COUNTER, "count",
               "CFS periods in which it was throttled", codec="T64, ZSTD(1)"),
        Column("periods", "UInt64", COUNTER, "count",
               "CFS periods that elapsed with it runnable", codec="T64, ZSTD(1)"),
        Column("throttled_us", "UInt64", COUNTER, "µs", "time it was throttled", codec="T64, ZSTD(1)"),
        Column("memory_bytes", "UInt64", GAUGE, "bytes",
               "memory charged to the cgroup (usage_in_bytes / memory.current)", codec="T64, ZSTD(1)"),
        Column("memory_limit_bytes", "UInt64", GAUGE, "bytes",
               "memory limit; 0 without a limit", codec="T64, ZSTD(1)", rollup=False),
        Column("memory_pct_of_limit", "Float32", GAUGE, "%",
               "memory / limit; NaN without a limit", codec="Gorilla(4), ZSTD(1)"),
        Column("rss_bytes", "UInt64", GAUGE, "bytes", "anonymous memory (rss / anon)", codec="T64, ZSTD(1)"),
        Column("cache_bytes", "UInt64", GAUGE, "bytes", "page cache (cache / file)", codec="T64, ZSTD(1)"),
        Column("major_faults", "UInt64", COUNTER, "count", "major page faults in the interval", codec="T64, ZSTD(1)"),
        Column("oom_kills", "UInt64", COUNTER, "count", "OOM kills in the interval", codec="T64, ZSTD(1)"),
        Column("io_read_bytes", "UInt64", COUNTER, "bytes", "block I/O read (blkio / io.stat)", codec="T64, ZSTD(1)"),
        Column("io_write_bytes", "UInt64", COUNTER, "bytes", "block I/O written", codec="T64, ZSTD(1)"),
        Column("io_reads", "UInt64", COUNTER, "count", "block read operations", codec="T64, ZSTD(1)"),
        Column("io_writes", "UInt64", COUNTER, "count", "block write operations", codec="T64, ZSTD(1)"),
        Column("net_rx_bytes", "UInt64", COUNTER, "bytes",
               "bytes received on its network namespace's interfaces (lo excluded)", codec="T64, ZSTD(1)"),
        Column("net_tx_bytes", "UInt64", COUNTER, "bytes", "bytes sent", codec="T64, ZSTD(1)"),
        Column("pids", "UInt32", GAUGE, "", "tasks in the cgroup at the end of the interval", codec="T64, ZSTD(1)"),
      )),
)


RESCAN_MAX_S = 30.0


def _delta(now: int, before: int) -> int:
    return now - before if now >= before else now


class ContainersSource(Probe):
    name = "containers"
    optional = False
    description = "per-container CPU, throttling, memory, block I/O, network and pids from cgroups"
    degrades_without = host.PROCESS_CAPABILITIES
    schema = TABLES

    def __init__(self, options=None, proc_root: str = "/proc", clock=time.monotonic):
        super().__init__(options)
        self.proc_root = proc_root
        self.proc = ProcFS(proc_root)
        self.clock = clock
        self.scans = 0
        self.resolver: ContainerResolver | None = None
        self.reader: CgroupReader | None = None
        self._previous: dict[str, CgroupSample] = {}
        self._last_drain = time.monotonic()
        self._totals = {"samples": 0, "containers": 0}
        self._seen: set[str] = set()
        self._members: dict[str, tuple] = {}
        self._scanned_at = -RESCAN_MAX_S
        self._scanned_marker = ""
        self._rescan_once_more = False
        # set when the namespace watcher runs (pyperf.commands.session): its count of namespaces
        # announced, which host processes starting do not move, where the kernel's last pid does
        self.namespaces_announced = None

    def attach(self) -> None:
        self.resolver = ContainerResolver(self.proc_root)
        self.reader = CgroupReader(self.proc_root)
        self._previous = {cid: sample for cid, (_, _, sample) in self._sample_all().items()}
        self._last_drain = time.monotonic()

    def detach(self) -> None:
        self.resolver = None
        self.proc.close()

    def bpf_source(self) -> tuple[str, list[str]]:
        return "/* the containers source runs no BPF: it reads cgroup files */", []

    def chosen_path(self) -> str:
        v1 = ", ".join(sorted(self.reader.v1_mounts)) if self.reader else ""
        return f"cgroup v1 controllers: {v1 or 'none'}; cgroup v2: {self.reader.v2_mount if self.reader else '?'}"

    def _scan(self) -> dict[str, tuple]:
        """{container id: (container, pid)}: one process of every running container,
        found by walking /proc (one stat per process)."""
        self.scans += 1
        found: dict[str, tuple] = {}
        for entry in os.scandir(self.proc_root):
            if not entry.name.isdigit():
                continue
            try:
                mnt_ns = os.stat(f"{self.proc_root}/{entry.name}/ns/mnt").st_ino
            except OSError:
                continue
            container = self.resolver.by_mnt_ns(mnt_ns)
            if container is None or container.runtime == HOST or container.id in found:
                continue
            found[container.id] = (container, int(entry.name))
        return found

    def _last_pid(self) -> str:
        return self.proc.read_optional("loadavg").rsplit(" ", 1)[-1]

    def _creation_marker(self) -> str:
        """Moves when a container may have started: a namespace announced by the watcher,
        or without it any process created (the kernel's last pid)."""
        if self.namespaces_announced is not None:
            return f"namespaces {self.namespaces_announced()}"
        return f"pid {self._last_pid()}"

    def _members_now(self) -> dict[str, tuple]:
        """The walk of /proc is most of this source's cost, so it runs only when a
        container may have started since the last one (_creation_marker: a new
        container starts with a process in a new namespace), and at least every
        RESCAN_MAX_S; a member whose process is gone or changed namespace forces
        one. A walk the marker caused is repeated at the next drain: a container's
        first process may still have been in its runtime's cgroup. Every walk the
        marker calls for is made at once: the enricher takes a container missing
        from this source's rows for one that stopped."""
        mono = self.clock()
        marker = self._creation_marker()
        created = marker != self._scanned_marker
        due = created or self._rescan_once_more or mono - self._scanned_at >= RESCAN_MAX_S
        if not due:
            for container, pid in self._members.values():
                try:
                    if os.stat(f"{self.proc_root}/{pid}/ns/mnt").st_ino != container.mnt_ns:
                        due = True
                        break
                except OSError:
                    due = True
                    break
        if due:
            self._members = self._scan()
            self._scanned_at, self._scanned_marker, self._rescan_once_more = mono, marker, created
        return self._members

    def _sample_all(self) -> dict[str, tuple]:
        """{container id: (container, pid, sample)} for every running container."""
        found: dict[str, tuple] = {}
        for cid, (container, pid) in self._members_now().items():
            sample = self.reader.sample(pid)
            if sample is not None:
                found[cid] = (container, pid, sample)
        return found

    def drain(self, now: float) -> Batch:
        if self.resolver is None:
            return {}
        mono = time.monotonic()
        interval_s = max(mono - self._last_drain, 1e-6)
        self._last_drain = mono
        current = self._sample_all()
        cpus = os.cpu_count() or 1
        rows = defaultdict(list)
        for cid, (container, _pid, s) in current.items():
            before = self._previous.get(cid)
            d = {k: _delta(getattr(s, k), getattr(before, k)) if before else 0 for k in COUNTERS}
            cpu_s = d["cpu_usage_ns"] / 1e9
            limit = s.cpu_limit_cores
            rows["ts"].append(now)
            rows["interval_ms"].append(round(interval_s * 1000))
            rows["container_id"].append(cid)
            rows["name"].append(container.name)
            rows["runtime"].append(container.runtime)
            rows["mnt_ns"].append(container.mnt_ns)
            rows["cpu_pct_of_host"].append(100.0 * cpu_s / (interval_s * cpus))
            rows["cpu_pct_of_limit"].append(100.0 * cpu_s / (interval_s * limit) if limit else math.nan)
            rows["cpu_limit_cores"].append(limit if limit else math.nan)
            rows["throttled_periods"].append(d["nr_throttled"])
            rows["periods"].append(d["nr_periods"])
            rows["throttled_us"].append(d["throttled_ns"] // 1000)
            rows["memory_bytes"].append(s.memory_bytes)
            rows["memory_limit_bytes"].append(s.memory_limit_bytes or 0)
            rows["memory_pct_of_limit"].append(100.0 * s.memory_bytes / s.memory_limit_bytes
                                               if s.memory_limit_bytes else math.nan)
            rows["rss_bytes"].append(s.rss_bytes)
            rows["cache_bytes"].append(s.cache_bytes)
            for key in ("major_faults", "oom_kills", "io_read_bytes", "io_write_bytes", "io_reads",
                        "io_writes", "net_rx_bytes", "net_tx_bytes"):
                rows[key].append(d[key])
            rows["pids"].append(s.pids)
            self._seen.add(cid)
        self._previous = {cid: sample for cid, (_, _, sample) in current.items()}
        self._totals["samples"] += 1
        self._totals["containers"] = len(self._seen)
        # present even when empty: an empty scan is how the enricher learns containers stopped
        return {"container_resources": dict(rows)}

    def totals(self) -> dict[str, int]:
        return dict(self._totals)
