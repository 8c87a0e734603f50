"""`pyperf apply FINDING`, `pyperf undo CHANGE`, `pyperf changes`: apply the fix
a finding recommends (its dry run shows the exact command and values first),
undo it, list what was changed. The change itself is made here, by this root
command through the container's runtime; the store records it (through the
running agent when it holds the store: recording there needs the store's
token, which only root can read, even on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import contextmanager

from pyperf.analysis import actions
from pyperf.commands import running_agent
from pyperf.errors import UsageError
from pyperf.store.dsn import resolve_address
from pyperf.web.timerange import TimeRange


class _Local:
    def __init__(self, store):
        self.store = store

    def findings(self, since_s: float) -> list[dict]:
        from pyperf.analysis import findings
        end = dt.datetime.now(dt.timezone.utc)
        return findings.evaluate(self.store, TimeRange("custom", end - dt.timedelta(seconds=since_s), end))

    def changes(self) -> list[dict]:
        return actions.changes(self.store)

    def record(self, plan: dict, action: str, who: str, undoes: str = "") -> str:
        return actions.record(self.store, plan, action, who, undoes)


class _Agent:
    def __init__(self, agent: dict):
        self.agent = agent

    def findings(self, since_s: float) -> list[dict]:
        end = dt.datetime.now(dt.timezone.utc)
        return running_agent.call(self.agent, "/api/report", query={
            "from": (end - dt.timedelta(seconds=since_s)).isoformat(), "to": end.isoformat()})["findings"]

    def changes(self) -> list[dict]:
        return running_agent.call(self.agent, "/api/changes")["changes"]

    def record(self, plan: dict, action: str, who: str, undoes: str = "") -> str:
        if not self.agent.get("token"):
            raise UsageError("cannot read the store's token to record the change (run as root)")
        body = {"plan": {k: plan[k] for k in actions.PLAN_KEYS}, "action": action, "who": who, "undoes": undoes}
        return running_agent.call(self.agent, "/api/changes", payload=body)["change_id"]


@contextmanager
def _backend(args, verb: str):
    address = resolve_address(args.store)
    agent = running_agent.agent_for(address, verb)
    if agent is not None:
        yield _Agent(agent)
        return
    with running_agent.store_of_my_own(address, verb) as store:
        yield _Local(store)


def _confirm(args, question: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: give --yes to go ahead (or --dry-run to look)")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _show(plan: dict) -> None:
    print(f"container {plan['container']} ({plan['container_id'][:12]}), finding {plan['finding']} ({plan['rule']})")
    print(f"  run:    {' '.join(plan['command'])}")
    changed = {k: (plan["before"][k], plan["after"][k]) for k in plan["after"] if plan["before"].get(k) != plan["after"][k]}
    print("  change: " + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()))
    print(f"  why:    {plan['why']}")


def _carry_out(args, backend, plan: dict, action: str, undoes: str = "") -> str | None:
    """Show the plan; unless a dry run ("": nothing to record), make the change once
    confirmed and record it: its change id, None when the user said no."""
    _show(plan)
    if args.dry_run:
        print("  (dry run: nothing changed)")
        return ""
    if not _confirm(args, f"{action.capitalize()} this change?"):
        print(f"not {'applied' if action == 'apply' else 'undone'}")
        return None
    actions.execute(plan)
    return backend.record(plan, action, actions.who(), undoes)


def run_apply(args) -> int:
    with _backend(args, "apply") as backend:
        found = backend.findings(args.since)
        finding = next((f for f in found if f["id"] == args.finding), None)
        if finding is None:
            raise UsageError(f"no finding {args.finding!r} in the last {args.since:g} s (ids: `pyperf report`)")
        if not finding["appliable"]:
            raise UsageError(f"finding {finding['id']} ({finding['rule']}) has no change pyperf can apply "
                             f"(appliable: {', '.join(actions.APPLIABLE)} on Docker containers)")
        plan = actions.plan(finding, finding["subject_id"], finding["subject"])
        change_id = _carry_out(args, backend, plan, "apply")
        if change_id:
            print(f"applied: change {change_id} (undo: pyperf undo {change_id})")
    return 0 if change_id is not None else 1


def run_undo(args) -> int:
    with _backend(args, "undo") as backend:
        known = backend.changes()
        change = next((c for c in known if c["change_id"] == args.change and c["action"] == "apply"), None)
        if change is None:
            raise UsageError(f"no applied change {args.change!r} (see `pyperf changes`)")
        if change["undone"]:
            raise UsageError(f"change {args.change} was undone already")
        plan = actions.undo_plan(change)
        change_id = _carry_out(args, backend, plan, "undo", undoes=change["change_id"])
        if change_id:
            print(f"undone: change {change_id} restored what {change['change_id']} changed")
    return 0 if change_id is not None else 1


def run_changes(args) -> int:
    with _backend(args, "changes") as backend:
        known = backend.changes()
    if args.json:
        print(json.dumps(known, default=str))
        return 0
    if not known:
        print("no change made by pyperf apply")
    for c in known:
        state = " (undone)" if c["undone"] else ""
        print(f"{c['ts'][:19]}  {c['change_id']}  {c['action']}{state}  {c['container']}: {c['command']}  by {c['who']}")
    return 0
