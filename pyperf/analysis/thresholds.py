"""The alert thresholds of the requirements (../shared/requirements.md, "Alert
thresholds"): the defaults. The Settings page changes them on the running
agent (pyperf/settings.py); the dashboard colours values by them."""

from __future__ import annotations

# host, sampled every second
HOST = {
    "cpu_pct": 80.0,                    # CPU usage > 80 %
    "memory_pct": 85.0,                 # memory usage > 85 %
    "disk_iops": 1000.0,                # disk I/O > 1000 IOPS
    "network_bytes_per_s": 100e6,       # network I/O > 100 MB/s (SI megabytes)
}
# container, sampled every second (of its own limits)
CONTAINER = {
    "cpu_pct": 70.0,                    # CPU > 70 %
    "memory_pct": 75.0,                 # memory > 75 %
    "response_time_us": 100_000.0,      # response time > 100 ms
    "layer_accesses_per_min": 1000.0,   # layer access > 1000/min
}
WARN_FRACTION = 0.8                     # shown as a warning from 80 % of a threshold


def level(value: float | None, threshold: float) -> str:
    """"none" without a value, "over" above the threshold, "warn" near it, else "ok"."""
    if value is None:
        return "none"
    if value > threshold:
        return "over"
    return "warn" if value > threshold * WARN_FRACTION else "ok"
