"""The requirements' indicators (../shared/requirements.md, "Indicators").

Performance score = (CPU + memory + disk + network) / 4, each a utilisation in
% of its capacity: CPU busy %, memory used %, the busiest disk's busy time
(/proc/diskstats io_ticks, what iostat calls %util), and the network's bytes per
second against the network threshold (100 MB/s by default: virtual NICs report
no link speed to measure against), capped at 100. Target < 60 %, alert > 80 %."""

from __future__ import annotations

SCORE_TARGET_PCT = 60.0
SCORE_ALERT_PCT = 80.0


def score_level(value: float | None) -> str:
    """"none", "ok" under the target, "warn" between target and alert, "over" above."""
    if value is None:
        return "none"
    return "over" if value > SCORE_ALERT_PCT else "warn" if value > SCORE_TARGET_PCT else "ok"


def performance_score(cpu_pct: float | None, memory_pct: float | None, disk_util_pct: float | None,
                      network_bytes_per_s: float | None, network_capacity_bytes_per_s: float) -> float | None:
    """The score of one moment; None without CPU or memory (a component that is
    absent, no disk or network activity, counts as 0 %)."""
    if cpu_pct is None or memory_pct is None:
        return None
    network_pct = min(100.0, 100.0 * (network_bytes_per_s or 0.0) / network_capacity_bytes_per_s)
    return round((cpu_pct + memory_pct + min(100.0, disk_util_pct or 0.0) + network_pct) / 4, 1)
