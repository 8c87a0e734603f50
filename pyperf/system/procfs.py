"""Pure parsers of /proc text and a reader that takes its /proc root as an
argument. They return cumulative kernel counters as the kernel gives them; the
arithmetic (deltas, rates) happens in one place, pyperf/system/sampler.py."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# /proc/net/tcp "st" column, include/net/tcp_states.h
TCP_STATES = {
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
    6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
    12: "NEW_SYN_RECV",
}


@dataclass(frozen=True)
class DiskCounters:
    """One /proc/diskstats line (Documentation/admin-guide/iostats.rst)."""
    reads: int
    read_sectors: int
    read_ms: int
    writes: int
    write_sectors: int
    write_ms: int
    in_flight: int
    io_ms: int           # time the device had I/O in flight (utilisation)
    weighted_ms: int     # sum of request times (queue depth × time)


def parse_diskstats(text: str) -> dict[str, DiskCounters]:
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 14:
            continue
        out[f[2]] = DiskCounters(int(f[3]), int(f[5]), int(f[6]), int(f[7]), int(f[9]), int(f[10]),
                                 int(f[11]), int(f[12]), int(f[13]))
    return out


def parse_key_values(text: str, wanted=None) -> dict[str, int]:
    """'name value' lines (/proc/vmstat); only the `wanted` names when given
    (vmstat has ~180 lines, the sampler needs four)."""
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if (wanted is None or name in wanted) and value.lstrip("-").isdigit():
            out[name] = int(value)
    return out


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo in bytes: {"MemTotal": n, "MemAvailable": n, ...}."""
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            out[name] = int(fields[0]) * (1024 if len(fields) > 1 and fields[1] == "kB" else 1)
    return out


CPU_STATES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_cpu_times(text: str) -> list[tuple[float, ...]]:
    """Per-CPU seconds in CPU_STATES order, from the cpuN lines of /proc/stat."""
    out = []
    for line in text.splitlines():
        if line.startswith("cpu") and not line.startswith("cpu "):
            fields = line.split()[1:len(CPU_STATES) + 1]
            out.append(tuple(int(v) / USER_HZ for v in fields) + (0.0,) * (len(CPU_STATES) - len(fields)))
    return out


def parse_pressure(text: str) -> dict[str, int]:
    """/proc/pressure/<resource> -> {"some": total_us, "full": total_us} (cumulative stall µs)."""
    out = {}
    for line in text.splitlines():
        kind, *fields = line.split()
        values = dict(f.split("=", 1) for f in fields)
        if "total" in values:
            out[kind] = int(values["total"])
    return out


def parse_stat_counters(text: str) -> dict[str, int]:
    """ctxt, intr (total), softirq (total), procs_running, procs_blocked from /proc/stat."""
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name in ("ctxt", "procs_running", "procs_blocked", "processes", "intr", "softirq"):
            out[name] = int(rest.split(None, 1)[0])   # intr and softirq: the total, then per source
    return out


def parse_tcp_states(*texts: str) -> dict[str, int]:
    """Socket counts by state from /proc/net/tcp and /proc/net/tcp6."""
    counts: dict[str, int] = {}
    for text in texts:
        for line in text.splitlines()[1:]:
            parts = line.split()
            if len(parts) > 3:
                state = TCP_STATES.get(int(parts[3], 16), "UNKNOWN")
                counts[state] = counts.get(state, 0) + 1
    return counts


NET_DEV_FIELDS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", None, None, None, None,
                  "tx_bytes", "tx_packets", "tx_errors", "tx_dropped")


def parse_net_dev(text: str) -> dict[str, dict[str, int]]:
    """/proc/net/dev: per interface bytes, packets, errors and drops, both directions."""
    out = {}
    for line in text.splitlines()[2:]:
        name, _, values = line.partition(":")
        numbers = values.split()
        if len(numbers) < 12:
            continue
        out[name.strip()] = {field: int(n) for field, n in zip(NET_DEV_FIELDS, numbers) if field}
    return out


def parse_sockstat(text: str) -> dict[str, dict[str, int]]:
    """/proc/net/sockstat: {"TCP": {"inuse": n, "orphan": n, "tw": n, "alloc": n, "mem": n}, ...}."""
    out = {}
    for line in text.splitlines():
        proto, _, rest = line.partition(":")
        fields = rest.split()
        out[proto] = {k: int(v) for k, v in zip(fields[::2], fields[1::2]) if v.isdigit()}
    return out


class ProcFS:
    """Reads /proc files. Host-wide files (not under /proc/<pid>) stay open and are
    re-read from offset 0: a fresh open of each costs more than its read (~10 µs
    of ~20 here), and the sampler reads a dozen of them every interval. Files
    under /proc/net are those of the network namespace this process had when it
    first read them (pyperf stays in the host's)."""

    CHUNK = 1 << 18

    def __init__(self, root: str = "/proc"):
        self.root = Path(root)
        self._fds: dict[str, int] = {}

    def read(self, relative: str) -> str:
        if relative[:1].isdigit() or relative.startswith(("self/", "thread-self/")):
            return (self.root / relative).read_text()
        fd = self._fds.get(relative)
        if fd is None:
            fd = self._fds[relative] = os.open(self.root / relative, os.O_RDONLY | os.O_CLOEXEC)
        chunks = [os.pread(fd, self.CHUNK, 0)]
        while len(chunks[-1]) == self.CHUNK:   # seq files re-position on pread
            chunks.append(os.pread(fd, self.CHUNK, self.CHUNK * len(chunks)))
        return b"".join(chunks).decode()

    def close(self) -> None:
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            os.close(fd)

    def read_optional(self, relative: str) -> str:
        try:
            return self.read(relative)
        except OSError:
            return ""

    def diskstats(self) -> dict[str, DiskCounters]:
        return parse_diskstats(self.read("diskstats"))

    def vmstat(self, wanted=None) -> dict[str, int]:
        return parse_key_values(self.read("vmstat"), wanted)

    def stat_counters(self) -> dict[str, int]:
        return parse_stat_counters(self.read("stat"))

    def meminfo(self) -> dict[str, int]:
        return parse_meminfo(self.read("meminfo"))

    def pressure(self, resource: str) -> dict[str, int]:
        """Empty when the kernel has no PSI (CONFIG_PSI=n or psi=0)."""
        return parse_pressure(self.read_optional(f"pressure/{resource}"))

    def net_dev(self) -> dict[str, dict[str, int]]:
        return parse_net_dev(self.read("net/dev"))

    def tcp_summary(self) -> dict[str, int]:
        """Cheap TCP socket counts (sockstat, snmp): established, time_wait, orphan, in use."""
        sockstat = parse_sockstat(self.read_optional("net/sockstat")).get("TCP", {})
        snmp = parse_snmp(self.read_optional("net/snmp")).get("Tcp", {})
        return {"ESTABLISHED": snmp.get("CurrEstab", 0), "TIME_WAIT": sockstat.get("tw", 0),
                "ORPHAN": sockstat.get("orphan", 0), "INUSE": sockstat.get("inuse", 0)}

    def tcp_states(self) -> dict[str, int]:
        return parse_tcp_states(self.read_optional("net/tcp"), self.read_optional("net/tcp6"))


def parse_snmp(text: str) -> dict[str, dict[str, int]]:
    """/proc/net/snmp: {"Tcp": {"OutSegs": n, "RetransSegs": n, ...}, ...} (header/value line pairs)."""
    out: dict[str, dict[str, int]] = {}
    lines = text.splitlines()
    for header, values in zip(lines[::2], lines[1::2]):
        name, _, keys = header.partition(":")
        _, _, nums = values.partition(":")
        out[name] = {k: int(v) for k, v in zip(keys.split(), nums.split()) if v.lstrip("-").isdigit()}
    return out
