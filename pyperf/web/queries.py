"""The SQL behind the web pages and the JSON API, in one place."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from pyperf.analysis.histogram import quantile_us
from pyperf.store import rollups

DISK_QUEUE = """
SELECT device, argMax(queue_depth_avg, ts) AS avg, max(queue_depth_max) AS max
FROM disk_queue
WHERE host = {host:String} AND ts >= now64(3) - toIntervalSecond({seconds:UInt32})
GROUP BY device
"""

SLOW_IO = """
SELECT ts, device, op, bytes, latency_us, pid, comm
FROM disk_slow_io
WHERE host = {host:String} AND ts < {before:DateTime64(6)}
ORDER BY ts DESC
LIMIT {limit:UInt32}
"""


HOSTS = """
SELECT DISTINCT host FROM agent_counters WHERE ts >= now64(3) - toIntervalDay(7) ORDER BY host
"""


def hosts(store) -> list[str]:
    """Hosts whose agents wrote into this store in the last week, this one first."""
    others = [r[0] for r in store.query(HOSTS).rows if r[0] != store.host_name]
    return [store.host_name, *others]


def disk_series(store, seconds: int = 300, host: str | None = None, window=None) -> dict:
    """{"t": [...], "devices": {name: {"iops": [...], "bytes_per_s": [...], "p50_us": [...],
    "p99_us": [...]}}} with one aligned time axis (None where a device had no I/O).
    Recent rows come from the live window, long ranges from the 1-minute or 1-hour
    rollups (pyperf/store/rollups.py)."""
    end = dt.datetime.now(dt.timezone.utc)
    series = rollups.series(store, "disk_io", end - dt.timedelta(seconds=seconds), end + dt.timedelta(seconds=1),
                            by=("device",), host=host, window=window)
    col = {name: i for i, name in enumerate(series.columns)}
    times = sorted({r[col["bucket"]] for r in series.rows})
    index = {t: i for i, t in enumerate(times)}
    devices: dict[str, dict[str, list]] = {}
    for r in series.rows:
        d = devices.setdefault(r[col["device"]], {k: [None] * len(times)
                                                  for k in ("iops", "bytes_per_s", "p50_us", "p99_us")})
        i = index[r[col["bucket"]]]
        h = np.asarray(r[col["latency_hist"]])
        d["iops"][i] = round(float(r[col["ios"]]) / series.step_s, 2)
        d["bytes_per_s"][i] = round(float(r[col["bytes"]]) / series.step_s, 1)
        d["p50_us"][i] = round(quantile_us(h, 0.50), 1)
        d["p99_us"][i] = round(quantile_us(h, 0.99), 1)
    return {"t": [epoch(t) for t in times], "devices": devices, "level": series.level, "step_s": series.step_s}


def epoch(t) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()


def _live(window, table: str, store, host: str | None) -> bool:
    """Whether the live window answers for `table` (this host, and it has rows)."""
    return window is not None and host in (None, store.host_name) and window.since(table) is not None


def disk_queue(store, seconds: int = 10, host: str | None = None, window=None) -> dict[str, dict]:
    if _live(window, "disk_queue", store, host):
        rows = window.rows("disk_queue", time.time() - seconds)
        out: dict[str, dict] = {}
        for ts, device, avg, mx in sorted(zip(rows.get("ts", []), rows.get("device", []),
                                             rows.get("queue_depth_avg", []), rows.get("queue_depth_max", []))):
            last = out.setdefault(device, {"avg": 0.0, "max": 0})
            last["avg"] = float(avg)                 # the newest interval's, as argMax(…, ts)
            last["max"] = max(last["max"], int(mx))
        return out
    rows = store.query(DISK_QUEUE, {"host": host or store.host_name, "seconds": seconds}).rows
    return {device: {"avg": float(avg), "max": int(mx)} for device, avg, mx in rows}


SLOW_KEYS = ("ts", "device", "op", "bytes", "latency_us", "pid", "comm")


def slow_ios(store, limit: int = 20, host: str | None = None, window=None) -> list[dict]:
    """The newest slow I/Os: from the live window, then the store for what came before it."""
    found: list[dict] = []
    since = None
    if _live(window, "disk_slow_io", store, host):
        since = window.since("disk_slow_io")
        rows = window.rows("disk_slow_io", since)
        recent = sorted(zip(*(rows.get(k, []) for k in SLOW_KEYS)), key=lambda r: r[0], reverse=True)
        found = [dict(zip(SLOW_KEYS, (dt.datetime.fromtimestamp(r[0], dt.timezone.utc), *r[1:])))
                 for r in recent[:limit]]
    if len(found) < limit:
        # the store only for what came before the window (or everything, without one)
        before = since if since is not None else time.time() + 86400
        params = {"host": host or store.host_name, "limit": limit - len(found),
                  "before": dt.datetime.fromtimestamp(before, dt.timezone.utc)}
        found += [dict(zip(SLOW_KEYS, r)) for r in store.query(SLOW_IO, params).rows]
    return found
