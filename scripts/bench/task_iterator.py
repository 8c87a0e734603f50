"""What reading every task's scheduler and fault counters costs, once a drain,
two ways in one invocation: a BPF task iterator (a TRACING program of attach
type iter: this kernel accepts it, though it refuses fentry and tp_btf), which
writes the counters the kernel keeps in task_struct (se.sum_exec_runtime,
sched_info.run_delay and pcount, nvcsw, nivcsw, min_flt, maj_flt) for every
task, against /proc/<pid>/task/<tid>/{schedstat,stat} for every thread (the
baseline: what a procfs sampler reads). Prints CPU per pass and per task, the
ratio, and one counter summed both ways (they read the same counters, so the
sums agree to the switches made between the two reads).

It answers whether per-process counters could be read per drain instead of
kept by the sched_switch program on every switch (docs/performance.md, "The
busy host on this tree, and what 2 % would take").

    sudo .venv/bin/python scripts/bench/task_iterator.py [--passes 200]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import struct
import sys
import time

from common import ROOT  # noqa: F401  (sys.path set up there)
from pyperf.kernel.btf import offset_cflags
from pyperf.probes.bpf_loader import full_cflags

FIELDS = {
    "OFF_PID": ("task_struct", "pid"),
    "OFF_TGID": ("task_struct", "tgid"),
    "OFF_SUM_EXEC": ("task_struct", "se.sum_exec_runtime"),
    "OFF_RUN_DELAY": ("task_struct", "sched_info.run_delay"),
    "OFF_PCOUNT": ("task_struct", "sched_info.pcount"),
    "OFF_NVCSW": ("task_struct", "nvcsw"),
    "OFF_NIVCSW": ("task_struct", "nivcsw"),
    "OFF_MIN_FLT": ("task_struct", "min_flt"),
    "OFF_MAJ_FLT": ("task_struct", "maj_flt"),
}
RECORD = struct.Struct("<II7Q")      # pid, tgid, then the seven counters in FIELDS' order

# The context's layout is the kernel's (kernel/bpf/task_iter.c); the 6.1 headers
# bcc compiles with do not have it, and the verifier checks accesses by BTF.
PROGRAM = r"""
struct bpf_iter_meta { void *seq; u64 session_id; u64 seq_num; };
struct bpf_iter__task { struct bpf_iter_meta *meta; struct task_struct *task; };
struct record { u32 pid, tgid; u64 sum_exec, run_delay, pcount, nvcsw, nivcsw, min_flt, maj_flt; };

#define FIELD(task, type, off) ({ type v_ = 0; bpf_probe_read_kernel(&v_, sizeof(v_), (void *)(task) + (off)); v_; })

int bpf_iter__task(struct bpf_iter__task *ctx)
{
    struct task_struct *task = ctx->task;
    if (!task)
        return 0;
    struct record r = {};
    r.pid = FIELD(task, u32, OFF_PID);
    r.tgid = FIELD(task, u32, OFF_TGID);
    r.sum_exec = FIELD(task, u64, OFF_SUM_EXEC);
    r.run_delay = FIELD(task, u64, OFF_RUN_DELAY);
    r.pcount = FIELD(task, u64, OFF_PCOUNT);
    r.nvcsw = FIELD(task, unsigned long, OFF_NVCSW);
    r.nivcsw = FIELD(task, unsigned long, OFF_NIVCSW);
    r.min_flt = FIELD(task, unsigned long, OFF_MIN_FLT);
    r.maj_flt = FIELD(task, unsigned long, OFF_MAJ_FLT);
    bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
    return 0;
}
"""

BPF_TRACE_ITER = 28      # enum bpf_attach_type


class TaskIterator:
    def __init__(self):
        from bcc import BPF

        self.bpf = BPF(text=PROGRAM.encode(), cflags=full_cflags(offset_cflags(FIELDS)))
        fn = self.bpf.load_func(b"bpf_iter__task", BPF.TRACING)
        self.libbpf = ctypes.CDLL("libbcc_bpf.so.0", use_errno=True)
        self.libbpf.bpf_link_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        self.link = self.libbpf.bpf_link_create(fn.fd, 0, BPF_TRACE_ITER, None)
        if self.link < 0:
            raise OSError(ctypes.get_errno(), f"bpf_link_create: {os.strerror(ctypes.get_errno())}")

    def read(self) -> list[tuple]:
        fd = self.libbpf.bpf_iter_create(self.link)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "bpf_iter_create")
        chunks = []
        try:
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(fd)
        data = b"".join(chunks)
        return list(RECORD.iter_unpack(data[: len(data) // RECORD.size * RECORD.size]))

    def close(self) -> None:
        os.close(self.link)
        self.bpf.cleanup()


def read_procfs() -> list[tuple[int, int, int]]:
    """(tid, sum_exec_ns, min_flt) of every thread, from /proc."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                    exec_ns = int(f.read().split()[0])
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                    stat = f.read()
            except (OSError, ValueError, IndexError):
                continue    # it exited meanwhile
            min_flt = int(stat[stat.rindex(b")") + 2:].split()[7])
            out.append((int(tid), exec_ns, min_flt))
    return out


def cpu_per_pass(read, passes: int) -> tuple[float, int]:
    c0 = time.process_time()
    for _ in range(passes):
        n = len(read())
    return (time.process_time() - c0) / passes, n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=200)
    args = ap.parse_args()
    it = TaskIterator()
    try:
        bpf_s, bpf_tasks = cpu_per_pass(it.read, args.passes)
        proc_s, proc_tasks = cpu_per_pass(read_procfs, args.passes)
        records, procfs = it.read(), read_procfs()
    finally:
        it.close()
    print(f"{'reader':<24}{'tasks':>7}{'µs CPU a pass':>15}{'µs a task':>11}")
    print(f"{'procfs (baseline)':<24}{proc_tasks:>7}{proc_s * 1e6:>15.0f}{proc_s * 1e6 / proc_tasks:>11.2f}")
    print(f"{'BPF task iterator':<24}{bpf_tasks:>7}{bpf_s * 1e6:>15.0f}{bpf_s * 1e6 / bpf_tasks:>11.2f}")
    print(f"\nratio iterator / procfs: {bpf_s / proc_s:.3f} a pass "
          f"({bpf_s / bpf_tasks / (proc_s / proc_tasks):.3f} a task)")
    mine = {r[0]: r for r in records}
    common_tids = [t for t, _, _ in procfs if t in mine]
    faults_proc = sum(m for t, _, m in procfs if t in mine)
    faults_bpf = sum(mine[t][7] for t in common_tids)
    print(f"min_flt summed over the {len(common_tids)} threads both saw: iterator {faults_bpf}, procfs {faults_proc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
