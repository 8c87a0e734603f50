"""Flame graphs and their bottleneck summary: the stored stacks (on-CPU
samples or off-CPU blocked time) of a host, a container or a process over a
range, as a tree for d3-flame-graph and as a top table of functions by self
and total weight."""

from __future__ import annotations

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
    total_weight = sum(w for _, w in stacks) or 1
    self_w: dict[str, int] = {}
    total_w: dict[str, int] = {}
    for folded, weight in stacks:
        frames = folded.split(";")
        self_w[frames[-1]] = self_w.get(frames[-1], 0) + weight
        for frame in set(frames):
            total_w[frame] = total_w.get(frame, 0) + weight
    ranked = sorted(total_w, key=lambda f: (self_w.get(f, 0), total_w[f]), reverse=True)[:limit]
    return [{"function": f, "self": self_w.get(f, 0), "self_pct": round(100 * self_w.get(f, 0) / total_weight, 1),
             "total": total_w[f], "total_pct": round(100 * total_w[f] / total_weight, 1)} for f in ranked]
