"""The Disk page's data: per device IOPS, throughput and p50/p99 latency over the
range, a latency heatmap of all devices, each device's totals and queue depth,
I/O per container, and the slow I/Os (optionally of one container)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, as_hist, as_hists, quantile_us, quantiles_us
from pyperf.store import pool, rollups
from pyperf.web import chart_data, container_queries
from pyperf.web.timerange import TimeRange

MIB = 1024**2


def charts(store, tr: TimeRange, host=None, window=None) -> dict:
    s = rollups.series(store, "disk_io", tr.start, tr.end, by=("device",), host=host, window=window,
                       columns=("ios", "bytes", "latency_hist"))
    hists = as_hists(r[s.columns.index("latency_hist")] for r in s.rows)     # (no rows, maybe no such column)
    served = hists.sum(axis=1) > 0
    # every bucket's p50 and p99 in one go (one at a time, 24 h of 8 devices took
    # ~27 % of the page's CPU: docs/performance.md)
    p50s, p99s = (np.where(served, np.round(quantiles_us(hists, q), 1), np.nan).tolist() for q in (0.5, 0.99))
    s = rollups.Series(s.level, s.step_s, [*s.columns, "p50", "p99"],
                       [(*r, p50, p99) for r, p50, p99 in zip(s.rows, p50s, p99s)])
    quantile = lambda q: chart_data.quantile("disk_io", "latency_hist", lambda row: row[q])    # noqa: E731
    return {
        **chart_data.charts_by_key(s, "device", {"iops": chart_data.rate("disk_io", "ios", s.step_s),
                                                 "bytes_per_s": chart_data.rate("disk_io", "bytes", s.step_s),
                                                 "p50_us": quantile("p50"), "p99_us": quantile("p99")}),
        "latency": chart_data.heatmap(rollups.series(store, "disk_io", tr.start, tr.end, host=host, window=window,
                                                     columns=("latency_hist",)),
                                      "disk_io", "latency_hist"),
    }


@pool.shared
def devices(store, tr: TimeRange, host=None, window=None) -> list[dict]:
    """Per device over the range: I/Os, mean IOPS, bytes, p50/p99 latency, queue
    depth (the findings' host I/O rate is their sum)."""
    s = rollups.series(store, "disk_io", tr.start, tr.end, step_s=tr.whole_step, by=("device",), host=host,
                       window=window, columns=("ios", "bytes", "latency_hist"))
    q = rollups.series(store, "disk_queue", tr.start, tr.end, step_s=tr.whole_step, by=("device",), host=host,
                       window=window, columns=("queue_depth_avg", "queue_depth_max"), extremes=("queue_depth_max",))
    queue = {row["device"]: row for row in (dict(zip(q.columns, r)) for r in q.rows)}
    out: dict[str, dict] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        d = out.setdefault(row["device"], {"device": row["device"], "ios": 0, "bytes": 0,
                                           "hist": np.zeros(HIST_SLOTS, np.int64)})
        d["ios"] += int(row["ios"])
        d["bytes"] += int(row["bytes"])
        d["hist"] += as_hist(row["latency_hist"])
    listed = []
    for name, d in sorted(out.items()):
        present = bool(d["hist"].sum())
        qrow = queue.get(name, {})
        listed.append({"device": name, "ios": d["ios"], "iops": round(d["ios"] / max(tr.seconds, 1), 2),
                       "mib": round(d["bytes"] / MIB, 2),
                       "p50_us": round(quantile_us(d["hist"], 0.5), 1) if present else None,
                       "p99_us": round(quantile_us(d["hist"], 0.99), 1) if present else None,
                       "queue_avg": round(float(qrow["queue_depth_avg_avg"]), 2) if qrow else None,
                       "queue_max": int(qrow["queue_depth_max_max"]) if qrow else None})
    return listed


def by_container(store, tr: TimeRange, host=None, window=None) -> list[dict]:
    """I/O each container submitted over the range, per device and operation,
    with its latency (disk_container_io; the host's own I/O is not in it)."""
    s = rollups.series(store, "disk_container_io", tr.start, tr.end, step_s=tr.whole_step,
                       by=("mnt_ns", "device", "op"), host=host, window=window)
    owner = {}
    for cid, c in container_queries.identities(store, host, window).items():
        for ns in c["mnt_ns"]:
            owner[ns] = (cid, c["name"])
    out: dict[tuple, dict] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        cid, name = owner.get(row["mnt_ns"], ("", f"mount ns {row['mnt_ns']}"))
        d = out.setdefault((cid, name, row["device"], row["op"]), {"ios": 0, "bytes": 0, "latency_sum_us": 0,
                                                                   "hist": np.zeros(HIST_SLOTS, np.int64)})
        d["ios"] += int(row["ios"])
        d["bytes"] += int(row["bytes"])
        d["latency_sum_us"] += int(row["latency_sum_us"])
        d["hist"] += as_hist(row["latency_hist"])
    rows = [{"container_id": cid, "container": name, "device": device, "op": op, "ios": d["ios"],
             "mib": round(d["bytes"] / MIB, 2),
             "mean_us": round(d["latency_sum_us"] / d["ios"], 1) if d["ios"] else None,
             "p99_us": round(quantile_us(d["hist"], 0.99), 1) if d["hist"].sum() else None}
            for (cid, name, device, op), d in out.items()]
    return sorted(rows, key=lambda r: -r["ios"])


SLOW_IO = """
SELECT ts, device, op, bytes, latency_us, pid, comm, mnt_ns
FROM disk_slow_io
WHERE host = {host:String} AND ts >= {start:DateTime64(6)} AND ts < {end:DateTime64(6)}
  AND (empty({mnt_ns:Array(UInt64)}) OR has({mnt_ns:Array(UInt64)}, mnt_ns))
  AND (empty({device:String}) OR device = {device:String})
ORDER BY ts DESC
LIMIT {limit:UInt32}
"""
SLOW_KEYS = ("ts", "device", "op", "bytes", "latency_us", "pid", "comm", "mnt_ns")


def slow_ios(store, tr: TimeRange, host=None, window=None, namespaces: list[int] | None = None,
             limit: int = 50, device: str = "") -> list[dict]:
    """The newest slow I/Os in the range (of these mount namespaces and this device,
    if given): from the live window, then from the store for what came before it."""
    found: list[dict] = []
    end = tr.end.timestamp()
    wanted = set(namespaces or ())
    if window is not None and host in (None, store.host_name) and window.since("disk_slow_io") is not None:
        since = window.since("disk_slow_io")
        rows = window.rows("disk_slow_io", max(since, tr.start.timestamp()), end)
        recent = sorted(zip(*(rows.get(k, [0] * len(rows.get("ts", []))) for k in SLOW_KEYS)),
                        key=lambda r: r[0], reverse=True)
        found = [dict(zip(SLOW_KEYS, (dt.datetime.fromtimestamp(r[0], dt.timezone.utc), *r[1:])))
                 for r in recent if (not wanted or r[-1] in wanted) and (not device or r[1] == device)][:limit]
        end = min(end, since)
    if len(found) < limit and end > tr.start.timestamp():
        params = {"host": host or store.host_name, "limit": limit - len(found), "start": tr.start,
                  "end": dt.datetime.fromtimestamp(end, dt.timezone.utc), "mnt_ns": sorted(wanted), "device": device}
        found += [dict(zip(SLOW_KEYS, r)) for r in store.query(SLOW_IO, params).rows]
    return found
