"""Kernel memory of the agent's BPF maps: `pyperf record` with every default
probe, on this tree and (`--baseline-tree DIR`) on another checkout, one after
the other in one invocation; `--processes N` waking processes run meanwhile,
so the per-process maps hold what a host's processes put there. Per map (by
name, as the kernel has it): type, max entries, flags, and the memory the
kernel accounts to it (`memlock` in /proc/PID/fdinfo: charged to the agent's
memory cgroup on 5.11+, not in its resident memory). Per-CPU maps take their
values once per possible CPU: the last column scales those maps' memory, whole,
to `--cpus` (their bucket arrays, not per CPU, are a few per cent of it).

    sudo .venv/bin/python scripts/bench/bpf_memory.py [--processes 300] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, start_pyperf, stop
from memory_steady import PROBES
from pyperf.kernel.bpf_stats import BPF_SYSCALL, parse_fdinfo

BPF_MAP_GET_FD_BY_ID = 14
BPF_OBJ_GET_INFO_BY_FD = 15
PERCPU_TYPES = {5, 6, 10}       # percpu hash, percpu array, LRU percpu hash
TYPE_NAMES = {1: "hash", 2: "array", 5: "percpu_hash", 6: "percpu_array", 7: "stack_trace", 9: "lru_hash",
              10: "lru_percpu_hash", 27: "ringbuf", 29: "task_storage"}
WAKER = "import time\nwhile True: time.sleep(1)"


class MapInfo(ctypes.Structure):
    """The head of struct bpf_map_info (include/uapi/linux/bpf.h)."""
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32), ("key_size", ctypes.c_uint32),
                ("value_size", ctypes.c_uint32), ("max_entries", ctypes.c_uint32), ("map_flags", ctypes.c_uint32),
                ("name", ctypes.c_char * 16)]


def map_name(map_id: int) -> str:
    libc = ctypes.CDLL(None, use_errno=True)
    number = BPF_SYSCALL[platform.machine()]
    attr = (ctypes.c_uint32 * 4)(map_id, 0, 0, 0)
    fd = libc.syscall(number, BPF_MAP_GET_FD_BY_ID, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd < 0:
        return f"id {map_id}"
    try:
        info = MapInfo()
        query = (ctypes.c_uint64 * 2)(fd | ctypes.sizeof(info) << 32, ctypes.addressof(info))
        if libc.syscall(number, BPF_OBJ_GET_INFO_BY_FD, ctypes.byref(query), ctypes.sizeof(query)) < 0:
            return f"id {map_id}"
        return info.name.decode(errors="replace")
    finally:
        os.close(fd)


def maps_of(pid: int) -> dict[str, dict]:
    """{name: fdinfo fields} of the maps a process holds, each once."""
    found: dict[int, dict] = {}
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            info = parse_fdinfo(Path(f"/proc/{pid}/fdinfo/{fd}").read_text())
        except OSError:
            continue
        if "map_id" in info:
            found[int(info["map_id"])] = info
    named = {}
    for map_id, info in found.items():
        name = map_name(map_id)
        named[name if name not in named else f"{name} ({map_id})"] = info
    return named


def measure(tree: Path, processes: int, seconds: float) -> dict[str, dict]:
    wakers = [subprocess.Popen([sys.executable, "-S", "-c", WAKER]) for _ in range(processes)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            agent = start_pyperf(f"chdb://{tmp}/store", PROBES, "--cpu-budget", "0", "--spool-dir", f"{tmp}/spool",
                                 tree=tree)
            try:
                time.sleep(seconds)
                return maps_of(agent.pid)
            finally:
                stop(agent)
    finally:
        for w in wakers:
            w.kill()
            w.wait()


def possible_cpus() -> int:
    count = 0
    for part in Path("/sys/devices/system/cpu/possible").read_text().strip().split(","):
        low, _, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=300, help="waking processes while the maps fill")
    ap.add_argument("--seconds", type=float, default=10.0, help="after every probe attached")
    ap.add_argument("--baseline-tree", type=Path)
    ap.add_argument("--cpus", type=int, default=32, help="per-CPU maps scaled to this many possible CPUs")
    args = ap.parse_args()
    cpus = possible_cpus()
    runs = [("this", ROOT)] + ([("baseline", args.baseline_tree)] if args.baseline_tree else [])
    results = {label: measure(tree, args.processes, args.seconds) for label, tree in runs}
    mib = lambda info: int(info.get("memlock", 0)) / 2**20                      # noqa: E731
    scaled = lambda info: mib(info) * (args.cpus / cpus if int(info["map_type"]) in PERCPU_TYPES else 1)  # noqa: E731
    print(f"{len(PROBES.split(','))} probes, {args.processes} waking processes, {cpus} possible CPUs here; MiB")
    for label, maps in results.items():
        print(f"\n{label}:\n{'map':<24}{'type':<16}{'max entries':>12}{'flags':>7}{'MiB':>9}"
              f"{f'at {args.cpus} CPUs':>12}")
        for name, info in sorted(maps.items(), key=lambda kv: -mib(kv[1])):
            kind = TYPE_NAMES.get(int(info["map_type"]), info["map_type"])
            print(f"{name:<24}{kind:<16}{info['max_entries']:>12}{info['map_flags']:>7}"
                  f"{mib(info):>9.2f}{scaled(info):>12.1f}")
        print(f"{'total':<24}{'':<16}{'':>12}{'':>7}{sum(map(mib, maps.values())):>9.1f}"
              f"{sum(map(scaled, maps.values())):>12.1f}")
    if args.baseline_tree:
        this, base = (sum(map(mib, results[r].values())) for r in ("this", "baseline"))
        this_at, base_at = (sum(map(scaled, results[r].values())) for r in ("this", "baseline"))
        print(f"\nthis / baseline: {this / base:.3f} ({base:.1f} -> {this:.1f} MiB here), "
              f"{this_at / base_at:.3f} at {args.cpus} CPUs ({base_at:.1f} -> {this_at:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
