"""The SQL behind the web pages and the JSON API, in one place."""

from __future__ import annotations

import numpy as np

from pyperf.analysis.histogram import quantile_us

DISK_SERIES = """
SELECT toUnixTimestamp64Milli(ts) / 1000 AS t,
       device,
       sum(ios) / (any(interval_ms) / 1000) AS iops,
       sum(bytes) / (any(interval_ms) / 1000) AS bytes_per_s,
       sumForEach(latency_hist) AS hist
FROM disk_io
WHERE host = {host:String} AND ts >= now64(3) - toIntervalSecond({seconds:UInt32})
GROUP BY t, device
ORDER BY t, device
"""

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


def disk_series(store, seconds: int = 300) -> dict:
    """{"t": [...], "devices": {name: {"iops": [...], "bytes_per_s": [...], "p50_us": [...],
    "p99_us": [...]}}} with one aligned time axis (None where a device had no I/O)."""
    rows = store.query(DISK_SERIES, {"host": store.host_name, "seconds": seconds}).rows
    times = sorted({r[0] for r in rows})
    index = {t: i for i, t in enumerate(times)}
    devices: dict[str, dict[str, list]] = {}
    for t, device, iops, bps, hist in rows:
        d = devices.setdefault(device, {k: [None] * len(times)
                                        for k in ("iops", "bytes_per_s", "p50_us", "p99_us")})
        i = index[t]
        h = np.asarray(hist)
        d["iops"][i] = round(float(iops), 2)
        d["bytes_per_s"][i] = round(float(bps), 1)
        d["p50_us"][i] = round(quantile_us(h, 0.50), 1)
        d["p99_us"][i] = round(quantile_us(h, 0.99), 1)
    return {"t": [float(t) for t in times], "devices": devices}


def disk_queue(store, seconds: int = 10) -> dict[str, dict]:
    rows = store.query(DISK_QUEUE, {"host": store.host_name, "seconds": seconds}).rows
    return {device: {"avg": float(avg), "max": int(mx)} for device, avg, mx in rows}


def slow_ios(store, limit: int = 20) -> list[dict]:
    rows = store.query(SLOW_IO, {"host": store.host_name, "limit": limit}).rows
    keys = ("ts", "device", "op", "bytes", "latency_us", "pid", "comm")
    return [dict(zip(keys, r)) for r in rows]
