"""The disk probe against the kernel's own counters (/proc/diskstats), on a
loop device that only the test uses."""

import os
import time

import numpy as np
import pytest
from conftest import require_root
from workloads import diskstats, direct_io, loop_device

from pyperf.analysis.histogram import mean_us
from pyperf.probes.base import ProbeOptions
from pyperf.probes.disk import OPS, DiskProbe

READS, WRITES = 2000, 2000


def run_workload_under_probe(tmp_path, hooks: str, slow_io_ms: float = 10.0, ringbuf_pages=64):
    require_root()
    with loop_device(tmp_path) as dev:
        name = os.path.basename(dev)
        extra = {"disk.hooks": hooks, "disk.ringbuf_pages": str(ringbuf_pages)}
        probe = DiskProbe(ProbeOptions(slow_io_ms=slow_io_ms, extra=extra))
        probe.attach()
        try:
            before = diskstats(name)
            direct_io(dev, READS, WRITES)
            time.sleep(0.2)
            after = diskstats(name)
            batch = probe.drain(time.time())
        finally:
            probe.detach()
    rows = batch["disk_io"]
    mine = {op: {"ios": 0, "bytes": 0, "lat_us": 0, "hist": np.zeros(32, np.int64)} for op in OPS}
    for i, device in enumerate(rows["device"]):
        if device == name:
            m = mine[rows["op"][i]]
            m["ios"] += rows["ios"][i]
            m["bytes"] += rows["bytes"][i]
            m["lat_us"] += rows["latency_sum_us"][i]
            m["hist"] += np.asarray(rows["latency_hist"][i])
    # with the probe's own count of what it did not see, per device
    return name, mine, before, after, batch, {**probe.all_totals(), "unseen_by_device": probe.live()["unseen_ios"]}


@pytest.mark.parametrize("hooks", ["io", "legacy"])
def test_io_counts_and_bytes_match_diskstats(tmp_path, hooks):
    name, mine, before, after, _, totals = run_workload_under_probe(tmp_path, hooks)
    d_reads, d_writes = after.reads - before.reads, after.writes - before.writes
    assert d_reads >= READS and d_writes >= WRITES
    # never more than the kernel counted; short by the completions this kernel runs no
    # program for (up to ~1 % measured, docs/monitoring.md "Loss accounting")
    for ours, kernel in ((mine["read"]["ios"], d_reads), (mine["write"]["ios"], d_writes),
                         (mine["read"]["bytes"], (after.read_sectors - before.read_sectors) * 512),
                         (mine["write"]["bytes"], (after.write_sectors - before.write_sectors) * 512)):
        assert 0.98 * kernel <= ours <= kernel, (ours, kernel)
    # and the probe says how many it did not see, exactly
    unseen = d_reads + d_writes - mine["read"]["ios"] - mine["write"]["ios"] - mine["other"]["ios"]
    assert totals["unseen_by_device"].get(name, 0) == unseen
    assert totals["unseen_ios"] >= unseen
    # the histogram holds every completed request
    for op in ("read", "write"):
        assert mine[op]["hist"].sum() == mine[op]["ios"]


def test_latency_agrees_with_diskstats_time_per_io(tmp_path):
    """diskstats keeps ms per request class; pyperf times from the same start
    (request creation), so total time must agree within 5 % (+2 ms of diskstats
    rounding). The histogram's mean uses bucket midpoints, so it can only agree
    within the width of a log2 bucket: a factor of 1.5 either way."""
    name, mine, before, after, _, _ = run_workload_under_probe(tmp_path, "io")
    for op, ios, ms in (("read", after.reads - before.reads, after.read_ms - before.read_ms),
                        ("write", after.writes - before.writes, after.write_ms - before.write_ms)):
        ours_ms = mine[op]["lat_us"] / 1000
        assert abs(ours_ms - ms) <= 0.05 * ms + 2, (op, ours_ms, ms)
        kernel_mean_us = ms * 1000 / ios
        hist_mean = mean_us(mine[op]["hist"])
        assert kernel_mean_us / 1.5 <= hist_mean <= kernel_mean_us * 1.5, (op, hist_mean, kernel_mean_us)


def test_slow_ios_become_events_with_process_and_size(tmp_path):
    # A threshold of 1 µs makes every request "slow": each must come back as one event.
    name, mine, before, after, batch, totals = run_workload_under_probe(
        tmp_path, "io", slow_io_ms=0.001, ringbuf_pages=1024)
    events = batch["disk_slow_io"]
    on_dev = [i for i, d in enumerate(events["device"]) if d == name]
    total_ios = mine["read"]["ios"] + mine["write"]["ios"] + mine["flush"]["ios"]
    assert totals["lost"] == 0
    assert len(on_dev) == total_ios
    # Completions the kernel accounted but never ran our programs for. On this VM's
    # kernel (6.18) up to about one in a hundred go unseen, uncounted in recursion_misses,
    # while ftrace on the same tracepoints sees every one (docs/monitoring.md, loss accounting).
    kernel_ios = (after.reads - before.reads) + (after.writes - before.writes)
    unseen = kernel_ios - (mine["read"]["ios"] + mine["write"]["ios"])
    assert 0 <= unseen <= 0.02 * kernel_ios, (unseen, kernel_ios)
    # a request the block layer dispatches later from kblockd carries that worker's pid:
    # a few of ours may, so the exact count is over the device, the attribution nearly all
    ours = [i for i in on_dev if events["pid"][i] == os.getpid()]
    assert len(ours) >= READS + WRITES - unseen - 5
    # fsync may add an empty (preflush) write: every request that carried data was one 4 KiB block
    data = [i for i in on_dev if events["bytes"][i] > 0]
    assert READS + WRITES - unseen <= len(data) <= READS + WRITES, (len(data), unseen)
    assert len([i for i in data if i in set(ours)]) >= len(data) - 5
    assert {events["bytes"][i] for i in data} == {4096}
    assert all(events["comm"][i] for i in ours)
    assert {events["op"][i] for i in ours} <= {"read", "write", "flush"}
    now = time.time()
    assert all(now - 60 < events["ts"][i] <= now for i in on_dev)


def test_events_that_do_not_fit_are_counted_as_lost(tmp_path):
    # 16 pages hold 1024 events: most of the ~8000 (loop device + its backing disk) cannot fit.
    _, _, _, _, batch, totals = run_workload_under_probe(
        tmp_path, "io", slow_io_ms=0.001, ringbuf_pages=16)
    stored = len(batch["disk_slow_io"]["ts"])
    assert 0 < stored <= 1024
    assert totals["lost"] > 0
    assert stored + totals["lost"] == totals["ios"]


def test_queue_depth_is_reported_per_device(tmp_path):
    name, _, _, _, batch, _ = run_workload_under_probe(tmp_path, "io")
    q = batch["disk_queue"]
    i = q["device"].index(name)
    assert q["queue_depth_max"][i] >= 1          # one synchronous request at a time
    assert 0 < q["queue_depth_avg"][i] <= q["queue_depth_max"][i]


def test_starts_crowded_out_of_their_slots_are_counted_and_nothing_else_is_lost(tmp_path):
    """Four start slots (disk.start_bits 1) and eight writers in parallel: starts
    that find both slots taken are counted as lost_starts, while the device's
    counts stay those of /proc/diskstats and the in-flight count comes back to
    zero (an evicted start leaves it as its done will not find it)."""
    require_root()
    with loop_device(tmp_path) as dev:
        name = os.path.basename(dev)
        probe = DiskProbe(ProbeOptions(extra={"disk.start_bits": "1"}))
        probe.attach()
        try:
            before = diskstats(name)
            writers = []
            for _ in range(8):
                pid = os.fork()
                if pid == 0:
                    try:
                        direct_io(dev, 250, 250)
                    finally:
                        os._exit(0)
                writers.append(pid)
            for pid in writers:
                os.waitpid(pid, 0)
            time.sleep(0.2)
            after = diskstats(name)
            batch = probe.drain(time.time())
            time.sleep(0.2)
            idle = probe.drain(time.time())
            totals = probe.totals()
        finally:
            probe.detach()
    rows = batch["disk_io"]
    mine = [(n, b) for device, op, n, b in zip(rows["device"], rows["op"], rows["ios"], rows["bytes"])
            if device == name and op in ("read", "write")]      # diskstats counts flushes apart
    kernel = after.reads - before.reads + after.writes - before.writes
    kernel_bytes = (after.read_sectors - before.read_sectors + after.write_sectors - before.write_sectors) * 512
    assert 0.98 * kernel <= sum(n for n, _ in mine) <= kernel
    assert 0.98 * kernel_bytes <= sum(b for _, b in mine) <= kernel_bytes
    assert totals["lost_starts"] > 0
    queue = idle.get("disk_queue", {"device": [], "queue_depth_max": []})
    assert all(depth == 0 for device, depth in zip(queue["device"], queue["queue_depth_max"]) if device == name)
