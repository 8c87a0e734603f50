"""The sched probe against the kernel's own per-task counters
(/proc/<pid>/status switch counts, /proc/<pid>/schedstat)."""

import os
import signal
import time
from collections import defaultdict

import numpy as np
import pytest
from conftest import require_root
from workloads import PingPong, context_switches, schedstat, spinners, stop_settled

from pyperf.analysis.histogram import quantile_us
from pyperf.probes.sched import SchedProbe


@pytest.fixture
def sched_probe():
    require_root()
    probe = SchedProbe()
    probe.attach()
    yield probe
    probe.detach()


def rows_for(batch, pid):
    rows = batch.get("sched_process", {})
    idx = [i for i, p in enumerate(rows.get("pid", [])) if p == pid]
    return {k: [rows[k][i] for i in idx] for k in rows}


def test_context_switches_match_proc_status(sched_probe):
    game = PingPong(20000)
    try:
        time.sleep(0.3)                          # both block on the start pipe
        before = {pid: context_switches(pid) for pid in game.pids}
        sched_probe.drain(time.time())
        game.go()
        game.wait_done()
        time.sleep(0.3)                          # both block again, waiting to exit
        after = {pid: context_switches(pid) for pid in game.pids}
        batch = sched_probe.drain(time.time())
    finally:
        game.close()
    for pid in game.pids:
        rows = rows_for(batch, pid)
        voluntary = sum(rows["voluntary_switches"])
        involuntary = sum(rows["involuntary_switches"])
        kernel_vol = after[pid][0] - before[pid][0]
        kernel_invol = after[pid][1] - before[pid][1]
        assert kernel_vol >= 10000       # most round trips block (some find the byte waiting)
        assert voluntary == pytest.approx(kernel_vol, rel=0.01)
        assert involuntary == pytest.approx(kernel_invol, rel=0.01, abs=3)
        assert rows["comm"][0]


def test_runqueue_latency_and_cpu_time_match_schedstat(sched_probe):
    """Three busy loops on one CPU wait for it about two thirds of the time."""
    pids = spinners(3, cpu=1)
    try:
        time.sleep(0.3)
        stop_settled(pids)                       # a stopped task switches out: counters settle
        before = {pid: schedstat(pid) for pid in pids}
        sched_probe.drain(time.time())
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        time.sleep(1.5)
        stop_settled(pids)
        after = {pid: schedstat(pid) for pid in pids}
        batch = sched_probe.drain(time.time())
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    hist = np.zeros(32, np.int64)
    for pid in pids:
        rows = rows_for(batch, pid)
        oncpu_us = sum(rows["oncpu_us"])
        runq_us = sum(rows["runq_latency_sum_us"])
        kernel_oncpu_us = (after[pid][0] - before[pid][0]) / 1000
        kernel_runq_us = (after[pid][1] - before[pid][1]) / 1000
        assert oncpu_us == pytest.approx(kernel_oncpu_us, rel=0.01, abs=100)
        assert runq_us == pytest.approx(kernel_runq_us, rel=0.01, abs=100)
        assert sum(rows["runq_waits"]) == after[pid][2] - before[pid][2]
        assert kernel_runq_us > 500_000                     # they really queued
        for h in rows["runq_latency_hist"]:
            hist += np.asarray(h)
    assert quantile_us(hist, 0.5) > 1000                    # ms-scale waits behind two others


def test_idle_sleeper_sees_near_zero_runqueue_latency(sched_probe):
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {0})
        for _ in range(200):
            time.sleep(0.002)
        os._exit(0)
    batch = None
    try:
        os.waitpid(pid, 0)
    finally:
        batch = sched_probe.drain(time.time())
    rows = rows_for(batch, pid)
    hist = np.sum([np.asarray(h) for h in rows["runq_latency_hist"]], axis=0)
    assert hist.sum() >= 100
    assert quantile_us(hist, 0.5) < 200
    offcpu = np.sum([np.asarray(h) for h in rows["offcpu_hist"]], axis=0)
    assert 1000 <= quantile_us(offcpu, 0.5) <= 8000         # the 2 ms sleeps


def test_offcpu_time_is_the_time_spent_asleep(sched_probe):
    """Blocked time comes from the scheduler's own clock readings (the wake-up's
    arrival on a CPU, the switch-out's arrival plus CPU time): its sum lies
    between what the sleeps asked for and the child's whole life."""
    sleeps, sleep_s = 100, 0.005
    born = time.monotonic()
    pid = os.fork()
    if pid == 0:
        for _ in range(sleeps):
            time.sleep(sleep_s)
        os._exit(0)
    try:
        os.waitpid(pid, 0)
        life_us = (time.monotonic() - born) * 1e6
    finally:
        batch = sched_probe.drain(time.time())
    rows = rows_for(batch, pid)
    offcpu_us, periods = sum(rows["offcpu_sum_us"]), sum(rows["offcpu_count"])
    assert periods >= sleeps                       # each sleep, ended by its wake-up
    assert sleeps * sleep_s * 1e6 * 0.98 <= offcpu_us <= life_us
    assert offcpu_us + sum(rows["oncpu_us"]) + sum(rows["runq_latency_sum_us"]) <= life_us


def test_per_cpu_rows_count_every_switch(sched_probe):
    time.sleep(0.5)
    batch = sched_probe.drain(time.time())
    cpu = batch["sched_cpu"]
    assert sorted(cpu["cpu"]) == list(range(os.cpu_count()))
    assert sum(cpu["context_switches"]) > 0


def test_per_process_rows_every_third_drain_count_all_three(sched_probe):
    """The governor's process_rows step: per-process rows come every third drain,
    covering the three intervals with nothing lost; per-CPU rows every drain."""
    game = PingPong(30000)
    try:
        time.sleep(0.3)
        before = {pid: context_switches(pid) for pid in game.pids}
        sched_probe.drain(time.time())                # the rows before the game
        sched_probe.process_every = 3
        started = time.monotonic()
        batches = []
        game.go()
        for _ in range(2):
            time.sleep(0.2)
            batches.append(sched_probe.drain(time.time()))
        game.wait_done()
        time.sleep(0.3)
        after = {pid: context_switches(pid) for pid in game.pids}
        batches.append(sched_probe.drain(time.time()))
        elapsed_ms = (time.monotonic() - started) * 1000
    finally:
        game.close()
    assert ["sched_process" in b for b in batches] == [False, False, True]
    assert all(b["sched_cpu"]["cpu"] for b in batches)
    for pid in game.pids:
        rows = rows_for(batches[-1], pid)
        assert sum(rows["voluntary_switches"]) == pytest.approx(after[pid][0] - before[pid][0], rel=0.01)
        assert rows["interval_ms"][0] == pytest.approx(elapsed_ms, abs=50)


def test_the_last_drain_takes_per_process_rows_that_are_not_due_yet():
    """A stop while the per-process rows are spaced out keeps what they counted."""
    import threading

    from pyperf.pipeline.collector import Collector

    require_root()
    batches = []

    class Writer:
        def submit(self, batch):
            batches.append(batch)

    probe = SchedProbe()
    collector = Collector([probe], Writer(), 0.25)
    collector.attach()
    probe.process_every = 100
    game = PingPong(5000)
    try:
        time.sleep(0.3)
        game.go()
        game.wait_done()
        collector.run(threading.Event(), duration_s=1.0)
    finally:
        game.close()
        collector.detach()
    rows = [b["sched_process"] for b in batches if "sched_process" in b]
    assert collector.intervals >= 4 and len(rows) == 1
    assert sum(v for p, v in zip(rows[0]["pid"], rows[0]["voluntary_switches"]) if p in game.pids) >= 5000


def test_offcpu_stacks_show_where_a_process_blocks(tmp_path):
    require_root()
    import subprocess
    from pathlib import Path

    from pyperf.probes.base import ProbeOptions

    binary = tmp_path / "pyperf-block"
    subprocess.run(["gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(binary),
                    str(Path(__file__).parent / "programs" / "block.c")], check=True)
    probe = SchedProbe(ProbeOptions(extra={"sched.offcpu_stacks": "1", "sched.offcpu_min_ms": "1"}))
    rows = defaultdict(list)

    def blocked_here() -> list[int]:
        # libc's nanosleep has no frame pointer, so a frame-pointer walk from inside it
        # skips its caller (pyperf_block_here): the stack reads main -> clock_nanosleep.
        return [i for i, pid in enumerate(rows["pid"]) if pid == blocker.pid
                and "main" in rows["folded"][i].split(";")
                and any("clock_nanosleep" in f and not f.endswith("_[k]") for f in rows["folded"][i].split(";"))]

    probe.attach()
    try:
        # 20 ms sleeps until killed: every drain symbolises while it lives, however late
        blocker = subprocess.Popen([str(binary), "1000", "20"])
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and sum(rows["count"][i] for i in blocked_here()) < 40:
                time.sleep(0.4)
                for k, values in probe.drain(time.time()).get("offcpu_stack", {}).items():
                    rows[k] += values
        finally:
            blocker.kill()
            blocker.wait()
    finally:
        probe.detach()
    here = blocked_here()
    assert here, [rows["folded"][i].split(";") for i, pid in enumerate(rows["pid"]) if pid == blocker.pid]
    blocked_ms = sum(rows["blocked_us"][i] for i in here) / 1000
    count = sum(rows["count"][i] for i in here)
    assert count >= 40
    assert 20 * count * 0.95 <= blocked_ms <= 20 * count * 1.5
    kernel = [f for i in here for f in rows["folded"][i].split(";") if f.endswith("_[k]")]
    assert any("nanosleep" in f for f in kernel)
    assert not any(f.startswith("bpf_prog_") for f in kernel)    # our own frames are skipped
