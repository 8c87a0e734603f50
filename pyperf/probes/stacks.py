"""Stack ids from a BPF stack-trace map turned into symbolised frames, root
first, the way the profile probe and the sched probe's off-CPU stacks store
them. bcc reads binaries of processes in containers through /proc/<pid>/root.

Symbols are cached per binary, not per process: an address in a file mapping
is keyed by the file (device, inode) and its offset in it, so the hundredth
short-lived `python3` or `sh` costs one read of /proc/<pid>/maps instead of
bcc loading every symbol table of the process again (that load is what made
symbolisation cost 19 % of a CPU with a new process per round). Addresses
outside file mappings (JIT code, perf maps) are resolved per process."""

from __future__ import annotations

import bisect
import os

KERNEL_SUFFIX = "_[k]"   # the flame graph convention for kernel frames
MAX_CACHED_SYMBOLS = 200_000   # (pid, address) -> name entries over all processes
MAX_BINARY_SYMBOLS = 500_000   # (device, inode, offset) -> name entries


def parse_maps(text: str) -> list[tuple[int, int, int, int, int]]:
    """File mappings of /proc/<pid>/maps as sorted (start, end, file offset, device, inode)."""
    out = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5 or fields[4] == "0":
            continue
        start, _, end = fields[0].partition("-")
        major, _, minor = fields[3].partition(":")
        out.append((int(start, 16), int(end, 16), int(fields[2], 16), (int(major, 16) << 20) | int(minor, 16),
                    int(fields[4])))
    out.sort()
    return out


def locate(maps: list[tuple[int, int, int, int, int]], address: int) -> tuple[int, int, int] | None:
    """(device, inode, offset in the file) of an address, or None outside file mappings."""
    i = bisect.bisect_right(maps, (address, float("inf"))) - 1
    if i >= 0:
        start, end, offset, dev, inode = maps[i]
        if start <= address < end:
            return dev, inode, address - start + offset
    return None


class StackSymbolizer:
    def __init__(self, bpf, stack_map: bytes):
        self.bpf = bpf
        self.stack_map = stack_map
        self._symbols: dict[int, dict[int, str]] = {}    # pid (-1: kernel) -> address -> name
        self._cached = 0
        self._maps: dict[int, list] = {}                  # pid -> parse_maps() of it
        self._by_binary: dict[tuple[int, int, int], str] = {}
        self.errors = 0
        self.resolved = 0        # addresses bcc had to resolve (the expensive part)

    def _symbol(self, address: int, pid: int) -> str:
        per_pid = self._symbols.get(pid)
        name = per_pid.get(address) if per_pid is not None else None
        if name is None:
            where = self._locate(pid, address) if pid >= 0 else None
            name = self._by_binary.get(where) if where is not None else None
            if name is None:
                name = self._resolve(address, pid)
                if where is not None:
                    if len(self._by_binary) > MAX_BINARY_SYMBOLS:
                        self._by_binary.clear()
                    self._by_binary[where] = name
            if self._cached > MAX_CACHED_SYMBOLS:
                self._symbols.clear()
                self._cached = 0
            self._symbols.setdefault(pid, {})[address] = name
            self._cached += 1
        return name

    def _resolve(self, address: int, pid: int) -> str:
        from bcc import BPF

        self.resolved += 1
        raw = BPF.sym(address, pid) if pid >= 0 else BPF.ksym(address)
        name = raw.decode("utf-8", "replace") if raw else "[unknown]"
        return name + KERNEL_SUFFIX if pid < 0 else name

    def _locate(self, pid: int, address: int) -> tuple[int, int, int] | None:
        maps = self._maps.get(pid)
        where = locate(maps, address) if maps is not None else None
        if where is None:
            # first sight of the process, or a library mapped since: read its maps (again)
            try:
                with open(f"/proc/{pid}/maps") as f:
                    maps = self._maps[pid] = parse_maps(f.read())
            except OSError:
                return None
            where = locate(maps, address)
        return where

    def frames(self, tgid: int, user_stack_id: int, kernel_stack_id: int) -> tuple[str, ...]:
        """Root-first frames: user frames, then kernel frames (the leaf last)."""
        frames = self._walk(user_stack_id, tgid) + self._walk(kernel_stack_id, -1)
        if not frames:
            self.errors += 1
            frames = ["[no stack]"]
        return tuple(frames)

    def _walk(self, stack_id: int, pid: int) -> list[str]:
        if stack_id < 0:
            return []
        try:
            addresses = list(self.bpf[self.stack_map].walk(stack_id))
        except KeyError:
            # released after an earlier interval while a new sample still pointed at it
            self.errors += 1
            return ["[stack gone]" + (KERNEL_SUFFIX if pid < 0 else "")]
        return [self._symbol(a, pid) for a in reversed(addresses)]

    def release(self, stack_ids) -> None:
        """Free stack ids whose counts were read, so the map never fills up."""
        stacks = self.bpf[self.stack_map]
        for stack_id in stack_ids:
            if stack_id >= 0:
                try:
                    del stacks[stacks.Key(stack_id)]
                except KeyError:
                    pass

    def forget_exited(self) -> None:
        """Drop the symbols of processes that have exited: ours, and bcc's per-process
        symbol tables, whose native memory bcc's Python side never frees (its
        SymbolCache has no destructor), so they are freed here."""
        from bcc import BPF
        from bcc.libbcc import lib

        for pid in [p for p in self._symbols if p >= 0 and not os.path.exists(f"/proc/{p}")]:
            self._cached -= len(self._symbols.pop(pid))
            self._maps.pop(pid, None)
        for pid in [p for p in self._maps if p not in self._symbols]:
            del self._maps[pid]
        caches = getattr(BPF, "_sym_caches", {})
        for pid in [p for p in caches if p >= 0 and not os.path.exists(f"/proc/{p}")]:
            cache = caches.pop(pid, None)
            if cache is not None and getattr(cache, "cache", None):
                lib.bcc_free_symcache(cache.cache, pid)
                cache.cache = None


def fold(frames) -> str:
    """Root-first frames as one folded string, the flame graph format; a ';' inside
    a frame name (rare: some C++ and JIT names) becomes ':' so frames stay apart."""
    return ";".join(frame.replace(";", ":") for frame in frames)

