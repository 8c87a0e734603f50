"""A BPF task iterator that a probe compiled with its other programs: a TRACING
program named bpf_iter__task (bcc gives a program of that name the iterator's
attach type), linked once, run by reading a fresh iterator fd to its end — the
kernel calls the program once per task. The sched probe's folds its threads'
counts into their processes with one (bpf/sched.bpf.c)."""

from __future__ import annotations

import ctypes as ct
import os

from bcc import BPF
from bcc.libbcc import lib

BPF_TRACE_ITER = 28      # enum bpf_attach_type
FUNCTION = b"bpf_iter__task"

lib.bpf_link_create.restype = ct.c_int
lib.bpf_link_create.argtypes = [ct.c_int, ct.c_int, ct.c_int, ct.c_void_p]
lib.bpf_iter_create.restype = ct.c_int
lib.bpf_iter_create.argtypes = [ct.c_int]


class TaskIterator:
    def __init__(self, bpf):
        """Raises OSError where the kernel has no task iterators (before 5.8) or refuses this one."""
        try:
            fn = bpf.load_func(FUNCTION, BPF.TRACING)
        except Exception as e:      # bcc raises a bare Exception when the kernel refuses a load
            raise OSError(f"loading {FUNCTION.decode()}: {e}") from None
        self.link = lib.bpf_link_create(fn.fd, 0, BPF_TRACE_ITER, None)
        if self.link < 0:
            err = ct.get_errno()
            raise OSError(err, f"bpf_link_create(iter task): {os.strerror(err)}")

    def run(self) -> None:
        """One pass over every task."""
        fd = lib.bpf_iter_create(self.link)
        if fd < 0:
            err = ct.get_errno()
            raise OSError(err, f"bpf_iter_create: {os.strerror(err)}")
        try:
            while os.read(fd, 4096):
                pass
        finally:
            os.close(fd)

    def close(self) -> None:
        if self.link >= 0:
            os.close(self.link)
            self.link = -1
