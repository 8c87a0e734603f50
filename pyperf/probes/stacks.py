"""Stack ids from a BPF stack-trace map turned into symbolised frames, root
first, the way the profile probe and the sched probe's off-CPU stacks store
them. Symbols are cached per (process, address); bcc reads binaries of
processes in containers through /proc/<pid>/root."""

from __future__ import annotations

import os

KERNEL_SUFFIX = "_[k]"   # the flame graph convention for kernel frames
MAX_CACHED_SYMBOLS = 200_000   # (pid, address) -> name entries over all processes


class StackSymbolizer:
    def __init__(self, bpf, stack_map: bytes):
        self.bpf = bpf
        self.stack_map = stack_map
        self._symbols: dict[int, dict[int, str]] = {}    # pid (-1: kernel) -> address -> name
        self._cached = 0
        self.errors = 0

    def _symbol(self, address: int, pid: int) -> str:
        per_pid = self._symbols.get(pid)
        name = per_pid.get(address) if per_pid is not None else None
        if name is None:
            from bcc import BPF

            raw = BPF.sym(address, pid) if pid >= 0 else BPF.ksym(address)
            name = raw.decode("utf-8", "replace") if raw else "[unknown]"
            if pid < 0:
                name += KERNEL_SUFFIX
            if self._cached > MAX_CACHED_SYMBOLS:
                self._symbols.clear()
                self._cached = 0
            self._symbols.setdefault(pid, {})[address] = name
            self._cached += 1
        return name

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

