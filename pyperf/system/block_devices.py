"""Block device names from kernel dev_t numbers (major:minor → vda, nvme0n1, loop3).

The reader takes its /sys root as an argument so it can be tested on fixtures.
"""

from __future__ import annotations

from pathlib import Path


def split_dev(dev: int) -> tuple[int, int]:
    """The kernel-internal dev_t (major << 20 | minor) used by block tracepoints."""
    return dev >> 20, dev & ((1 << 20) - 1)


def parse_uevent(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


class BlockDeviceNames:
    """Caches names; unknown devices show as "major:minor"."""

    def __init__(self, sys_root: str = "/sys"):
        self.sys_root = Path(sys_root)
        self._cache: dict[int, str] = {}

    def name(self, dev: int) -> str:
        cached = self._cache.get(dev)
        if cached is None:
            cached = self._cache[dev] = self._lookup(*split_dev(dev))
        return cached

    def _lookup(self, major: int, minor: int) -> str:
        try:
            text = (self.sys_root / "dev" / "block" / f"{major}:{minor}" / "uevent").read_text()
        except OSError:
            return f"{major}:{minor}"
        return parse_uevent(text).get("DEVNAME") or f"{major}:{minor}"
