"""Threads that carry their name into the kernel (`top -H`, /proc/PID/task/*/comm),
so the agent's own CPU can be told apart per thread from the outside: the
engine's threads are named by chDB, Python's would all be "python"."""

from __future__ import annotations

import ctypes
import threading

_PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)


class Named(threading.Thread):
    def run(self) -> None:
        # the kernel keeps 15 bytes; a failure leaves the inherited name, which is harmless
        _libc.prctl(_PR_SET_NAME, self.name.encode()[:15], 0, 0, 0)
        super().run()
