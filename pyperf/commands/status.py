"""`pyperf status`: is anything being lost? From the running `pyperf up` when it
holds the embedded store, else from the counters agents store (`agent_counters`),
for every host writing into the store."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pyperf.commands.sql import run_query
from pyperf.errors import StoreError
from pyperf.pipeline.counters import STORE_OUTCOMES
from pyperf.store.dsn import resolve_address
from pyperf.store.lock import holder

LATEST = """
SELECT host, toString(max(started)) AS run, toString(max(ts)) AS at, source, name, counter,
       argMax(value, ts) AS value
FROM agent_counters
WHERE (host, started) IN (SELECT host, max(started) FROM agent_counters GROUP BY host)
GROUP BY host, source, name, counter
ORDER BY host, source, name, counter
"""


def _from_running(listen: str) -> dict:
    try:
        with urllib.request.urlopen(f"http://{listen}/api/status", timeout=30) as response:
            status = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise StoreError(f"the running pyperf up at {listen} did not answer: {e}") from None
    host = {"probes": {}, "store": {}, "agent": {"intervals": status.get("intervals", 0)}}
    for name, probe in status.get("probes", {}).items():
        host["probes"][name] = probe.get("totals") or {"not attached": probe.get("error", "")}
    writer = status.get("writer", {})
    for outcome in STORE_OUTCOMES:
        for table, n in writer.get(outcome, {}).items():
            host["store"].setdefault(table, {})[outcome] = n
    for table, n in writer.get("spool_pending_rows", {}).items():
        host["store"].setdefault(table, {})["spool_pending"] = n
    return {status.get("host", "?"): host}


def _from_store(store_dsn: str | None) -> dict:
    _, rows = run_query(store_dsn, LATEST)
    hosts: dict = {}
    for host, run, at, source, name, counter, value in rows:
        h = hosts.setdefault(host, {"run_started": run, "counted_at": at, "probes": {}, "store": {}, "agent": {}})
        value = int(value) if float(value).is_integer() else value
        if source == "store":
            h["store"].setdefault(name, {})[counter] = value
        elif source == "agent":
            h["agent"][f"{counter}:{name}" if name else counter] = value
        else:
            h["probes"].setdefault(source, {})[counter] = value
    return hosts


def losses(host: dict) -> list[str]:
    found = []
    for probe, totals in host["probes"].items():
        if totals.get("lost"):
            found.append(f"probe {probe} lost {totals['lost']} events in the kernel (ring buffer or map full)")
        if totals.get("unseen_ios"):
            found.append(f"probe {probe} did not see {totals['unseen_ios']} I/O completions the kernel counted "
                         "(its programs were not run for them)")
        if totals.get("lost_starts"):
            found.append(f"probe {probe} counted {totals['lost_starts']} I/Os without their start (no container "
                         "or process for them: more requests in flight than its start slots hold)")
    for table, outcomes in host["store"].items():
        for outcome, what in (("spool_dropped", "dropped by the full spool"), ("failed", "rejected by the store"),
                              ("dropped", "dropped from a full memory buffer"),
                              ("spool_pending", "waiting in the spool for the store")):
            if outcomes.get(outcome):
                found.append(f"{table}: {outcomes[outcome]} rows {what}")
    return found


def run(args) -> int:
    address = resolve_address(args.store)
    owner = holder(address.path) if address.embedded else None
    hosts = _from_running(owner["listen"]) if owner and owner.get("listen") else _from_store(args.store)
    if args.json:
        print(json.dumps({h: {**v, "losses": losses(v)} for h, v in hosts.items()}))
        return 0
    if not hosts:
        print("no agent has stored its counters here yet")
        return 0
    for name, host in hosts.items():
        when = f" (run started {host['run_started']}, counted {host['counted_at']})" if "run_started" in host else ""
        print(f"{name}{when}")
        inserted = sum(o.get("inserted", 0) for o in host["store"].values())
        print(f"  rows stored: {inserted} in {len(host['store'])} tables")
        found = losses(host)
        for line in found:
            print(f"  LOSS: {line}")
        if not found:
            print("  nothing lost")
    return 0
