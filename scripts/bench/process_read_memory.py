"""Memory of one read of a per-process map after a burst: a per-CPU hash of the
sched probe's value (struct sched_process) holding `--entries` processes, read
as ProcessTable reads it (each batch's per-CPU copies summed before the next
batch is read) against reading every copy first and summing after (how it read
before), each in a fresh interpreter, alternating, `--rounds` times. Prints the
anonymous memory's peak during the read over the level before it (sampled every
millisecond) and the read's CPU time.

    sudo .venv/bin/python scripts/bench/process_read_memory.py [--entries 40000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

from common import ROOT, anon_mib  # noqa: F401  (sys.path set up there)


def one_case(sliced: bool, entries: int) -> dict:
    import numpy as np
    from bcc import BPF

    from pyperf.probes.bpf_loader import full_cflags
    from pyperf.probes.process_table import Layout, ProcessTable
    from pyperf.probes.sched import ProcessSched

    bpf = BPF(text=f'#include "sched.h"\nBPF_PERCPU_HASH(processes, u32, struct sched_process, {entries});'.encode(),
              cflags=full_cflags([]))
    table = bpf[b"processes"]
    cpus = table.total_cpu
    copies = (table.sLeaf * cpus)()
    for cpu in range(cpus):
        copies[cpu].voluntary = cpu + 1
        copies[cpu].runq_hist[3] = 7
    for tgid in range(1, entries + 1):
        table[table.Key(tgid)] = copies
    processes = ProcessTable(table, ProcessSched)
    base = anon_mib()
    highest = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.001):
            highest[0] = max(highest[0], anon_mib())
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.process_time()
    if sliced:
        keys, rows = processes.read()
    else:
        layout = Layout.of(ProcessSched)
        keys, raw = processes._reader.read_arrays(np.dtype(np.uint32), np.dtype(np.uint64))
        rows = layout.combine(raw.reshape(len(keys), cpus, layout.words))
        del raw
    cpu = time.process_time() - started
    done.set()
    sampler.join()
    assert len(keys) == entries and int(rows[:, 0].sum()) == entries * sum(range(1, cpus + 1))
    bpf.cleanup()
    return {"peak": highest[0] - base, "cpu": cpu}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=40_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--case", choices=("sliced", "whole"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case == "sliced", args.entries)))
        return 0
    print(f"one read of a per-CPU map of {args.entries} sched_process entries:")
    for r in range(args.rounds):
        for case in (("whole", "sliced") if r % 2 == 0 else ("sliced", "whole")):
            out = subprocess.run([sys.executable, __file__, "--case", case, "--entries", str(args.entries)],
                                 capture_output=True, text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(f"  round {r + 1}, {case:6}: peak +{result['peak']:.0f} MiB, CPU {1000 * result['cpu']:.0f} ms",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
