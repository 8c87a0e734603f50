"""What threads that each run one query leave in the embedded engine: the web
server (werkzeug, threaded) runs every request on a thread of its own, so a
dashboard left open makes a new thread a second. `--threads` one-query threads
against the same queries on one thread (the baseline), each case on a fresh
store in a fresh interpreter, alternating, `--rounds` times. Prints the
engine's own memory accounting (system.metrics MemoryTracking) and the
process's anonymous memory, rise over the level after opening, and what
the threads add over one thread.

    sudo .venv/bin/python scripts/bench/store_clients.py [--threads 300] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading

from common import ROOT, anon_mib  # noqa: F401  (sys.path set up there)

QUERY = "SELECT count() FROM system.tables"


def one_case(threaded: bool, n: int) -> dict:
    from pyperf.store.dsn import parse_dsn
    from pyperf.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
        try:
            def tracked() -> float:
                return store.query("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'").rows[0][0] / 2**20

            store.query(QUERY)
            store.release_memory()
            engine, anon = tracked(), anon_mib()
            for _ in range(n):
                if threaded:
                    t = threading.Thread(target=store.query, args=(QUERY,))
                    t.start()
                    t.join()
                else:
                    store.query(QUERY)
            store.release_memory()
            return {"engine": tracked() - engine, "anon": anon_mib() - anon}
        finally:
            store.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--case", choices=("threads", "one"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case == "threads", args.threads)))
        return 0
    results: dict[str, list] = {"one": [], "threads": []}
    for _ in range(args.rounds):
        for case in ("one", "threads"):
            out = subprocess.run([sys.executable, __file__, "--case", case, "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            results[case].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for case, label in (("one", "one thread"), ("threads", f"{args.threads} one-query threads")):
        print(f"{label:>28}: engine memory rise " + ", ".join(f"{r['engine']:+.1f}" for r in results[case])
              + " MiB; anonymous memory rise " + ", ".join(f"{r['anon']:+.1f}" for r in results[case]) + " MiB")
    for key, what in (("engine", "engine memory"), ("anon", "anonymous memory")):
        many = sum(r[key] for r in results["threads"]) / args.rounds
        one = sum(r[key] for r in results["one"]) / args.rounds
        print(f"{what}: {many - one:+.1f} MiB more with the threads ({many / args.threads * 1024:+.1f} KiB a thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
