"""Idle CPU of the embedded store: chDB with pyperf's whole schema (every
MergeTree table has background tasks that wake up periodically, whether or not
anything is inserted) against chDB with an empty database, with the engine's
default server settings and with pyperf's (sql/embedded_engine.xml), each in a
fresh process, in one invocation; no pyperf collection runs.

    sudo .venv/bin/python scripts/bench/chdb_idle.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from common import ROOT

CHILD = """
import sys, tempfile, time, psutil, chdb
from pyperf.store import migrations
options = "?config-file=" + sys.argv[3] if sys.argv[3] != "-" else ""
conn = chdb.connect(tempfile.mkdtemp() + "/store" + options)
conn.query("CREATE DATABASE pyperf"); conn.query("USE pyperf")
if sys.argv[1] == "schema":
    for m in migrations.available():
        for statement in m.statements():
            conn.query(statement)
tables = int(conn.query("SELECT count() FROM system.tables WHERE database = 'pyperf' AND engine LIKE '%MergeTree'",
                        "CSV").bytes())
p = psutil.Process()
time.sleep(5)
c0, t0 = sum(p.cpu_times()[:2]), time.time()
time.sleep(float(sys.argv[2]))
print(tables, 100 * (sum(p.cpu_times()[:2]) - c0) / (time.time() - t0))
"""


def idle(kind: str, seconds: float, config: str) -> tuple[int, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(seconds), config], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.split()
    return int(out[0]), float(out[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    ours = str(ROOT / "sql" / "embedded_engine.xml")
    _, empty = idle("empty", args.seconds, "-")
    tables, default = idle("schema", args.seconds, "-")
    _, tuned = idle("schema", args.seconds, ours)
    _, empty_tuned = idle("empty", args.seconds, ours)
    print(f"empty database, default engine settings: {empty:.2f} % of one CPU idle")
    print(f"empty database, sql/embedded_engine.xml: {empty_tuned:.2f} %")
    print(f"pyperf schema ({tables} MergeTree tables), default engine settings: {default:.2f} % "
          f"({(default - empty) / tables * 1000:.0f} milli-% per table)")
    print(f"pyperf schema, sql/embedded_engine.xml: {tuned:.2f} % "
          f"(ratio to default settings {tuned / max(default, 0.01):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
