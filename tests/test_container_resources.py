"""Per-container resources: cgroup parsers on literal text, and the live source
on real Docker against the cgroup files read directly."""

import math
import os
import time
from pathlib import Path

import pytest

from docker_env import container_pid, remove, run_container

from pyperf.containers.cgroup_stats import (CgroupReader, parse_cgroup_mounts, parse_cpu_max,
                                            parse_net_dev_totals, parse_proc_cgroup_paths,
                                            parse_v1_blkio, parse_v2_io_stat)
from pyperf.containers.source import RESCAN_MAX_S, ContainersSource

CID = "7cc0135cab1aacc068243e5f43ea2c90b86b56b0e7271df7db62360362830ce9"


def test_parsers_on_literal_text():
    mounts = ("cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
              "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
              "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
              "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
              "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n")
    v1, v2 = parse_cgroup_mounts(mounts)
    assert v1 == {"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
                  "memory": "/sys/fs/cgroup/memory"}
    assert v2 == "/sys/fs/cgroup/unified"
    paths, v2_path = parse_proc_cgroup_paths(f"4:memory:/docker/{CID}\n2:cpu,cpuacct:/docker/{CID}\n0::/docker/{CID}\n")
    assert paths["cpuacct"] == paths["memory"] == v2_path == f"/docker/{CID}"
    assert parse_v1_blkio("8:0 Read 4096\n8:0 Write 8192\n8:16 Read 1\n8:0 Total 12288\nTotal 12289\n") == (4097, 8192)
    assert parse_v2_io_stat("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0\n8:16 rbytes=5 wbytes=0 rios=1 wios=0\n") == \
        {"rbytes": 15, "wbytes": 20, "rios": 2, "wios": 2}
    assert parse_cpu_max("20000 100000\n") == 0.2 and parse_cpu_max("max 100000\n") is None
    dev = ("Inter-|\n face |\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n"
           "  eth0: 5000 10 0 0 0 0 0 0 7000 12 0 0 0 0 0 0\n")
    assert parse_net_dev_totals(dev) == (5000, 7000)


def read_cgroup_file(pid: int, controller: str, name: str) -> str:
    reader = CgroupReader()
    paths, v2_path = parse_proc_cgroup_paths(Path(f"/proc/{pid}/cgroup").read_text())
    if controller in reader.v1_mounts and controller in paths:
        return (Path(reader.v1_mounts[controller] + paths[controller]) / name).read_text()
    return (Path(reader.v2_mount + v2_path) / name).read_text()


def test_cpu_and_memory_match_the_cgroup_files(docker):
    run_container("pyperf-res", "sh", "-c", "while true; do :; done", extra=("--memory", "128m"))
    try:
        pid = container_pid("pyperf-res")
        source = ContainersSource()
        source.attach()
        usage_before = int(read_cgroup_file(pid, "cpuacct", "cpuacct.usage"))
        time.sleep(1.5)
        batch = source.drain(time.time())
        usage_after = int(read_cgroup_file(pid, "cpuacct", "cpuacct.usage"))
        memory_now = int(read_cgroup_file(pid, "memory", "memory.usage_in_bytes"))
    finally:
        remove("pyperf-res")
    rows = batch["container_resources"]
    i = rows["name"].index("pyperf-res")
    interval_s = rows["interval_ms"][i] / 1000
    ours_ns = rows["cpu_pct_of_host"][i] / 100 * interval_s * os.cpu_count() * 1e9
    assert ours_ns == pytest.approx(usage_after - usage_before, rel=0.01)
    assert rows["memory_bytes"][i] == pytest.approx(memory_now, rel=0.01)
    assert rows["memory_limit_bytes"][i] == 128 << 20
    assert 0 < rows["memory_pct_of_limit"][i] < 100
    assert math.isnan(rows["cpu_pct_of_limit"][i])        # no CPU limit set
    assert rows["pids"][i] == 1 and rows["runtime"][i] == "docker"


def test_a_cpu_limited_container_shows_throttling(docker):
    run_container("pyperf-throttled", "sh", "-c", "while true; do :; done", extra=("--cpus", "0.2"))
    try:
        source = ContainersSource()
        source.attach()
        time.sleep(1.5)
        batch = source.drain(time.time())
    finally:
        remove("pyperf-throttled")
    rows = batch["container_resources"]
    i = rows["name"].index("pyperf-throttled")
    assert rows["cpu_limit_cores"][i] == pytest.approx(0.2)
    assert rows["throttled_periods"][i] >= 10 and rows["throttled_us"][i] > 0
    assert 85 <= rows["cpu_pct_of_limit"][i] <= 110


def test_proc_is_walked_only_when_processes_were_created(docker):
    """The walk of /proc runs when the kernel's last pid moved (and once more at the
    next drain), when a member's process is gone, and every RESCAN_MAX_S; in
    between only the members' cgroup files are read."""
    run_container("pyperf-walk", "sleep", "600")
    try:
        now = [1000.0]
        last_pid = ["100"]
        source = ContainersSource(clock=lambda: now[0])
        source._last_pid = lambda: last_pid[0]
        source.attach()
        assert source.scans == 1

        def drain(advance_s: float) -> list[str]:
            now[0] += advance_s
            return source.drain(time.time())["container_resources"].get("name", [])

        assert "pyperf-walk" in drain(1.0) and source.scans == 2          # the walk after the first one
        assert "pyperf-walk" in drain(1.0) and source.scans == 2          # nothing new: no walk
        last_pid[0] = "101"
        drain(1.0)
        assert source.scans == 3                                          # a process was created: walked
        drain(1.0)
        assert source.scans == 4                                          # and once more
        drain(1.0)
        assert source.scans == 4
        drain(RESCAN_MAX_S)
        assert source.scans == 5                                          # the periodic walk
        remove("pyperf-walk")
        assert "pyperf-walk" not in drain(0.1) and source.scans == 6      # its process is gone
    finally:
        remove("pyperf-walk")


def test_with_the_namespace_watcher_host_processes_cause_no_walk_a_new_container_does(docker):
    """The namespace watcher (real BPF) counts namespaces announced at exec: processes
    the host starts in a namespace seen before move the kernel's last pid, not that
    count, and make no walk; a container started does, and its rows follow."""
    import subprocess

    from pyperf.containers.resolver import ContainerResolver
    from pyperf.containers.watcher import NamespaceWatcher

    now = [1000.0]
    watcher = NamespaceWatcher(ContainerResolver())
    watcher.start()
    source = ContainersSource(clock=lambda: now[0])
    source.namespaces_announced = lambda: watcher.announced
    try:
        source.attach()
        subprocess.run(["true"], check=True)         # this cgroup and namespace announced once
        deadline, seen = time.monotonic() + 10, -1
        while time.monotonic() < deadline and (watcher.announced == 0 or watcher.announced != seen):
            seen = watcher.announced                  # until the announcements settle
            time.sleep(0.3)

        def drain(advance_s: float = 1.0) -> list[str]:
            now[0] += advance_s
            return source.drain(time.time())["container_resources"].get("name", [])

        drain(), drain()
        scans, announced = source.scans, watcher.announced
        for _ in range(50):                           # the kernel's last pid moves 50 times
            subprocess.run(["true"], check=True)
        drain()
        assert watcher.announced == announced and source.scans == scans
        run_container("pyperf-ns-walk", "sleep", "600")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and watcher.announced == announced:
            time.sleep(0.05)
        assert watcher.announced > announced, "the container's first exec was not announced"
        assert "pyperf-ns-walk" in drain() and source.scans == scans + 1
        drain()
        assert source.scans == scans + 2                                  # and once more
    finally:
        watcher.stop()
        source.detach()
        remove("pyperf-ns-walk")


def test_a_container_started_after_attach_gets_rows(docker):
    source = ContainersSource()
    source.attach()
    run_container("pyperf-late", "sleep", "600")
    try:
        deadline = time.monotonic() + 10
        names = []
        while "pyperf-late" not in names and time.monotonic() < deadline:
            time.sleep(0.5)
            names = source.drain(time.time())["container_resources"].get("name", [])
    finally:
        remove("pyperf-late")
    assert "pyperf-late" in names
