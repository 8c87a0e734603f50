"""The CPU & scheduler page's data: pure functions from the store (and the
agent's live window) to plain lists, the shapes charts.js draws."""

from __future__ import annotations

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, quantile_us, slot_bounds_us
from pyperf.store import rollups
from pyperf.web.queries import epoch
from pyperf.web.timerange import TimeRange


def _series(store, table: str, tr: TimeRange, host, window, by=(), step_s=None) -> rollups.Series:
    return rollups.series(store, table, tr.start, tr.end, step_s=step_s, by=by, host=host, window=window)


def pivot(series: rollups.Series, key: str, value) -> dict:
    """{"t": [epoch s], "series": {key value: [per bucket, None where absent]}}
    from rollup rows grouped by one key column; `value(row)` maps a row (a dict)
    to the plotted number."""
    col = {name: i for i, name in enumerate(series.columns)}
    times = sorted({r[col["bucket"]] for r in series.rows})
    index = {t: i for i, t in enumerate(times)}
    out: dict[str, list] = {}
    for r in series.rows:
        row = dict(zip(series.columns, r))
        out.setdefault(str(row[key]), [None] * len(times))[index[row["bucket"]]] = value(row)
    return {"t": [epoch(t) for t in times], "series": dict(sorted(out.items(), key=lambda kv: _natural(kv[0]))),
            "step_s": series.step_s, "level": series.level}


def _natural(name: str):
    return (0, int(name)) if name.isdigit() else (1, name)


def cpu_busy(store, tr: TimeRange, host=None, window=None) -> dict:
    """Per CPU, % busy (mean over each bucket), from /proc/stat (system_cpu; cpu -1,
    the whole host, is "all")."""
    s = _series(store, "system_cpu", tr, host, window, by=("cpu",))
    out = pivot(s, "cpu", lambda r: round(float(r["busy_pct_avg"]), 1))
    if "-1" in out["series"]:
        out["series"]["all"] = out["series"].pop("-1")
    return out


def context_switches(store, tr: TimeRange, host=None, window=None) -> dict:
    """Per CPU, context switches per second (sched_cpu)."""
    s = _series(store, "sched_cpu", tr, host, window, by=("cpu",))
    return pivot(s, "cpu", lambda r: round(float(r["context_switches"]) / s.step_s, 1))


def runq_heatmap(store, tr: TimeRange, host=None, window=None) -> dict:
    """Run-queue latency of all CPUs: per bucket, the count of waits in each log2
    µs slot (a heatmap: "counts"[slot][bucket]), and p50/p99 lines."""
    s = _series(store, "sched_cpu", tr, host, window)
    col = {name: i for i, name in enumerate(s.columns)}
    rows = sorted(s.rows, key=lambda r: r[col["bucket"]])
    counts = np.zeros((HIST_SLOTS, len(rows)), np.int64)
    p50, p99 = [], []
    for i, r in enumerate(rows):
        h = np.asarray(r[col["runq_latency_hist"]], np.int64)
        counts[: len(h), i] = h[:HIST_SLOTS]
        waits = int(h.sum())
        p50.append(round(quantile_us(h, 0.5), 1) if waits else None)
        p99.append(round(quantile_us(h, 0.99), 1) if waits else None)
    used = np.flatnonzero(counts.sum(axis=1))
    top = int(used.max()) + 1 if len(used) else 1
    return {"t": [epoch(r[col["bucket"]]) for r in rows],
            "slots_us": [slot_bounds_us(i)[1] for i in range(top)],
            "counts": counts[:top].tolist(), "p50_us": p50, "p99_us": p99,
            "step_s": s.step_s, "level": s.level}


def top_waiters(store, tr: TimeRange, host=None, window=None, limit: int = 20) -> list[dict]:
    """Processes by time spent waiting for a CPU over the range (sched_process):
    the run-queue wait, its count, mean and p99, and CPU time, largest wait first."""
    s = _series(store, "sched_process", tr, host, window, by=("pid", "comm"),
                step_s=max(1, int(tr.seconds) + 3600))
    merged: dict[tuple, dict] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        m = merged.setdefault((row["pid"], row["comm"]), {"runq_us": 0, "waits": 0, "oncpu_us": 0,
                                                          "hist": np.zeros(HIST_SLOTS, np.int64)})
        m["runq_us"] += int(row["runq_latency_sum_us"])
        m["waits"] += int(row["runq_waits"])
        m["oncpu_us"] += int(row["oncpu_us"])
        m["hist"][: len(row["runq_latency_hist"])] += np.asarray(row["runq_latency_hist"], np.int64)[:HIST_SLOTS]
    ranked = sorted(merged.items(), key=lambda kv: kv[1]["runq_us"], reverse=True)[:limit]
    return [{"pid": pid, "comm": comm, "runq_ms": round(m["runq_us"] / 1000, 1), "waits": m["waits"],
             "mean_us": round(m["runq_us"] / m["waits"], 1) if m["waits"] else None,
             "p99_us": round(quantile_us(m["hist"], 0.99), 1) if m["waits"] else None,
             "oncpu_ms": round(m["oncpu_us"] / 1000, 1)}
            for (pid, comm), m in ranked]
