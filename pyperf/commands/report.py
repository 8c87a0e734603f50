"""`pyperf report`: the findings, bottleneck summary, top containers and active
alerts of a recent range, as text, HTML or JSON. With --fail-on it is a
performance gate: exit code 6 when a finding of that severity or worse exists."""

from __future__ import annotations

import datetime as dt
import json
import sys

from pyperf.analysis import rules
from pyperf.commands import running_agent
from pyperf.errors import PyperfError, UsageError
from pyperf.store.dsn import resolve_address
from pyperf.web.timerange import TimeRange

GATE_EXIT = 6
MAX_SINCE_S = 31 * 86400


class GateFailed(PyperfError):
    exit_code = GATE_EXIT


def collect(args) -> dict:
    if not 1 <= args.since <= MAX_SINCE_S:
        raise UsageError("--since must be between 1s and 31 days")
    from pyperf.analysis.findings import parse_overrides
    try:
        overrides = parse_overrides(args.threshold)
    except ValueError as e:
        raise UsageError(f"--threshold: {e}") from None
    end = dt.datetime.now(dt.timezone.utc)
    tr = TimeRange("custom", end - dt.timedelta(seconds=args.since), end)
    address = resolve_address(args.store)
    agent = running_agent.agent_for(address, "report")
    if agent is not None:
        return running_agent.call(agent, "/api/report", query=[
            ("from", tr.start.isoformat()), ("to", tr.end.isoformat()), ("container", args.container or ""),
            *(("threshold", f"{k}={v}") for k, v in overrides.items())])
    from pyperf.analysis import alerts, report
    with running_agent.store_of_my_own(address, "report") as store:
        try:
            return report.build(store, tr, container=args.container, alerts=alerts.active_in_store(store),
                                overrides=overrides)
        except LookupError as e:
            raise UsageError(str(e)) from None


def _text(r: dict) -> str:
    lines = [f"pyperf report for {r['host']}, {r['range']['from'][:19]} to {r['range']['to'][:19]} UTC"
             + (f", container {r['container']}" if r.get("container") else "")]
    lines.append("")
    lines.append(f"Findings ({len(r['findings'])}):" if r["findings"] else "Findings: none")
    for f in r["findings"]:
        lines.append(f"  [{f['severity']}] {f['summary']}")
        lines.append(f"      {f['type']}, {f['scope']} {f['subject']}; rule {f['rule']}, effort {f['effort']}")
        lines.append(f"      do: {f['recommendation']}")
        lines.append(f"      expect: {f['expected_improvement']} (estimated from {f['estimated_by']})")
    lines.append("")
    lines.append(f"Active alerts ({len(r['alerts'])}):" if r["alerts"] else "Active alerts: none")
    for a in r["alerts"]:
        lines.append(f"  [{a['labels'].get('severity', '')}] {a['annotations'].get('summary', '')} "
                     f"(since {a['startsAt'][:19]})")
    for kind, title in (("oncpu", "On-CPU"), ("offcpu", "Off-CPU")):
        s = r["flame_summary"][kind]
        lines.append("")
        if not s["top"]:
            lines.append(f"{title} bottlenecks: no stacks recorded")
            continue
        lines.append(f"{title} bottlenecks (top by self, of {s['whole']} {s['unit']}):")
        for row in s["top"]:
            change = "" if row["self_change_pct"] is None else f" ({row['self_change_pct']:+.1f} points)"
            lines.append(f"  {row['self_pct']:5.1f} % self {row['total_pct']:5.1f} % total  {row['function']}{change}")
    if r["top_containers"]:
        lines.append("")
        lines.append("Top containers by CPU:")
        for c in r["top_containers"]:
            lines.append(f"  {c['name'] or c['id'][:12]}: {c['cpu_pct_of_host']} % of host CPU, "
                         f"{c['memory_max_mib']} MiB peak memory, {c['io_mib']} MiB I/O")
    return "\n".join(lines) + "\n"


def _html(r: dict) -> str:
    import jinja2
    from pyperf.resources import data_dir
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_dir("web") / "templates")),
                             autoescape=True)
    return env.get_template("report_standalone.html").render(r=r)


def run(args) -> int:
    r = collect(args)
    out = {"json": lambda: json.dumps(r, default=str) + "\n", "text": lambda: _text(r),
           "html": lambda: _html(r)}[args.format]()
    sys.stdout.write(out)
    if args.fail_on:
        rank = {s: i for i, s in enumerate(rules.SEVERITIES)}
        failing = [f for f in r["findings"] if rank[f["severity"]] >= rank[args.fail_on]]
        if failing:
            raise GateFailed(f"{len(failing)} finding(s) at {args.fail_on} or worse: "
                             + "; ".join(f["rule"] + " " + f["subject"] for f in failing[:3]))
    return 0
