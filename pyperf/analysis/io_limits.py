"""A container's I/O-per-second limits on one block device, in its cgroup files:
blkio.throttle.{read,write}_iops_device on cgroup v1, io.max on v2. Docker
has no `docker update` for device limits, so the fix for a noisy neighbour is
written here; it holds until the container restarts (then `docker run
--device-read-iops` is the lasting form, which the finding's text names).

The files are found from the container's main process (`docker inspect`), never
from a recorded path: an undo recomputes where to write."""

from __future__ import annotations

import os
from pathlib import Path

from pyperf.containers.cgroup_stats import parse_cgroup_mounts, parse_proc_cgroup_paths

UNLIMITED = 0          # how the limits read back when none is set


def device_numbers(device: str, sys_block: str = "/sys/class/block") -> tuple[int, int]:
    """(major, minor) of a block device by its kernel name (sda, loop3, nvme0n1)."""
    if not device or "/" in device or device.startswith("."):
        raise ValueError(f"{device!r} is not a block device name")
    major, _, minor = (Path(sys_block) / device / "dev").read_text().strip().partition(":")
    return int(major), int(minor)


def files_of(pid: int, proc: str = "/proc", mounts_file: str = "/proc/self/mounts") -> dict[str, Path]:
    """{"read": file, "write": file} (v1) or {"io.max": file} (v2) of the process's cgroup."""
    v1_mounts, v2_mount = parse_cgroup_mounts(Path(mounts_file).read_text())
    v1_paths, v2_path = parse_proc_cgroup_paths((Path(proc) / str(pid) / "cgroup").read_text())
    if "blkio" in v1_mounts and "blkio" in v1_paths:
        base = Path(v1_mounts["blkio"] + v1_paths["blkio"])
        return {"read": base / "blkio.throttle.read_iops_device", "write": base / "blkio.throttle.write_iops_device"}
    if v2_mount and v2_path is not None:
        return {"io.max": Path(v2_mount + v2_path) / "io.max"}
    raise ValueError(f"process {pid} has no blkio (v1) or io (v2) cgroup")


def read(files: dict[str, Path], major: int, minor: int) -> dict[str, int]:
    """{"read_iops": n, "write_iops": n}; 0 where no limit is set."""
    key = f"{major}:{minor}"
    out = {"read_iops": UNLIMITED, "write_iops": UNLIMITED}
    if "io.max" in files:
        for line in files["io.max"].read_text().splitlines():
            fields = line.split()
            if fields and fields[0] == key:
                for item in fields[1:]:
                    name, _, value = item.partition("=")
                    if name in ("riops", "wiops") and value != "max":
                        out["read_iops" if name == "riops" else "write_iops"] = int(value)
        return out
    for kind in ("read", "write"):
        for line in files[kind].read_text().splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[0] == key:
                out[f"{kind}_iops"] = int(fields[1])
    return out


def lines(files: dict[str, Path], major: int, minor: int, limits: dict[str, int]) -> list[tuple[Path, str]]:
    """(file, line) writes that set `limits` (0: none)."""
    key = f"{major}:{minor}"
    if "io.max" in files:
        r, w = (str(limits[k]) if limits[k] else "max" for k in ("read_iops", "write_iops"))
        return [(files["io.max"], f"{key} riops={r} wiops={w}")]
    return [(files[kind], f"{key} {limits[f'{kind}_iops']}") for kind in ("read", "write")]


def write(writes: list[tuple[Path, str]]) -> None:
    for path, line in writes:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
