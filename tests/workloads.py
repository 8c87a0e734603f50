"""Small, exactly countable workloads for accuracy tests and benchmarks."""

from __future__ import annotations

import errno
import mmap
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BLOCK = 4096


def direct_io(path: str, reads: int, writes: int, block: int = BLOCK, span_blocks: int = 4096) -> None:
    """`writes` then `reads` O_DIRECT requests of `block` bytes at distinct offsets."""
    buf = mmap.mmap(-1, block)          # page aligned, as O_DIRECT needs
    buf.write(os.urandom(block))
    fd = os.open(path, os.O_RDWR | os.O_DIRECT)
    try:
        for i in range(writes):
            os.pwrite(fd, buf, (i % span_blocks) * block)
        os.fsync(fd)
        for i in range(reads):
            os.preadv(fd, [buf], (i % span_blocks) * block)
    finally:
        os.close(fd)
        buf.close()


@dataclass
class DiskStats:
    reads: int
    read_sectors: int
    read_ms: int
    writes: int
    write_sectors: int
    write_ms: int


def diskstats(device: str, path: str = "/proc/diskstats") -> DiskStats:
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if f[2] == device:
            return DiskStats(int(f[3]), int(f[5]), int(f[6]), int(f[7]), int(f[9]), int(f[10]))
    raise LookupError(f"{device} not in {path}")


@contextmanager
def loop_device(tmp_dir: Path, size_mb: int = 64, backing_direct_io: bool = True):
    """A loop block device over a fresh file in `tmp_dir`. With a tmpfs folder and
    backing_direct_io=False the device is as fast and steady as memory (benchmarks)."""
    backing = tmp_dir / "loop.img"
    with open(backing, "wb") as f:
        f.truncate(size_mb << 20)
    direct = "on" if backing_direct_io else "off"
    dev = subprocess.run(["losetup", "--find", "--show", f"--direct-io={direct}", str(backing)],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


class PingPong:
    """Two forked processes bouncing one byte `round_trips` times over pipes,
    started by go() and kept alive (blocked) after done() until close()."""

    def __init__(self, round_trips: int):
        self.round_trips = round_trips
        ab, ba, self._go, self._done, self._exit = os.pipe(), os.pipe(), os.pipe(), os.pipe(), os.pipe()
        self.pids = []
        for role in ("a", "b"):
            pid = os.fork()
            if pid == 0:
                try:
                    os.read(self._go[0], 1)
                    for _ in range(round_trips):
                        if role == "a":
                            os.write(ab[1], b"x")
                            os.read(ba[0], 1)
                        else:
                            os.read(ab[0], 1)
                            os.write(ba[1], b"x")
                    os.write(self._done[1], b"d")
                    os.read(self._exit[0], 1)
                finally:
                    os._exit(0)
            self.pids.append(pid)

    def go(self) -> None:
        os.write(self._go[1], b"gg")

    def wait_done(self) -> None:
        got = b""
        while len(got) < 2:
            got += os.read(self._done[0], 2 - len(got))

    def close(self) -> None:
        os.write(self._exit[1], b"ee")
        for pid in self.pids:
            os.waitpid(pid, 0)


def context_switches(pid: int) -> tuple[int, int]:
    """(voluntary, involuntary) from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        values[key] = value.strip()
    return int(values["voluntary_ctxt_switches"]), int(values["nonvoluntary_ctxt_switches"])


def schedstat(pid: int) -> tuple[int, int, int]:
    """(on-CPU ns, run-queue wait ns, run count) from /proc/<pid>/schedstat."""
    on_cpu, run_delay, count = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(on_cpu), int(run_delay), int(count)


def stop_settled(pids, timeout_s: float = 10.0) -> None:
    """SIGSTOP each process and wait until it is off its CPU: stopped ('T' in
    /proc/<pid>/stat) and its schedstat unchanged over 20 ms. A stopped task's
    last switch-out has then happened, however long a busy run queue kept it
    from handling the signal."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        while True:
            state = stat_fields(pid)[0]
            before = schedstat(pid)
            time.sleep(0.02)
            if state == "T" and schedstat(pid) == before:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {pid} did not stop within {timeout_s} s")


def spinners(count: int, cpu: int) -> list[int]:
    """`count` forked busy loops pinned to one CPU; stop them with os.kill(pid, SIGKILL)."""
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            os.sched_setaffinity(0, {cpu})
            while True:
                pass
        pids.append(pid)
    return pids


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the name (state first): the name may hold
    spaces and parentheses, so the split starts at its last ')'."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def fault_counts(pid: int) -> tuple[int, int]:
    """(minflt, majflt) from /proc/<pid>/stat."""
    fields = stat_fields(pid)
    return int(fields[7]), int(fields[9])


class Child:
    """A forked process that runs `work()` when told to, then stays alive
    (blocked) until closed, so /proc/<pid> can be read after the work."""

    def __init__(self, work):
        self._go, self._done, self._exit = os.pipe(), os.pipe(), os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.read(self._go[0], 1)
                work()
                os.write(self._done[1], b"d")
                os.read(self._exit[0], 1)
            finally:
                os._exit(0)

    def run(self) -> None:
        os.write(self._go[1], b"g")
        os.read(self._done[0], 1)

    def close(self) -> None:
        os.write(self._exit[1], b"e")
        os.waitpid(self.pid, 0)


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3")


def lossy_loopback(inside: list[str], drop_probability: float = 0.0, mtu: int | None = None) -> None:
    """Loopback up in a network namespace (`inside`: the command prefix that enters
    it), optionally at `mtu` and dropping a share of incoming packets by iptables
    (there is no netem here)."""
    commands = [["ip", "link", "set", "lo", "up"]]
    if mtu:
        commands.append(["ip", "link", "set", "lo", "mtu", str(mtu)])
    if drop_probability:
        commands.append(["iptables", "-A", "INPUT", "-m", "statistic", "--mode", "random",
                         "--probability", str(drop_probability), "-j", "DROP"])
    for command in commands:
        subprocess.run([*inside, *command], check=True, capture_output=True)


@contextmanager
def network_namespace(name: str, drop_probability: float = 0.0, mtu: int | None = None):
    """A private network namespace, its loopback set by lossy_loopback."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        lossy_loopback(["ip", "netns", "exec", name], drop_probability, mtu)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def netns_snmp(name: str, table: str = "snmp") -> dict[str, dict[str, int]]:
    """/proc/net/snmp (or /proc/net/netstat, same format) inside a network namespace."""
    from pyperf.system.procfs import parse_snmp

    text = subprocess.run(["ip", "netns", "exec", name, "cat", f"/proc/net/{table}"],
                          capture_output=True, text=True, check=True).stdout
    return parse_snmp(text)


# Resends that RetransSegs counts but no program on tcp_retransmit_skb sees. On this
# kernel (6.18) every exit of __tcp_retransmit_skb, the only function besides
# tcp_rtx_synack that adds RetransSegs, passes the tracepoint (its code read back
# from the running kernel: tail-loss probes go through it too), yet in a container's
# network one lossy 20 MB transfer in ten (pyperf recording) to thirty has one or two
# resends that reach no program at all, the agent's and an independent one alike,
# with no recursion miss and no ring-buffer loss (scripts/bench/tcp_unseen.py; none
# in 30 transfers in a plain network namespace). Each is one skb: at most a 64 KiB
# GSO segment, 45 segments at MTU 1500 (seen: 1, 2, 42, 45 and 46 in a transfer).
UNSEEN_RESENDS = 2
MAX_RESEND_SEGMENTS = 45
REFUSED_BEFORE_BUILT = (errno.EBUSY, errno.EAGAIN)   # a resend's errors that RetransSegs does not count


def check_retransmits(sent: int, built: int, counted: int, at_most: int) -> None:
    """The probe's retransmitted segments against the namespace's RetransSegs:
    `counted` while the transfer ran, `at_most` until the probe stopped. `built`
    are the traced resends RetransSegs counts: it adds a resend once built, so one
    whose transmit then fails is counted (and traced with its error), one refused
    before (busy, no window: EBUSY, EAGAIN) is not; `sent`, those with no error."""
    assert sent <= built <= at_most, (sent, built, at_most)
    assert counted - built <= UNSEEN_RESENDS * MAX_RESEND_SEGMENTS, (built, counted)


TCP_TRANSFER = r"""
import socket, sys, threading
port, size = int(sys.argv[1]), int(sys.argv[2])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(8)
got = []
def sink():
    conn, _ = server.accept()
    n = 0
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        n += len(chunk)
    got.append(n)
    conn.close()
t = threading.Thread(target=sink)
t.start()
client = socket.create_connection(("127.0.0.1", port))
client.sendall(b"x" * size)
client.close()
t.join()
try:                                    # a refused connect: a reset and a failed connect
    socket.create_connection(("127.0.0.1", port + 1), timeout=5)
except OSError:
    pass
print(got[0])
"""


def tcp_transfer_in(namespace: str, port: int, size: int) -> subprocess.CompletedProcess:
    import sys
    return subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", TCP_TRANSFER,
                           str(port), str(size)], capture_output=True, text=True, timeout=300)
