"""The requirements' indicators (../shared/requirements.md, "Indicators").

Performance score = (CPU + memory + disk + network) / 4, each a utilisation in
% of its capacity: CPU busy %, memory used %, the busiest disk's busy time
(/proc/diskstats io_ticks, what iostat calls %util), and the network's bytes per
second against the network threshold (100 MB/s by default: virtual NICs report
no link speed to measure against), capped at 100. Target < 60 %, alert > 80 %.

Efficiency ratio = output / input, target > 0.8, alert < 0.6. Output is the
CPU time the host's tasks got (busy time summed over CPUs, /proc/stat); input
is the CPU time they asked for: that plus the time they waited runnable on a
run queue (sched_cpu's run-queue latency, the sched probe). 1.0 means no task
ever waited for a CPU; 0.5 means tasks waited as long as they ran.

Resource utilisation = used / available of the busiest resource: CPU busy %,
memory used %, the busiest disk's busy time %, network bytes/s as % of the
network threshold. Target < 70 %, alert > 85 %."""

from __future__ import annotations

SCORE_TARGET_PCT = 60.0
SCORE_ALERT_PCT = 80.0
EFFICIENCY_TARGET = 0.8
EFFICIENCY_ALERT = 0.6
UTILISATION_TARGET_PCT = 70.0
UTILISATION_ALERT_PCT = 85.0


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


def efficiency_ratio(cpu_time_s: float, runq_wait_s: float) -> float | None:
    """CPU time delivered / CPU time asked for; None when nothing ran."""
    asked = cpu_time_s + runq_wait_s
    return round(cpu_time_s / asked, 3) if asked > 0 else None


def utilisation(cpu_pct: float | None, memory_pct: float | None, disk_util_pct: float | None,
                network_bytes_per_s: float | None, network_capacity_bytes_per_s: float) -> float | None:
    """The busiest resource's used / available, in %."""
    parts = [p for p in (cpu_pct, memory_pct, min(100.0, disk_util_pct) if disk_util_pct is not None else None,
                         100.0 * network_bytes_per_s / network_capacity_bytes_per_s
                         if network_bytes_per_s is not None else None) if p is not None]
    return round(min(100.0, max(parts)), 1) if parts else None
