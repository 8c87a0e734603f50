"""Stack ids from a BPF stack-trace map turned into symbolised frames, root
first, the way the profile probe and the sched probe's off-CPU stacks store
them.

User frames: the address is placed in the process's mappings (/proc/<pid>/maps,
read once per process), and named from the mapped file's symbols, read once
per file (device, inode) for every process that maps it (elf_symbols.py), the
file opened through /proc/<pid>/map_files so a container's binaries are found
in its own root. Addresses outside any mapped file (JIT code, perf maps) and
files that cannot be read this way go to bcc's per-process resolver. Names are
cached per (process, address): a hot loop's addresses repeat every drain."""

from __future__ import annotations

import bisect
import io
import os
import re
from collections import OrderedDict

from pyperf.probes.elf_symbols import ElfSymbols, UnsupportedBinary
from pyperf.probes.process_table import ExitScan, live_tgids

KERNEL_SUFFIX = "_[k]"   # the flame graph convention for kernel frames
MAX_CACHED_SYMBOLS = 200_000   # (pid, address) -> name entries over all processes
MAX_SYMBOLS = 1_000_000        # symbols kept over all files (~40 MB), least recently used file dropped
MAX_REREAD_BACKOFF = 64        # drains between reads of one process's maps, at most


VDSO = ("[vdso]", 0)       # the kernel's vDSO: one image for every process, named from ours
EXECUTABLE_MAPPING = re.compile(rb"^([0-9a-f]+)-([0-9a-f]+) ..x. ([0-9a-f]+) (\S+) (\d+) *(.*)$", re.M)


class ProcessMaps:
    """The executable mappings of one process: file-backed ones keyed by (device,
    inode), the vDSO, and others (JIT code, anonymous) keyed None."""

    def __init__(self, pid: int, proc_root: str = "/proc"):
        self.pid = pid
        # one large read: the kernel formats as many lines as fit per call, under the
        # process's mmap lock, where a buffered read takes ~20 calls of 4 KB
        chunks = []
        with open(f"{proc_root}/{pid}/maps", "rb", buffering=0) as f:
            while chunk := f.read(1 << 18):
                chunks.append(chunk)
        text = b"".join(chunks)
        self.mappings: list[tuple[int, int, int, tuple[str, int] | None]] = []   # start, end, file offset, key
        for start, end, offset, dev, inode, path in EXECUTABLE_MAPPING.findall(text):
            if inode != b"0":
                key = (dev.decode(), int(inode))
            else:
                key = VDSO if path == b"[vdso]" else None
            self.mappings.append((int(start, 16), int(end, 16), int(offset, 16), key))
        self.mappings.sort()
        self.starts = [m[0] for m in self.mappings]

    def find(self, address: int):
        i = bisect.bisect_right(self.starts, address) - 1
        if i >= 0 and address < self.mappings[i][1]:
            return self.mappings[i]
        return None


def own_vdso() -> bytes:
    """This process's vDSO image (the same code every process on this kernel maps)."""
    for start, end, _offset, key in ProcessMaps(os.getpid()).mappings:
        if key == VDSO:
            with open("/proc/self/mem", "rb") as mem:
                mem.seek(start)
                return mem.read(end - start)
    raise OSError("no [vdso] mapping")


class _Gone:
    """In place of the maps of a process that has exited: no address is in them."""

    def find(self, address: int):
        return None


GONE = _Gone()


class StackSymbolizer:
    def __init__(self, bpf, stack_map: bytes):
        self.bpf = bpf
        self.stack_map = stack_map
        self._symbols: dict[int, dict[int, str]] = {}    # pid (-1: kernel) -> address -> name
        self._cached = 0
        self._maps: dict[int, ProcessMaps] = {}
        self._drain = 0                         # forget_exited() calls: one per drain
        self._scan = ExitScan()
        self._reread_at: dict[int, int] = {}    # pid -> first drain its maps may be read again
        self._backoff: dict[int, int] = {}
        self._binaries: OrderedDict[tuple[str, int], ElfSymbols | None] = OrderedDict()
        self._symbol_count = 0
        self.errors = 0

    def _symbol(self, address: int, pid: int) -> str:
        per_pid = self._symbols.get(pid)
        name = per_pid.get(address) if per_pid is not None else None
        if name is None:
            from bcc import BPF

            if pid < 0:
                raw = BPF.ksym(address)
                name = (raw.decode("utf-8", "replace") if raw else "[unknown]") + KERNEL_SUFFIX
            else:
                name = self._user_symbol(address, pid)
                if name is None:
                    raw = BPF.sym(address, pid)
                    name = raw.decode("utf-8", "replace") if raw else "[unknown]"
            if self._cached > MAX_CACHED_SYMBOLS:
                self._symbols.clear()
                self._cached = 0
            self._symbols.setdefault(pid, {})[address] = name
            self._cached += 1
        return name

    def _user_symbol(self, address: int, pid: int) -> str | None:
        """The name from the mapped file's own symbols; "[unknown]" for an address in a
        file without a symbol there or in no mapping at all (a frame the stack walker
        guessed in code built without frame pointers, an image the process has
        since replaced by exec, a process gone before its maps were read); None
        where bcc should try (JIT code, perf maps, files this reader does not take)."""
        mapping = self._mapping(address, pid)
        if mapping is None:
            return "[unknown]" if pid in self._maps else None
        start, end, offset, key = mapping
        if key is None:
            return None
        binary = self._binary(key, pid, start, end)
        if binary is None:
            return None
        return binary.name_at(address - start + offset) or "[unknown]"

    def _mapping(self, address: int, pid: int):
        maps = self._maps.get(pid)
        mapping = maps.find(address) if maps is not None else None
        if mapping is None and self._drain >= self._reread_at.get(pid, 0):
            # first sight of the process, or a library loaded since its maps were read; a
            # process whose misses persist (guessed frames) is read again ever less often
            backoff = self._backoff[pid] = min(MAX_REREAD_BACKOFF, 8 * self._backoff.get(pid, 0) or 1)
            self._reread_at[pid] = self._drain + backoff
            try:
                self._maps[pid] = maps = ProcessMaps(pid)
            except (FileNotFoundError, ProcessLookupError):
                # exited before its samples were read (a busy host's short-lived
                # processes): bcc could not name them either, after building a
                # symbol cache for the pid to find that out
                self._maps[pid] = GONE
                return None
            except OSError:
                return None
            mapping = maps.find(address)
        return mapping

    def _binary(self, key: tuple[str, int], pid: int, start: int, end: int) -> ElfSymbols | None:
        if key in self._binaries:
            self._binaries.move_to_end(key)
            return self._binaries[key]
        try:
            if key == VDSO:
                image = io.BytesIO(own_vdso())
            else:
                image = open(f"/proc/{pid}/map_files/{start:x}-{end:x}", "rb")
        except OSError:
            # the process exited since its maps were read: the file may be fine,
            # and the next process that maps it names it
            return None
        try:
            binary = ElfSymbols(image, debug_files=key != VDSO)
        except UnsupportedBinary:
            binary = None
        self._binaries[key] = binary
        self._symbol_count += len(binary) if binary is not None else 0
        while self._symbol_count > MAX_SYMBOLS and len(self._binaries) > 1:
            _, dropped = self._binaries.popitem(last=False)
            self._symbol_count -= len(dropped) if dropped is not None else 0
        return binary

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
        SymbolCache has no destructor), so they are freed here. Called every drain;
        looks every few (ExitScan: every drain on a host starting processes fast)."""
        from bcc import BPF
        from bcc.libbcc import lib

        self._drain += 1
        if not self._scan.due(len(self._reread_at)):
            return
        # one listing of /proc, not a stat per pid: under churn these hold thousands
        alive = live_tgids()
        for pid in [p for p in self._symbols if p >= 0 and p not in alive]:
            self._cached -= len(self._symbols.pop(pid))
        # every pid seen, also those gone before their maps could be read
        for pid in [p for p in self._reread_at if p not in alive]:
            self._maps.pop(pid, None)
            del self._reread_at[pid]
            self._backoff.pop(pid, None)
        self._scan.kept(len(self._reread_at))
        caches = getattr(BPF, "_sym_caches", {})
        for pid in [p for p in caches if p >= 0 and p not in alive]:
            cache = caches.pop(pid, None)
            if cache is not None and getattr(cache, "cache", None):
                lib.bcc_free_symcache(cache.cache, pid)
                cache.cache = None


def fold(frames) -> str:
    """Root-first frames as one folded string, the flame graph format; a ';' inside
    a frame name (rare: some C++ and JIT names) becomes ':' so frames stay apart."""
    return ";".join(frame.replace(";", ":") for frame in frames)

