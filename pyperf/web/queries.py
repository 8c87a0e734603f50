"""The SQL behind the web pages and the JSON API, in one place."""

from __future__ import annotations

import datetime as dt

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
WHERE host = {host:String}
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


def disk_series(store, seconds: int = 300, host: str | None = None) -> dict:
    """{"t": [...], "devices": {name: {"iops": [...], "bytes_per_s": [...], "p50_us": [...],
    "p99_us": [...]}}} with one aligned time axis (None where a device had no I/O).
    Long ranges read the 1-minute or 1-hour rollups (pyperf/store/rollups.py)."""
    end = dt.datetime.now(dt.timezone.utc)
    series = rollups.series(store, "disk_io", end - dt.timedelta(seconds=seconds), end + dt.timedelta(seconds=1),
                            by=("device",), host=host)
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
    return {"t": [_epoch(t) for t in times], "devices": devices, "level": series.level, "step_s": series.step_s}


def _epoch(t) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()


def disk_queue(store, seconds: int = 10, host: str | None = None) -> dict[str, dict]:
    rows = store.query(DISK_QUEUE, {"host": host or store.host_name, "seconds": seconds}).rows
    return {device: {"avg": float(avg), "max": int(mx)} for device, avg, mx in rows}


def slow_ios(store, limit: int = 20, host: str | None = None) -> list[dict]:
    rows = store.query(SLOW_IO, {"host": host or store.host_name, "limit": limit}).rows
    keys = ("ts", "device", "op", "bytes", "latency_us", "pid", "comm")
    return [dict(zip(keys, r)) for r in rows]
