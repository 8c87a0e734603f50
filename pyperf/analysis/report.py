"""The report of one range: findings, the bottleneck flame summary (top
frames on- and off-CPU against the equal range before), the top containers,
and the alerts active now. Plain data: `pyperf report` prints it (text, HTML,
JSON) and the running agent serves it at /api/report."""

from __future__ import annotations

from pyperf.analysis import findings as findings_engine
from pyperf.web import container_queries, flame_queries
from pyperf.web.timerange import TimeRange

TOP = 10


def flame_summary(store, tr: TimeRange, host: str | None = None, mnt_ns: list[int] | None = None) -> dict:
    """Per kind (on-CPU samples, off-CPU blocked time): the top functions by self
    weight with their self and total share, and the change of the self share
    (in points) against the equal range before."""
    before = TimeRange("custom", tr.start - (tr.end - tr.start), tr.start)
    out = {}
    for kind in ("cpu", "offcpu"):
        now = flame_queries.stacks(store, tr, host, kind=kind, mnt_ns=mnt_ns)
        previous = flame_queries.stacks(store, before, host, kind=kind, mnt_ns=mnt_ns)
        change = {r["function"]: r["self_diff_pct"] for r in flame_queries.diff_top(previous, now, limit=1_000_000)}
        top = flame_queries.top_functions(now, limit=TOP)
        for row in top:
            row["self_change_pct"] = change.get(row["function"], 0.0) if previous else None
        out["oncpu" if kind == "cpu" else "offcpu"] = {
            "unit": flame_queries.KINDS[kind][2], "whole": sum(w for _, w in now), "top": top}
    return out


def build(store, tr: TimeRange, host: str | None = None, window=None, container: str | None = None,
          alerts: list[dict] | None = None, overrides: dict[str, float] | None = None) -> dict:
    host = host or store.host_name
    mnt_ns, chosen = None, None
    if container:
        known = container_queries.identities(store, host, window)
        chosen = [cid for cid, c in known.items() if container in (cid, c["name"]) or cid.startswith(container)]
        if not chosen:
            names = ", ".join(sorted(c["name"] for c in known.values() if c["name"])) or "none recorded"
            raise LookupError(f"no container '{container}' recorded on {host} (known: {names})")
        mnt_ns = sorted({ns for cid in chosen for ns in known[cid]["mnt_ns"]})
    gathered: dict[str, list[dict]] = {}
    found = findings_engine.evaluate(store, tr, host, window, container=container, overrides=overrides,
                                     gathered=gathered)
    # the containers' facts the rules read (top_containers' figures), busiest first
    listed = [c for c in gathered.get("container", []) if chosen is None or c["id"] in chosen]
    top = sorted(listed, key=lambda c: c["cpu_pct_of_host"], reverse=True)[:TOP]
    return {
        "range": {"from": tr.start.isoformat(), "to": tr.end.isoformat(), "seconds": tr.seconds},
        "host": host, "container": container,
        "findings": found,
        "alerts": [a for a in (alerts or []) if not container or a.get("labels", {}).get("container") == container],
        "flame_summary": flame_summary(store, tr, host, mnt_ns),
        "top_containers": [{k: c.get(k) for k in ("name", "id", "cpu_pct_of_host", "cpu_pct_of_limit_avg",
                                                   "throttled_pct", "memory_max_mib", "memory_pct_of_limit_avg",
                                                   "io_mib", "net_mib", "runq_p99_us", "response_p99_us")}
                           for c in top],
    }
