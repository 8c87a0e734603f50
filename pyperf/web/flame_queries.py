"""Flame graphs and their bottleneck summary: the stored stacks (on-CPU
samples or off-CPU blocked time) of a host, a container or a process over a
range, as a tree for d3-flame-graph and as a top table of functions by self
and total weight."""

from __future__ import annotations

from pyperf.store import pool
from pyperf.web.timerange import TimeRange

KINDS = {  # kind: (table, weight column, unit)
    "cpu": ("profile_stack", "samples", "samples"),
    "offcpu": ("offcpu_stack", "blocked_us", "µs blocked"),
}
MAX_STACKS = 50_000

STACKS = """
SELECT folded, sum({weight}) AS weight
FROM {table}
WHERE host = {{host:String}} AND ts >= {{start:DateTime64(3)}} AND ts < {{end:DateTime64(3)}}
  AND ({{pid:UInt32}} = 0 OR pid = {{pid:UInt32}})
  AND (empty({{mnt_ns:Array(UInt64)}}) OR has({{mnt_ns:Array(UInt64)}}, mnt_ns))
GROUP BY folded
ORDER BY weight DESC
LIMIT {limit}
"""


@pool.shared
def stacks(store, tr: TimeRange, host=None, kind: str = "cpu", pid: int = 0,
           mnt_ns: list[int] | None = None) -> list[tuple[str, int]]:
    """(folded stack, weight), heaviest first."""
    table, weight, _ = KINDS[kind]
    sql = STACKS.format(table=table, weight=weight, limit=MAX_STACKS)
    rows = store.query(sql, {"host": host or store.host_name, "start": tr.start, "end": tr.end, "pid": pid,
                             "mnt_ns": list(mnt_ns or [])}).rows
    return [(folded, int(w)) for folded, w in rows]


def tree(stacks: list[tuple[str, int]]) -> dict:
    """The stacks as nested {"name", "value", "children"} (d3-flame-graph's input)."""
    root = {"name": "all", "value": 0, "children": {}}
    for folded, weight in stacks:
        root["value"] += weight
        node = root
        for frame in folded.split(";"):
            node = node["children"].setdefault(frame, {"name": frame, "value": 0, "children": {}})
            node["value"] += weight

    def listed(node):
        return {"name": node["name"], "value": node["value"],
                "children": [listed(c) for c in sorted(node["children"].values(), key=lambda c: -c["value"])]}

    return listed(root)


def top_functions(stacks: list[tuple[str, int]], limit: int = 30) -> list[dict]:
    """The bottleneck summary: functions by self weight (the leaf of a stack) and
    total weight (anywhere on it, counted once per stack), with their shares."""
    self_w, total_w, whole = _shares(stacks)
    whole = whole or 1
    ranked = sorted(total_w, key=lambda f: (self_w.get(f, 0), total_w[f]), reverse=True)[:limit]
    return [{"function": f, "self": self_w.get(f, 0), "self_pct": round(100 * self_w.get(f, 0) / whole, 1),
             "total": total_w[f], "total_pct": round(100 * total_w[f] / whole, 1)} for f in ranked]


def _shares(stacks: list[tuple[str, int]]) -> tuple[dict[str, int], dict[str, int], int]:
    """Self and total weight per function, and the whole weight."""
    self_w: dict[str, int] = {}
    total_w: dict[str, int] = {}
    for folded, weight in stacks:
        frames = folded.split(";")
        self_w[frames[-1]] = self_w.get(frames[-1], 0) + weight
        for frame in set(frames):
            total_w[frame] = total_w.get(frame, 0) + weight
    return self_w, total_w, sum(w for _, w in stacks)


def diff_tree(baseline: list[tuple[str, int]], comparison: list[tuple[str, int]]) -> dict:
    """One tree over both ranges for d3-flame-graph's differential colours. The
    baseline is scaled to the comparison's whole weight (the ranges may differ in
    length or load), so a frame's `delta` is the change of its share in the
    comparison's units: value = comparison + scaled baseline (frames gone since
    the baseline stay visible), delta = comparison - scaled baseline; base_pct
    and comp_pct are each range's share of its own whole."""
    base_total = sum(w for _, w in baseline)
    comp_total = sum(w for _, w in comparison)
    scale = comp_total / base_total if base_total and comp_total else 1.0
    root = {"name": "all", "base": 0.0, "comp": 0.0, "children": {}}
    for stacks, side, factor in ((baseline, "base", scale), (comparison, "comp", 1.0)):
        for folded, weight in stacks:
            root[side] += weight * factor
            node = root
            for frame in folded.split(";"):
                node = node["children"].setdefault(frame, {"name": frame, "base": 0.0, "comp": 0.0, "children": {}})
                node[side] += weight * factor
    whole = comp_total or base_total or 1

    def listed(node):
        return {"name": node["name"], "value": round(node["comp"] + node["base"], 3),
                "delta": round(node["comp"] - node["base"], 3),
                "base_pct": round(100 * node["base"] / whole, 2), "comp_pct": round(100 * node["comp"] / whole, 2),
                "children": [listed(c) for c in sorted(node["children"].values(),
                                                        key=lambda c: -(c["comp"] + c["base"]))]}

    tree = listed(root)
    tree["diff"] = True
    return tree


def diff_top(baseline: list[tuple[str, int]], comparison: list[tuple[str, int]], limit: int = 30) -> list[dict]:
    """The functions whose share changed most between the ranges (Grafana's diff
    table: baseline %, comparison %, diff in percentage points), by self share."""
    b_self, b_total, b_whole = _shares(baseline)
    c_self, c_total, c_whole = _shares(comparison)

    def pct(weights, f, whole):
        return round(100 * weights.get(f, 0) / whole, 2) if whole else 0.0

    rows = [{"function": f,
             "baseline_self_pct": pct(b_self, f, b_whole), "comparison_self_pct": pct(c_self, f, c_whole),
             "baseline_total_pct": pct(b_total, f, b_whole), "comparison_total_pct": pct(c_total, f, c_whole)}
            for f in set(b_total) | set(c_total)]
    for row in rows:
        row["self_diff_pct"] = round(row["comparison_self_pct"] - row["baseline_self_pct"], 2)
        row["total_diff_pct"] = round(row["comparison_total_pct"] - row["baseline_total_pct"], 2)
    rows.sort(key=lambda r: (-abs(r["self_diff_pct"]), -abs(r["total_diff_pct"]), r["function"]))
    return rows[:limit]
