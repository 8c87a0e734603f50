"""Kernel-side cost of BPF programs: run count and run time per program, read
from /proc/<pid>/fdinfo of the program fds while kernel.bpf_stats_enabled=1
(the kernel then times every program run with two clock reads: an empty
program on sched_switch measures 55-70 ns a run on this VM under load, which
is that clock, so it is switched on only while measuring)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STATS_SWITCH = Path("/proc/sys/kernel/bpf_stats_enabled")


@dataclass(frozen=True)
class ProgStats:
    prog_id: int
    run_cnt: int
    run_time_ns: int
    # runs the kernel skipped because the program was already running on that
    # CPU (a completion interrupting the same program): events never seen
    recursion_misses: int = 0


def parse_fdinfo(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def programs_of(pid: int | str = "self", proc_root: str = "/proc") -> dict[int, ProgStats]:
    """{prog_id: stats} for every BPF program fd the process holds."""
    return _stats_of((Path(proc_root) / str(pid) / "fdinfo").iterdir())


def of_fds(fds, proc_root: str = "/proc") -> dict[int, ProgStats]:
    """{prog_id: stats} of these program fds of this process: a few reads, where
    programs_of() reads the fdinfo of every fd the process holds."""
    return _stats_of(Path(proc_root) / "self" / "fdinfo" / str(fd) for fd in fds)


def _stats_of(fdinfo_paths) -> dict[int, ProgStats]:
    found: dict[int, ProgStats] = {}
    for path in fdinfo_paths:
        try:
            info = parse_fdinfo(path.read_text())
        except OSError:
            continue
        if "prog_id" in info and "run_cnt" in info:
            prog_id = int(info["prog_id"])
            found[prog_id] = ProgStats(prog_id, int(info["run_cnt"]), int(info["run_time_ns"]),
                                       int(info.get("recursion_misses", 0)))
    return found


def total(stats: dict[int, ProgStats]) -> tuple[int, int]:
    return sum(s.run_cnt for s in stats.values()), sum(s.run_time_ns for s in stats.values())


@contextmanager
def stats_enabled():
    """Turn kernel.bpf_stats_enabled on for the block, restoring it after."""
    before = STATS_SWITCH.read_text().strip()
    STATS_SWITCH.write_text("1")
    try:
        yield
    finally:
        if os.path.exists(STATS_SWITCH):
            STATS_SWITCH.write_text(before)


# bpf(2) syscall numbers; BPF_ENABLE_STATS (5.8+) keeps run-time stats on while the fd it returns is open
BPF_SYSCALL = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351, "riscv64": 280}
BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0


def enable_stats_fd() -> int | None:
    """An fd that keeps kernel BPF run-time accounting on until closed (refcounted by
    the kernel, so it never turns off accounting another tool asked for); None when
    the kernel or architecture does not offer it."""
    import ctypes
    import platform

    number = BPF_SYSCALL.get(platform.machine())
    if number is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint8 * 16)()       # union bpf_attr { struct { __u32 type; } enable_stats; }
    attr[0] = BPF_STATS_RUN_TIME
    fd = libc.syscall(number, BPF_ENABLE_STATS, ctypes.byref(attr), ctypes.sizeof(attr))
    return fd if fd >= 0 else None
