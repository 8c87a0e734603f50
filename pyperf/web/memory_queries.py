"""The Memory page's data: host memory, swap, pressure and faults over time
(system_host), the page-cache hit ratio and the processes that fault most
(faults_process)."""

from __future__ import annotations

from pyperf.store import rollups
from pyperf.web import chart_data
from pyperf.web.timerange import TimeRange

def memory_charts(store, tr: TimeRange, host=None, window=None) -> dict:
    s = rollups.series(store, "system_host", tr.start, tr.end, host=host, window=window)
    per_s = lambda column: chart_data.rate("system_host", column, s.step_s)          # noqa: E731
    avg = lambda column: chart_data.average("system_host", column, 2)                # noqa: E731
    return {
        "memory": chart_data.lines(s, {"used": avg("mem_used_bytes"), "cached": avg("mem_cached_bytes"),
                                       "available": avg("mem_available_bytes"), "swap used": avg("swap_used_bytes")}),
        "swap": chart_data.lines(s, {"in": per_s("swap_in_pages"), "out": per_s("swap_out_pages")}),
        "pressure": chart_data.lines(s, {"some": avg("psi_memory_some_pct"), "full": avg("psi_memory_full_pct")}),
        "faults": chart_data.lines(s, {"all": per_s("page_faults"), "major": per_s("major_faults")}),
    }


def top_faulting(store, tr: TimeRange, host=None, window=None, limit: int = 20) -> list[dict]:
    """Processes by faults over the range, major faults first (they waited for I/O)."""
    s = rollups.series(store, "faults_process", tr.start, tr.end, step_s=tr.whole_step,
                       by=("pid", "comm"), host=host, window=window)
    merged: dict[tuple, list[int]] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        m = merged.setdefault((row["pid"], row["comm"]), [0, 0, 0, 0])
        for i, column in enumerate(("major_faults", "minor_faults", "cache_lookups", "cache_added")):
            m[i] += int(row[column])
    ranked = sorted(merged.items(), key=lambda kv: (kv[1][0], kv[1][1]), reverse=True)[:limit]
    return [{"pid": pid, "comm": comm, "major": major, "minor": minor, "cache_lookups": lookups,
             "cache_hit_ratio": round(min(1.0, max(0.0, 1 - added / lookups)), 3) if lookups else None}
            for (pid, comm), (major, minor, lookups, added) in ranked]
