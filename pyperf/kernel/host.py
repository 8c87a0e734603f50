"""Facts about the running kernel that probes and `pyperf doctor` check."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

TRACEFS = Path("/sys/kernel/tracing")
DEBUGFS = Path("/sys/kernel/debug")

# Capability bit numbers from include/uapi/linux/capability.h
CAPABILITIES = {"CAP_SYS_ADMIN": 21, "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_SYS_PTRACE": 19,
                "CAP_DAC_READ_SEARCH": 2, "CAP_SYS_RESOURCE": 24}
# what loading and attaching BPF programs takes (5.8+); CAP_SYS_ADMIN stands in for both
BPF_CAPABILITIES = ("CAP_BPF", "CAP_PERFMON")
# what reading other users' /proc/PID files (maps, root, mountinfo) and binaries takes
PROCESS_CAPABILITIES = ("CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH")


def kernel_release() -> str:
    return platform.release()


# BPF_F_NO_PREALLOC (include/uapi/linux/bpf.h)
NO_PREALLOC = 1


def hash_map_flags(release: str | None = None) -> int:
    """The flags pyperf's hash maps (not its per-CPU ones: bpf/common.h) are made
    with. From 6.1 (bpf_mem_alloc, commit 96da3f7d489d) tracing programs, perf-event
    ones included, may use hash maps that allocate an entry when it is inserted:
    memory then follows the live entries, not max_entries (the layer probe's file
    map alone took 38 MiB preallocated). Older kernels load such maps with a warning
    in the kernel log (run-time allocation there is unsafe): they keep preallocating."""
    version = re.match(r"(\d+)\.(\d+)", release or kernel_release())
    return NO_PREALLOC if version and (int(version[1]), int(version[2])) >= (6, 1) else 0


def is_mounted(path: Path, mounts_file: str = "/proc/self/mounts") -> bool:
    with open(mounts_file) as f:
        return any(line.split()[1] == str(path) for line in f if line.strip())


def ensure_tracefs() -> None:
    """bcc finds tracepoints through tracefs; fresh hosts may not mount it."""
    for path, fstype in ((TRACEFS, "tracefs"), (DEBUGFS, "debugfs")):
        if path.is_dir() and not is_mounted(path) and os.geteuid() == 0:
            subprocess.run(["mount", "-t", fstype, "nodev", str(path)], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tracepoint_exists(category: str, event: str) -> bool:
    for base in (TRACEFS, DEBUGFS / "tracing"):
        try:
            if (base / "events" / category / event).is_dir():
                return True
        except OSError:   # tracefs is root-only
            continue
    return False


def headers_dir() -> str | None:
    build = Path("/lib/modules") / kernel_release() / "build"
    return str(build.resolve()) if (build / "include").is_dir() else None


def effective_capabilities(status_file: str = "/proc/self/status") -> dict[str, bool]:
    cap_eff = 0
    with open(status_file) as f:
        for line in f:
            if line.startswith("CapEff:"):
                cap_eff = int(line.split()[1], 16)
    return {name: bool(cap_eff >> bit & 1) for name, bit in CAPABILITIES.items()}


def missing_capabilities(needed, status_file: str = "/proc/self/status") -> list[str]:
    """Those of `needed` this process lacks (CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON)."""
    have = effective_capabilities(status_file)
    admin = have["CAP_SYS_ADMIN"]
    return [c for c in needed if not have[c] and not (admin and c in BPF_CAPABILITIES)]


def cgroup_mode(mounts_file: str = "/proc/self/mounts") -> str:
    """"v2" (unified only), "v1", or "hybrid"."""
    with open(mounts_file) as f:
        types = {line.split()[2] for line in f if line.strip()}
    has_v1, has_v2 = "cgroup" in types, "cgroup2" in types
    if has_v1 and has_v2:
        return "hybrid"
    return "v1" if has_v1 else "v2" if has_v2 else "none"


def own_mount_ns() -> int:
    """This process's mount-namespace inode: the host's, since pyperf runs on the
    host (/proc/1/ns/mnt is not readable everywhere, even as root)."""
    return os.stat("/proc/self/ns/mnt").st_ino
