"""`pyperf record`: collect and store for a fixed time, then print a summary."""

from __future__ import annotations

import json
import time

from pyperf.commands.session import (collecting, dump_bpf, open_store, require_root,
                                     select_probes, stop_on_signals)


def run(args) -> int:
    probes = select_probes(args)
    if args.dump_bpf:
        return dump_bpf(probes)
    require_root("record")
    with open_store(args, "record") as store, stop_on_signals() as stop:
        with collecting(store, probes, args) as collector:
            started = time.monotonic()
            collector.run(stop, duration_s=args.duration)
            elapsed = time.monotonic() - started
        status = collector.status()
        summary = {
            "duration_s": round(elapsed, 3),
            "store": store.address.redacted(),
            "probes": {name: p["totals"] for name, p in status["probes"].items() if p["attached"]},
        }
        failed = {name: p["error"] for name, p in status["probes"].items() if not p["attached"]}
        if failed:
            summary["failed_probes"] = failed
        if status["governor"] is not None and collector.governor.periods:
            summary["governor"] = status["governor"]
        if status["unattributed_container_keys"]:
            summary["unattributed_container_keys"] = status["unattributed_container_keys"]
        writes = status["writer"]
        summary["rows"] = writes["inserted"]
        if writes["failed"] or writes["dropped"]:
            summary["rows_failed"] = writes["failed"]
            summary["rows_dropped"] = writes["dropped"]
        for key in ("spooled", "replayed", "spool_pending_rows", "spool_dropped"):
            if writes.get(key):
                summary[f"rows_{key}" if not key.startswith("spool_") else key] = writes[key]
    if args.json:
        print(json.dumps(summary))
    else:
        print_summary(summary)
    return 0


def print_summary(summary: dict) -> None:
    print(f"recorded {summary['duration_s']:.1f}s into {summary['store']}")
    for name, totals in summary["probes"].items():
        fields = ", ".join(f"{k}={v}" for k, v in totals.items())
        print(f"  {name}: {fields}")
    for name, error in summary.get("failed_probes", {}).items():
        print(f"  {name}: not attached: {error}")
    rows = ", ".join(f"{t}={n}" for t, n in sorted(summary["rows"].items())) or "none"
    print(f"  rows stored: {rows}")
    if summary.get("rows_failed") or summary.get("rows_dropped"):
        print(f"  rows NOT stored: failed={summary['rows_failed']} dropped={summary['rows_dropped']}")
    if summary.get("rows_replayed"):
        print(f"  rows stored from the spool after the store came back: {summary['rows_replayed']}")
    if summary.get("spool_pending_rows"):
        print(f"  rows waiting in the spool for the store (replayed by the next run): "
              f"{summary['spool_pending_rows']}")
    governor = summary.get("governor")
    if governor:
        print(f"  own cost: {governor['cost_pct']:.2f}% of host CPUs (budget {governor['budget_pct']:g}%)"
              + (f"; shed: {', '.join(governor['steps'])}" if governor["steps"] else ""))
    if summary.get("spool_dropped"):
        print(f"  rows dropped by the full spool: {summary['spool_dropped']}")
