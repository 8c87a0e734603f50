"""Memory of `pyperf record` (every probe) over a long run at a steady high
event rate: process churn (a short-lived process every few ms: new pids,
comms and stacks for every per-process table), disk I/O on a private loop
device, loopback TCP connections, pinned to CPU 1; pyperf pinned to CPU 0, the
governor off so the rate stays what the workload makes it.

Prints RSS every sample and, as ratios, RSS at the end against RSS after the
warm-up (first 5 minutes) and the growth per hour fitted after the warm-up.
Goal: flat (ratio ~1.0, growth ~0). Each sample also shows what the agent costs,
% of one CPU: its own threads (user + system) and its BPF programs' run time
(kernel.bpf_stats_enabled is on for the run; they run in the workload's
context), and at the end the rows a second it stored: with the workload, a
busy host's cost.

    sudo .venv/bin/python scripts/bench/memory_steady.py [--minutes 30] [--sample-s 30]

`--load mix`: 300 steady processes instead of the churn (see workloads()).
`--idle` runs no workload (resident memory of an agent on a quiet host); every
sample shows RSS split into anonymous and file-backed pages (RssAnon, RssFile),
and the anonymous pages by whose they look (anon_split()).
`--burst-at MIN`: at that minute, a burst on top of the load: tests/programs/
churn.c's BURST_ROUNDS rounds (a server and a client process each, one TCP
connection), on CPU 1 as fast as it goes.

RSS is also read every 10 ms between samples: each sample line shows the
highest value since the one before, and every rise of more than
PEAK_RISE_MIB over the sample before is printed with the agent's threads that
used most CPU in the second before its top (a rollup runs in a Python thread,
a background merge in the engine's own pool threads).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from common import CLK_TCK, ROOT, bpf_stats, start_pyperf, stop   # noqa: F401  (sys.path set up there)
from conftest import ClickHouseTestServer, unused_port
from workloads import loop_device

PROBES = "disk,sched,faults,tcp,profile,response,layers,containers,system"
BURST_ROUNDS = 20_000
CHURN_C = ROOT / "tests" / "programs" / "churn.c"
WARMUP_S = 300
PEAK_RISE_MIB = 60


class PeakWatch(threading.Thread):
    """RSS every 10 ms; threads' CPU every 0.25 s, to name what ran at a peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.lock = threading.Lock()
        self.high, self.high_at, self.high_threads = 0.0, 0.0, []
        self._cpu: list[tuple[float, dict[str, float]]] = []

    def take(self) -> tuple[float, float, list]:
        """Highest RSS since the last take, when, and the threads busiest then."""
        with self.lock:
            out = (self.high, self.high_at, self.high_threads)
            self.high, self.high_threads = 0.0, []
            return out

    def run(self) -> None:
        page = 4096 / 2**20
        next_cpu = 0.0
        with open(f"/proc/{self.pid}/statm") as statm:
            while not self.stop.wait(0.01):
                try:
                    statm.seek(0)
                    rss = int(statm.read().split()[1]) * page
                except (OSError, ValueError):
                    return
                now = time.monotonic()
                if now >= next_cpu:
                    next_cpu = now + 0.25
                    self._cpu = [c for c in self._cpu if c[0] > now - 1.5] + [(now, threads_cpu(self.pid))]
                with self.lock:
                    if rss > self.high:
                        self.high, self.high_at = rss, now
                        old, new = self._cpu[0][1], self._cpu[-1][1]
                        used = {name: new[name] - old.get(name, 0.0) for name in new}
                        self.high_threads = sorted(((v, k) for k, v in used.items() if v > 0.01), reverse=True)[:4]


def threads_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads of one name summed)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


# store_bytes.py's busy host as near as a 2-vCPU VM makes it: 300 processes that each
# run every second (a row per process a second in the per-process tables) and touch
# fresh memory (page faults) and read files now and then (the page cache), no exec
# churn; the disk and TCP loads as in workloads()
WORKERS = 300
WORKER = f"""
import mmap, os, random, time
for _ in range({WORKERS}):
    if os.fork() == 0:
        random.seed(os.getpid())
        lib = os.path.dirname(os.__file__)
        files = [os.path.join(lib, n) for n in sorted(os.listdir(lib)) if n.endswith(".py")][:40]
        n = 0
        while True:
            time.sleep(random.uniform(0.8, 1.2))
            with mmap.mmap(-1, 256 << 10) as buf:        # fresh pages each time: 64 page faults
                for page in range(0, 256 << 10, 4096):
                    buf[page] = 1
            sum(range(2000))
            n += 1
            if n % 5 == 0:
                try:
                    with open(random.choice(files), "rb") as f:
                        f.read(16384)
                except OSError:
                    pass
os.wait()
"""


def workloads(dev: str, load: str = "churn") -> list[subprocess.Popen]:
    """`churn`: a short-lived process every ~5 ms; `mix`: WORKERS steady processes
    instead (WORKER); both with O_DIRECT reads of `dev` and loopback TCP."""
    churn = "while :; do /bin/true; sleep 0.005; done"
    disk = f"while :; do dd if={dev} of=/dev/null bs=4k count=256 iflag=direct 2>/dev/null; sleep 0.05; done"
    tcp = ("import socket,threading,time\n"
           "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(128); port=s.getsockname()[1]\n"
           "def serve():\n"
           "    while True:\n"
           "        c,_=s.accept(); c.recv(64); c.sendall(b'ok'); c.close()\n"
           "threading.Thread(target=serve,daemon=True).start()\n"
           "while True:\n"
           "    c=socket.create_connection(('127.0.0.1',port)); c.sendall(b'hi'); c.recv(8); c.close()\n"
           "    time.sleep(0.01)\n")
    first = ["sh", "-c", churn] if load == "churn" else [sys.executable, "-c", WORKER]
    return [subprocess.Popen(["taskset", "-c", "1", *first], start_new_session=True),
            subprocess.Popen(["taskset", "-c", "1", "sh", "-c", disk], start_new_session=True),
            subprocess.Popen(["taskset", "-c", "1", sys.executable, "-c", tcp], start_new_session=True)]


def stop_load(load: list[subprocess.Popen]) -> None:
    """Each load with what it started (its own process group: the shells' children, the workers)."""
    for p in load:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def anon_split(pid: int) -> dict[str, float]:
    """Resident anonymous MiB by whose the mappings look: glibc's main arena
    ([heap]) and its thread arenas (a read-write start of a 64 MiB-aligned,
    64 MiB reservation: HEAP_MAX_SIZE), and the rest by mapping size (Python's
    object arenas are 1 MiB; large numpy arrays and the engine's allocator map
    their own)."""
    heap_max = 64 << 20
    maps: list[list] = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(maxsplit=5)
            if head and "-" in head[0] and not head[0].endswith(":"):
                start, end = (int(x, 16) for x in head[0].split("-"))
                maps.append([start, end, head[1], head[5].strip() if len(head) > 5 else "", 0])
            elif head and head[0] == "Rss:":
                maps[-1][4] = int(head[1])
    out: dict[str, float] = {}
    for i, (start, end, perm, name, rss_kb) in enumerate(maps):
        if name == "[heap]":
            kind = "glibc main"
        elif name or not perm.startswith("rw"):
            continue
        elif start % heap_max == 0 and (end - start == heap_max or (
                i + 1 < len(maps) and maps[i + 1][0] == end and maps[i + 1][1] - start == heap_max
                and maps[i + 1][2].startswith("---"))):
            kind = "glibc threads"
        else:
            mib = (end - start) >> 20
            kind = "other <2M" if mib < 2 else "other 2-8M" if mib < 8 else "other >=8M"
        out[kind] = out.get(kind, 0.0) + rss_kb / 1024
    return out


def burst(binary: str) -> None:
    started = time.monotonic()
    churn = subprocess.run(["taskset", "-c", "1", binary, str(BURST_ROUNDS)], capture_output=True, text=True)
    print(f"  burst: {2 * BURST_ROUNDS} processes in {time.monotonic() - started:.1f} s "
          f"(exit {churn.returncode})", flush=True)


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.startswith("Rss"):
                out[key] = int(value.split()[0])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--sample-s", type=float, default=30.0)
    ap.add_argument("--probes", default=PROBES)
    ap.add_argument("--idle", action="store_true", help="no workload")
    ap.add_argument("--load", choices=("churn", "mix"), default="churn", help="see workloads()")
    ap.add_argument("--burst-at", type=float, metavar="MIN", help="a burst of short-lived processes then")
    ap.add_argument("--http", action="store_true",
                    help="store into the chDB-backed HTTP test server (its own process) instead of embedded chDB")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bpf_stats.stats_enabled():
        with loop_device(Path(tmp)) as dev:
            load = [] if args.idle else workloads(dev, args.load)
            burst_binary = f"{tmp}/pyperf-churn"
            if args.burst_at is not None:
                subprocess.run(["gcc", "-O1", "-o", burst_binary, str(CHURN_C)], check=True)
            server = None
            if args.http:
                server = ClickHouseTestServer(Path(tmp) / "server", unused_port()).start()
            dsn = server.dsn if server else f"chdb://{tmp}/store"
            # a run of over an hour must not outlive the agent (start_pyperf's default is 1h)
            pyperf = start_pyperf(dsn, args.probes, "--cpu-budget", "0", "--spool-dir", f"{tmp}/spool",
                                  "--duration", f"{int(args.minutes) + 5}m")
            samples, cpu_pcts, highest = [], [], 0.0
            watch = PeakWatch(pyperf.pid)
            watch.start()
            try:
                proc = psutil.Process(pyperf.pid)
                last_rss = proc.memory_info().rss / 2**20
                start, started_at = time.monotonic(), time.time()
                last_cpu, last_t = sum(proc.cpu_times()[:2]), start
                last_bpf = bpf_stats.total(bpf_stats.programs_of(pyperf.pid))[1]
                burst_due = None if args.burst_at is None else start + args.burst_at * 60
                while time.monotonic() - start < args.minutes * 60:
                    time.sleep(max(0.0, min(args.sample_s, (burst_due or float("inf")) - time.monotonic())))
                    if burst_due is not None and time.monotonic() >= burst_due:
                        burst_due = None
                        threading.Thread(target=burst, args=(burst_binary,), daemon=True).start()
                        continue
                    t = time.monotonic() - start
                    rss = proc.memory_info().rss / 2**20
                    samples.append((t, rss))
                    high, high_at, busy = watch.take()
                    highest = max(highest, high)
                    if high - max(rss, last_rss) > PEAK_RISE_MIB:
                        print(f"  peak {high:7.1f} MiB at {(high_at - start) / 60:6.2f} min; busiest threads "
                              f"in the second before: " + ", ".join(f"{n} {s:.2f} s" for s, n in busy), flush=True)
                    last_rss = rss
                    split, anon = status_kb(pyperf.pid), anon_split(pyperf.pid)
                    cpu, now = sum(proc.cpu_times()[:2]), time.monotonic()
                    bpf_ns = bpf_stats.total(bpf_stats.programs_of(pyperf.pid))[1]
                    cpu_pct = 100 * (cpu - last_cpu) / (now - last_t)
                    bpf_pct = 100 * (bpf_ns - last_bpf) / 1e9 / (now - last_t)
                    last_cpu, last_t, last_bpf = cpu, now, bpf_ns
                    # a program gone from the agent's set (a probe detaching) takes its run time with it
                    if t >= WARMUP_S / 5 and bpf_pct >= 0:
                        cpu_pcts.append((cpu_pct, bpf_pct))
                    print(f"{t / 60:6.1f} min  RSS {rss:7.1f} MiB (highest since the last {high:7.1f}; anonymous {split['RssAnon'] / 1024:.1f}, "
                          f"file-backed {split['RssFile'] / 1024:.1f}, shared memory {split['RssShmem'] / 1024:.1f}; "
                          "anonymous: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(anon.items())) + ")"
                          f"  CPU {cpu_pct:5.2f} + BPF {bpf_pct:5.2f} = {cpu_pct + bpf_pct:5.2f} % of one CPU",
                          flush=True)
            finally:
                try:
                    # watched too: the stop's last flush and rollups (an hour's, when the run crossed
                    # one less than the rollup's lag and a maintenance period before its end)
                    stop(pyperf)
                finally:
                    watch.stop.set()
                    stop_load(load)
            at_stop = watch.take()[0]
            stored = rows_stored(dsn, started_at)
            if server:
                server.stop()
    steady = [(t, r) for t, r in samples if t >= min(WARMUP_S, samples[-1][0] / 2)]
    t, r = np.array(steady).T
    slope_per_h = float(np.polyfit(t / 3600, r, 1)[0]) if len(t) > 1 else 0.0
    print(f"\nRSS after warm-up {r[0]:.1f} MiB, at the end {r[-1]:.1f} MiB: "
          f"ratio end/warm-up {r[-1] / r[0]:.3f}; fitted growth {slope_per_h:+.1f} MiB/hour; "
          f"highest {highest:.1f} MiB (read every 10 ms) over {samples[-1][0] / 60:.0f} min; "
          f"at the stop (last drain, flush and rollups) {at_stop:.1f} MiB")
    if cpu_pcts:
        own, bpf = np.array(cpu_pcts).T
        print(f"agent CPU after the first minute, % of one CPU: process mean {own.mean():.2f} (max {own.max():.2f}), "
              f"BPF mean {bpf.mean():.2f}; in total mean {(own + bpf).mean():.2f}, max {(own + bpf).max():.2f}")
    print(f"stored {stored / (samples[-1][0]):.0f} rows/s (raw tables)")
    return 0


def rows_stored(dsn: str, since: float) -> int:
    """Rows the run wrote into the raw tables (the rollups' own rows left out)."""
    import datetime as dt

    from pyperf.schema import catalog
    from pyperf.store.dsn import parse_dsn
    from pyperf.store.store import Store

    store = Store(parse_dsn(dsn)).open(migrate=False)
    try:
        start = dt.datetime.fromtimestamp(since, dt.timezone.utc)
        return sum(store.query(f"SELECT count() FROM `{t.name}` WHERE ts >= {{s:DateTime64(3)}}",
                               {"s": start}).rows[0][0] for t in catalog.tables() if "ts" in t.names())
    finally:
        store.close()


def rows_stored_elsewhere(dsn: str, since: float) -> int:
    """rows_stored() in a child process: an embedded store's engine stays in the
    process that opened it, and a bench measures several."""
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                          "from memory_steady import rows_stored; print(rows_stored(sys.argv[2], float(sys.argv[3])))",
                          str(Path(__file__).parent), dsn, repr(since)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


if __name__ == "__main__":
    sys.exit(main())
