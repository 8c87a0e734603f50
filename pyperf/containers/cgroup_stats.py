"""Per-container resource counters from cgroup files, v1 and v2, read for one
process of the container. Pure parsers plus a reader that takes its roots as
arguments; cumulative counters only (the containers source takes deltas)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

UNLIMITED = 1 << 60   # v1 reports "no limit" as a page-rounded LONG_MAX


@dataclass
class CgroupSample:
    cpu_usage_ns: int = 0
    nr_periods: int = 0
    nr_throttled: int = 0
    throttled_ns: int = 0
    cpu_limit_cores: float | None = None
    memory_bytes: int = 0
    memory_limit_bytes: int | None = None
    rss_bytes: int = 0
    cache_bytes: int = 0
    major_faults: int = 0
    oom_kills: int = 0
    io_read_bytes: int = 0
    io_write_bytes: int = 0
    io_reads: int = 0
    io_writes: int = 0
    pids: int = 0
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    sources: dict[str, str] = field(default_factory=dict)   # what came from v1 or v2, for doctor/tests


def parse_flat_keyed(text: str) -> dict[str, int]:
    """'key value' lines (cpu.stat, memory.stat, memory.events)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def parse_cgroup_mounts(mounts_text: str) -> tuple[dict[str, str], str | None]:
    """({v1 controller: mount point}, v2 mount point) from /proc/self/mounts."""
    v1, v2 = {}, None
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        if parts[2] == "cgroup2":
            v2 = v2 or parts[1]
        elif parts[2] == "cgroup":
            for option in parts[3].split(","):
                if option in ("cpu", "cpuacct", "memory", "blkio", "pids", "io"):
                    v1.setdefault(option, parts[1])
    return v1, v2


def parse_proc_cgroup_paths(text: str) -> tuple[dict[str, str], str | None]:
    """({v1 controller: path}, v2 path) from /proc/<pid>/cgroup."""
    v1, v2 = {}, None
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2 = path
        for controller in controllers.split(","):
            if controller:
                v1[controller] = path
    return v1, v2


def parse_v1_blkio(text: str) -> tuple[int, int]:
    """(read, write) totals over devices from blkio.throttle.io_service_bytes / io_serviced."""
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "Read":
            read += int(parts[2])
        elif len(parts) == 3 and parts[1] == "Write":
            write += int(parts[2])
    return read, write


def parse_v2_io_stat(text: str) -> dict[str, int]:
    totals = {"rbytes": 0, "wbytes": 0, "rios": 0, "wios": 0}
    for line in text.splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            if key in totals and value.isdigit():
                totals[key] += int(value)
    return totals


def parse_cpu_max(text: str) -> float | None:
    quota, _, period = text.strip().partition(" ")
    if quota == "max" or not period:
        return None
    return int(quota) / int(period)


def parse_net_dev_totals(text: str) -> tuple[int, int]:
    """(rx, tx) bytes over every interface but loopback, from /proc/<pid>/net/dev."""
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, values = line.partition(":")
        numbers = values.split()
        if name.strip() != "lo" and len(numbers) >= 9:
            rx += int(numbers[0])
            tx += int(numbers[8])
    return rx, tx


class CgroupReader:
    def __init__(self, proc_root: str = "/proc", mounts_file: str = "/proc/self/mounts"):
        self.proc = Path(proc_root)
        self.v1_mounts, self.v2_mount = parse_cgroup_mounts(Path(mounts_file).read_text())

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text()
        except OSError:
            return None

    def sample(self, pid: int) -> CgroupSample | None:
        text = self._read(self.proc / str(pid) / "cgroup")
        if text is None:
            return None
        v1_paths, v2_path = parse_proc_cgroup_paths(text)
        v2 = Path(self.v2_mount + v2_path) if self.v2_mount and v2_path is not None else None

        def v1(controller: str, name: str) -> str | None:
            if controller in self.v1_mounts and controller in v1_paths:
                return self._read(Path(self.v1_mounts[controller] + v1_paths[controller]) / name)
            return None

        def v2f(name: str) -> str | None:
            return self._read(v2 / name) if v2 is not None else None

        s = CgroupSample()
        # CPU
        usage = v1("cpuacct", "cpuacct.usage")
        v2_cpu = parse_flat_keyed(v2f("cpu.stat") or "")
        if usage is not None:
            s.cpu_usage_ns, s.sources["cpu"] = int(usage), "v1"
        elif "usage_usec" in v2_cpu:
            s.cpu_usage_ns, s.sources["cpu"] = v2_cpu["usage_usec"] * 1000, "v2"
        v1_cpu = v1("cpu", "cpu.stat")
        if v1_cpu is not None:
            st = parse_flat_keyed(v1_cpu)
            s.nr_periods, s.nr_throttled, s.throttled_ns = (st.get("nr_periods", 0), st.get("nr_throttled", 0),
                                                            st.get("throttled_time", 0))
            quota, period = v1("cpu", "cpu.cfs_quota_us"), v1("cpu", "cpu.cfs_period_us")
            if quota and period and int(quota) > 0:
                s.cpu_limit_cores = int(quota) / int(period)
        elif "nr_periods" in v2_cpu:
            s.nr_periods, s.nr_throttled = v2_cpu["nr_periods"], v2_cpu.get("nr_throttled", 0)
            s.throttled_ns = v2_cpu.get("throttled_usec", 0) * 1000
            s.cpu_limit_cores = parse_cpu_max(v2f("cpu.max") or "max")
        # memory
        usage = v1("memory", "memory.usage_in_bytes")
        if usage is not None:
            s.sources["memory"] = "v1"
            s.memory_bytes = int(usage)
            limit = int(v1("memory", "memory.limit_in_bytes") or UNLIMITED)
            s.memory_limit_bytes = None if limit >= UNLIMITED else limit
            st = parse_flat_keyed(v1("memory", "memory.stat") or "")
            s.rss_bytes, s.cache_bytes = st.get("total_rss", st.get("rss", 0)), st.get("total_cache", st.get("cache", 0))
            s.major_faults = st.get("total_pgmajfault", st.get("pgmajfault", 0))
            s.oom_kills = parse_flat_keyed(v1("memory", "memory.oom_control") or "").get("oom_kill", 0)
        elif v2f("memory.current") is not None:
            s.sources["memory"] = "v2"
            s.memory_bytes = int(v2f("memory.current"))
            limit = (v2f("memory.max") or "max").strip()
            s.memory_limit_bytes = None if limit == "max" else int(limit)
            st = parse_flat_keyed(v2f("memory.stat") or "")
            s.rss_bytes, s.cache_bytes, s.major_faults = st.get("anon", 0), st.get("file", 0), st.get("pgmajfault", 0)
            s.oom_kills = parse_flat_keyed(v2f("memory.events") or "").get("oom_kill", 0)
        # block I/O
        service_bytes = v1("blkio", "blkio.throttle.io_service_bytes")
        if service_bytes is not None:
            s.sources["io"] = "v1"
            s.io_read_bytes, s.io_write_bytes = parse_v1_blkio(service_bytes)
            s.io_reads, s.io_writes = parse_v1_blkio(v1("blkio", "blkio.throttle.io_serviced") or "")
        elif v2f("io.stat") is not None:
            s.sources["io"] = "v2"
            io = parse_v2_io_stat(v2f("io.stat"))
            s.io_read_bytes, s.io_write_bytes, s.io_reads, s.io_writes = io["rbytes"], io["wbytes"], io["rios"], io["wios"]
        # tasks and network
        pids = v1("pids", "pids.current") or v2f("pids.current")
        s.pids = int(pids) if pids and pids.strip().isdigit() else 0
        net = self._read(self.proc / str(pid) / "net" / "dev")
        if net is not None:
            s.net_rx_bytes, s.net_tx_bytes = parse_net_dev_totals(net)
        return s
