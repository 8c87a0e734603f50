"""Small, exactly countable workloads for accuracy tests and benchmarks."""

from __future__ import annotations

import mmap
import os
import subprocess
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
