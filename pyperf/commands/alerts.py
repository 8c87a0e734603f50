"""`pyperf alerts`: the alerts pending and firing now and the recent changes;
from the running agent when one holds the store, else from the stored history."""

from __future__ import annotations

import datetime as dt
import json

from pyperf.commands import running_agent
from pyperf.errors import UsageError
from pyperf.store.dsn import resolve_address

MAX_HISTORY_S = 31 * 86400


def collect(args) -> dict:
    if not 1 <= args.history <= MAX_HISTORY_S:
        raise UsageError("--history must be between 1s and 31 days")
    address = resolve_address(args.store)
    agent = running_agent.agent_for(address, "alerts")
    if agent is not None:
        return running_agent.call(agent, "/api/alerts", query={"history": args.history})
    from pyperf.analysis import alerts
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=args.history)
    with running_agent.store_of_my_own(address, "alerts") as store:
        return {"active": alerts.active_in_store(store), "history": alerts.history(store, since)}


def run(args) -> int:
    body = collect(args)
    if args.json:
        print(json.dumps(body, default=str))
        return 0
    active = body["active"]
    print(f"Alerts now ({len(active)}):" if active else "Alerts now: none")
    for a in active:
        print(f"  {a['annotations']['state']:<8} {a['labels']['severity']:<8} {a['annotations']['summary']} "
              f"(since {a['startsAt'][:19]} UTC)")
    history = body["history"]
    print(f"History ({len(history)} changes):" if history else "History: no change")
    for h in history[:50]:
        print(f"  {h['ts'][:19]}  {h['state']:<8} {h['summary']}")
    return 0
