"""The alert thresholds of the requirements (../shared/requirements.md, "Alert
thresholds"): the defaults. The Settings page changes them on the running
agent (pyperf/settings.py); the dashboard colours values by them."""

from __future__ import annotations

from pyperf.analysis import indicators

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
# the findings' own thresholds (pyperf/analysis/rules.py); where each default comes
# from is in docs/performance_guide.md
FINDINGS = {
    "runq_p99_us": 10_000.0,            # run-queue wait p99 > 10 ms: runnable tasks wait for a CPU
    "pressure_pct": 10.0,               # PSI "some" > 10 %: tasks lost a tenth of their time stalled
    "swap_in_pages_per_s": 10.0,        # pages read back from swap per second
    "major_faults_per_s": 10.0,         # faults that waited for a disk read, per second (host or process)
    "throttled_pct": 10.0,              # share of a container's CFS periods in which it was throttled
    "disk_p99_us": 50_000.0,            # disk request latency p99 > 50 ms
    "disk_queue_depth": 8.0,            # average requests in flight on one device
    "noisy_share_pct": 70.0,            # one container's share of a device's I/Os ...
    "noisy_victim_p99_us": 20_000.0,    # ... while another container's p99 there is over 20 ms
    "network_drops_per_s": 10.0,        # packets dropped by the interfaces (queues or buffers full)
    "retransmit_pct": 1.0,              # host: retransmitted / sent segments
    "peer_retransmits_per_min": 30.0,   # one peer and port
    "failed_connects": 10.0,            # connects that failed over the range
    "image_unread_bytes": 10 * 2**20,   # image layers never read by any container
    "offcpu_share_pct": 50.0,           # one stack holds this share of all off-CPU time
    "oom_kills": 0.0,                   # any
    "peer_resets_per_min": 30.0,        # resets to or from one peer and port
    "cache_hit_ratio": 0.9,             # a busy reader's page-cache hit ratio under this
    "writable_layer_mib": 50.0,         # written into a container's writable layer (copy-ups and new data)
    "deep_hot_reads": 1000.0,           # reads of hot files from layers with 8 or more above them
    "anomaly_pct": 10.0,                # share of a series' minutes its learned baseline calls anomalous
    "score_alert_pct": indicators.SCORE_ALERT_PCT,   # the requirements' indicator: alert > 80 %
    "efficiency_alert": indicators.EFFICIENCY_ALERT,  # the requirements' indicator: alert < 0.6
    "utilisation_alert_pct": indicators.UTILISATION_ALERT_PCT,   # the requirements' indicator: alert > 85 %
}
ALERT_FOR_S = 30.0                      # an alert fires after its condition held this long
CLEAR_FRACTION = 0.9                    # ... and resolves below 90 % of its threshold (hysteresis)
WARN_FRACTION = 0.8                     # shown as a warning from 80 % of a threshold


def value(key: str) -> float:
    """A threshold by its path: "host.cpu_pct", "container.memory_pct", "findings.throttled_pct"."""
    scope, _, name = key.partition(".")
    return {"host": HOST, "container": CONTAINER, "findings": FINDINGS}[scope][name]


def level(value: float | None, threshold: float) -> str:
    """"none" without a value, "over" above the threshold, "warn" near it, else "ok"."""
    if value is None:
        return "none"
    if value > threshold:
        return "over"
    return "warn" if value > threshold * WARN_FRACTION else "ok"
