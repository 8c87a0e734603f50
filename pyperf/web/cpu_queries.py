"""The CPU & scheduler page's data: pure functions from the store (and the
agent's live window) to plain lists, the shapes charts.js draws."""

from __future__ import annotations

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, as_hist, quantile_us
from pyperf.store import pool, rollups
from pyperf.web import chart_data
from pyperf.web.timerange import TimeRange


def _series(store, table: str, tr: TimeRange, host, window, by=(), step_s=None, columns=None,
            where=None) -> rollups.Series:
    return rollups.series(store, table, tr.start, tr.end, step_s=step_s, by=by, host=host, window=window,
                          columns=columns, where=where)


def cpu_busy(store, tr: TimeRange, host=None, window=None) -> dict:
    """Per CPU, % busy (mean over each bucket), from /proc/stat (system_cpu; cpu -1,
    the whole host, is "all")."""
    s = _series(store, "system_cpu", tr, host, window, by=("cpu",))
    out = chart_data.lines_by_key(s, "cpu", chart_data.average("system_cpu", "busy_pct"))
    if "-1" in out["series"]:
        out["series"]["all"] = out["series"].pop("-1")
    return out


def context_switches(store, tr: TimeRange, host=None, window=None) -> dict:
    """Per CPU, context switches per second (sched_cpu)."""
    s = _series(store, "sched_cpu", tr, host, window, by=("cpu",))
    return chart_data.lines_by_key(s, "cpu", chart_data.rate("sched_cpu", "context_switches", s.step_s))


def runq_heatmap(store, tr: TimeRange, host=None, window=None) -> dict:
    """Run-queue latency of all CPUs as a heatmap over time, with p50/p99."""
    return chart_data.heatmap(_series(store, "sched_cpu", tr, host, window), "sched_cpu", "runq_latency_hist")


@pool.shared
def process_totals(store, tr: TimeRange, host=None, window=None) -> list[dict]:
    """Per process (pid, comm, mount namespace) over the whole range: run-queue
    wait, its count, CPU time and run-queue histogram (sched_process). One read
    for the Overview's process table, its containers' run-queue p99 and which
    processes are theirs: four reads of the same rows cost ~170 ms of the
    engine's time on 24 h x 200 processes, this one ~85 (docs/performance.md)."""
    s = _series(store, "sched_process", tr, host, window, by=("pid", "comm", "mnt_ns"), step_s=tr.whole_step,
                columns=("runq_latency_sum_us", "runq_waits", "oncpu_us", "runq_latency_hist"))
    merged: dict[tuple, dict] = {}
    for r in s.rows:        # a range over two buckets of the whole step: rows summed
        row = dict(zip(s.columns, r))
        m = merged.setdefault((row["pid"], row["comm"], row["mnt_ns"]), {
            "pid": row["pid"], "comm": row["comm"], "mnt_ns": row["mnt_ns"], "runq_us": 0, "waits": 0,
            "oncpu_us": 0, "hist": np.zeros(HIST_SLOTS, np.int64)})
        m["runq_us"] += int(row["runq_latency_sum_us"])
        m["waits"] += int(row["runq_waits"])
        m["oncpu_us"] += int(row["oncpu_us"])
        m["hist"] += as_hist(row["runq_latency_hist"])
    return list(merged.values())


def top_waiters(store, tr: TimeRange, host=None, window=None, limit: int = 20, order: str = "runq_ms") -> list[dict]:
    """Processes by time spent waiting for a CPU over the range (sched_process):
    the run-queue wait, its count, mean and p99, and CPU time, largest `order`
    (runq_ms or oncpu_ms) first."""
    merged: dict[tuple, dict] = {}
    for p in process_totals(store, tr, host, window):
        m = merged.setdefault((p["pid"], p["comm"]), {"runq_us": 0, "waits": 0, "oncpu_us": 0,
                                                      "hist": np.zeros(HIST_SLOTS, np.int64)})
        for k in ("runq_us", "waits", "oncpu_us", "hist"):
            m[k] = m[k] + p[k]
    key = {"runq_ms": "runq_us", "oncpu_ms": "oncpu_us"}[order]
    ranked = sorted(merged.items(), key=lambda kv: kv[1][key], reverse=True)[:limit]
    return [{"pid": pid, "comm": comm, "runq_ms": round(m["runq_us"] / 1000, 1), "waits": m["waits"],
             "mean_us": round(m["runq_us"] / m["waits"], 1) if m["waits"] else None,
             "p99_us": round(quantile_us(m["hist"], 0.99), 1) if m["waits"] else None,
             "oncpu_ms": round(m["oncpu_us"] / 1000, 1)}
            for (pid, comm), m in ranked]
