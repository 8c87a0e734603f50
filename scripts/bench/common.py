"""What the overhead benchmarks share: starting pyperf or a peer tool pinned to
CPU 0, its CPU time, and the kernel-side run time of its BPF programs."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pyperf.kernel import bpf_stats  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _exit(signum, frame):
    raise SystemExit(128 + signum)


# A bench stopped with kill (not ^C) runs its `finally` blocks too: its loads run in
# sessions of their own and outlived it otherwise, loading every run after (a CI run's
# disk tests read a loop device an orphaned dd kept reading, 2026-12-06)
signal.signal(signal.SIGTERM, _exit)


def anon_mib() -> float:
    """This process's anonymous resident memory, MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK     # utime + stime


CHDB_THREADS = ("BgSchPool", "PoolDelayExec", "MemoryWorker", "BgStrmSchPool", "BgMBSchPool", "BgDistSchPool",
                "BgBufSchPool", "MergeMutate", "Fetch", "Move", "Common", "QueryPipelineEx", "ThreadPool",
                "TCPHandler", "ClickHouseLoc", "QueryPullPipeEx", "AsyncMetrics", "SystemLogFlush", "ConfigReloader",
                "TraceCollector", "MergeTreeIndex", "IOThreadPool", "ActiveParts", "Outdated", "QueryCompPipeEx")


def thread_cpu(pid: int) -> collections.Counter:
    """CPU seconds of a process's live threads by group: the engine's (chdb), Python's
    and pyperf's own (python), any other by its name. Threads that exited are not
    counted: a group is a share, the process total (cpu_seconds) the sum."""
    out: collections.Counter = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        group = "chdb" if comm.startswith(CHDB_THREADS) else "python" if comm.startswith(("python", "pyperf")) \
            else comm
        out[group] += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def start_pyperf(store: str, probes: str, *extra: str, tree: Path = ROOT) -> subprocess.Popen:
    """`pyperf record` with the given probes, pinned to CPU 0, once every probe attached;
    `tree`: the checkout whose pyperf runs (a baseline's, to compare in one invocation)."""
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "pyperf", "--store", store, "record",
         "--probes", probes, "--duration", "1h", *extra],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tree)
    waiting = set(probes.split(","))
    for line in proc.stderr:
        for name in list(waiting):
            if f"probe {name} attached" in line:
                waiting.discard(name)
        if not waiting:
            # keep reading: a full pipe would stop the agent at its next log line
            threading.Thread(target=_forward, args=(proc.stderr,), daemon=True).start()
            return proc
    raise SystemExit(f"pyperf did not start: exit {proc.wait()}")


def _forward(lines) -> None:
    for line in lines:
        print(f"  agent {time.strftime('%H:%M:%S')}: {line.rstrip()}", file=sys.stderr, flush=True)


def start_tool(cmd: list[str], timeout_s: float = 60.0) -> subprocess.Popen:
    """A peer tool (e.g. runqlat-bpfcc) pinned to CPU 0, once its BPF programs are loaded
    (bcc compiles for several seconds) and a moment more for it to attach."""
    proc = subprocess.Popen(["taskset", "-c", "0", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while not bpf_stats.programs_of(proc.pid):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise SystemExit(f"{cmd[0]} did not load its BPF programs (exit {proc.returncode})")
        time.sleep(0.2)
    time.sleep(1.0)
    return proc


class Meter:
    """CPU time of one process and the BPF run time of its programs over a window."""

    def __init__(self, pid: int):
        self.pid = pid
        self.cpu0 = cpu_seconds(pid)
        self.threads0 = thread_cpu(pid)
        self.runs0, self.bpf_ns0 = bpf_stats.total(bpf_stats.programs_of(pid))
        self.wall0 = time.perf_counter()

    def stop(self) -> dict:
        wall = time.perf_counter() - self.wall0
        runs, bpf_ns = bpf_stats.total(bpf_stats.programs_of(self.pid))
        threads = thread_cpu(self.pid)
        return {"wall_s": wall, "cpu_share": (cpu_seconds(self.pid) - self.cpu0) / wall,
                "bpf_runs": runs - self.runs0, "bpf_ns": bpf_ns - self.bpf_ns0,
                "python_share": (threads["python"] - self.threads0["python"]) / wall,
                "chdb_share": (threads["chdb"] - self.threads0["chdb"]) / wall}


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def vm_speed_ms() -> tuple[float, float]:
    """(best, worst) of five runs of a fixed pure-Python loop, in ms: how fast this
    VM runs right now. Its speed varies by the hour (the same loop 157 to 272 ms
    within a minute, 2026-12-03); a bench prints this beside its figures so runs
    of different hours can be told apart."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        sum(range(10_000_000))
        times.append((time.perf_counter() - started) * 1000)
    return min(times), max(times)
