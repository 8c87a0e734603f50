"""`pyperf export`: a flame graph of the stored profile, as folded stacks or speedscope JSON."""

from __future__ import annotations

import json
import sys

from pyperf.commands.sql import run_query
from pyperf.errors import UsageError
from pyperf.flamegraph import FOLDED_QUERIES, to_folded, to_speedscope


def run(args) -> int:
    params = {"seconds": max(1, int(args.last)), "pid": args.pid or 0, "comm": args.comm or "",
              "mnt_ns": args.mnt_ns or 0}
    _, rows = run_query(args.store, FOLDED_QUERIES[args.kind], params)
    stacks = [(folded, int(samples)) for folded, samples in rows]
    if not stacks:
        source = "the profile probe" if args.kind == "oncpu" else "the sched probe with --offcpu-stacks"
        raise UsageError(f"no {args.kind} stacks match (is {source} running? widen --last?)")
    if args.format == "folded":
        text = to_folded(stacks)
    else:
        who = f"pid {args.pid}" if args.pid else args.comm or "all processes"
        title = "on-CPU samples" if args.kind == "oncpu" else "off-CPU time (µs)"
        unit = "none" if args.kind == "oncpu" else "microseconds"
        text = json.dumps(to_speedscope(stacks, f"pyperf {title}: {who}", unit))
    if args.output in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        try:
            with open(args.output, "w") as f:
                f.write(text)
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror}") from None
    return 0
