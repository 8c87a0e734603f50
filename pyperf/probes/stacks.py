"""Stack ids from a BPF stack-trace map turned into symbolised frames, root
first, the way the profile probe and the sched probe's off-CPU stacks store
them. Symbols are cached per (process, address); bcc reads binaries of
processes in containers through /proc/<pid>/root."""

from __future__ import annotations

import os

KERNEL_SUFFIX = "_[k]"   # the flame graph convention for kernel frames
MAX_CACHED_SYMBOLS = 200_000


class StackSymbolizer:
    def __init__(self, bpf, stack_map: bytes):
        self.bpf = bpf
        self.stack_map = stack_map
        self._symbols: dict[tuple[int, int], str] = {}
        self.errors = 0

    def _symbol(self, address: int, pid: int) -> str:
        key = (pid, address)
        name = self._symbols.get(key)
        if name is None:
            from bcc import BPF

            raw = BPF.sym(address, pid) if pid >= 0 else BPF.ksym(address)
            name = raw.decode("utf-8", "replace") if raw else "[unknown]"
            if pid < 0:
                name += KERNEL_SUFFIX
            if len(self._symbols) > MAX_CACHED_SYMBOLS:
                self._symbols.clear()
            self._symbols[key] = name
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

    @staticmethod
    def forget_exited() -> None:
        """Drop bcc's per-process symbol tables of processes that have exited."""
        from bcc import BPF

        caches = getattr(BPF, "_sym_caches", {})
        for pid in [p for p in caches if p >= 0 and not os.path.exists(f"/proc/{p}")]:
            caches.pop(pid, None)


def fold(frames) -> str:
    """Root-first frames as one folded string, the flame graph format; a ';' inside
    a frame name (rare: some C++ and JIT names) becomes ':' so frames stay apart."""
    return ";".join(frame.replace(";", ":") for frame in frames)

