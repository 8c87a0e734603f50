"""The Compare page's data: every host metric and every container's CPU over
two ranges side by side, with the change."""

from __future__ import annotations

from pyperf.analysis.histogram import quantile_us
from pyperf.store import rollups
from pyperf.web.timerange import TimeRange


def _one(store, table: str, tr: TimeRange, host, window, **kw) -> dict:
    """The whole range as one bucket (gauges as their mean over it)."""
    out = rollups.totals(store, table, tr.start, tr.end, host, window, **kw)
    return {**out, "_seconds": tr.seconds} if out else {}


def _rate(d: dict, column: str):
    return round(d[column] / d["_seconds"], 2) if column in d else None


def _mean(d: dict, column: str):
    return round(d[column], 2) if d.get(column) is not None else None


def _p99(d: dict, column: str):
    h = d.get(column)
    return round(quantile_us(h, 0.99), 1) if h is not None and h.sum() else None


def summary(store, tr: TimeRange, host=None, window=None) -> dict[str, tuple[float | None, str]]:
    """metric -> (value over the range, unit)."""
    cpu = _one(store, "system_cpu", tr, host, window, where={"cpu": -1})
    mem = _one(store, "system_host", tr, host, window)
    disk = _one(store, "disk_io", tr, host, window)
    sched = _one(store, "sched_cpu", tr, host, window)
    tcp = _one(store, "tcp_host", tr, host, window)
    response = _one(store, "response_time", tr, host, window)
    return {
        "CPU busy": (_mean(cpu, "busy_pct_avg"), "%"),
        "memory used": (_mean(mem, "mem_used_pct_avg"), "%"),
        "memory pressure (some)": (_mean(mem, "psi_memory_some_pct_avg"), "%"),
        "context switches": (_rate(mem, "context_switches"), "/s"),
        "page faults": (_rate(mem, "page_faults"), "/s"),
        "major faults": (_rate(mem, "major_faults"), "/s"),
        "run-queue latency p99": (_p99(sched, "runq_latency_hist"), "µs"),
        "disk IOPS": (_rate(disk, "ios"), "/s"),
        "disk throughput": (_rate(disk, "bytes"), "B/s"),
        "disk latency p99": (_p99(disk, "latency_hist"), "µs"),
        "TCP retransmitted segments": (_rate(tcp, "retransmit_segments"), "/s"),
        "TCP resets sent": (_rate(tcp, "resets_sent"), "/s"),
        "TCP failed connects": (_rate(tcp, "failed_connects"), "/s"),
        "requests": (_rate(response, "requests"), "/s"),
        "response time p99": (_p99(response, "latency_hist"), "µs"),
    }


def container_cpu(store, tr: TimeRange, host=None, window=None) -> dict[str, float]:
    s = rollups.series(store, "container_resources", tr.start, tr.end, step_s=tr.whole_step,
                       by=("container_id", "name"), host=host, window=window, columns=("cpu_pct_of_host",))
    out: dict[str, list] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        acc = out.setdefault(row["name"] or row["container_id"][:12], [0.0, 0])
        acc[0] += float(row["cpu_pct_of_host_avg"]) * int(row["samples"])
        acc[1] += int(row["samples"])
    return {name: round(total / n, 2) for name, (total, n) in out.items() if n}


def _change(a, b) -> tuple:
    if a is None or b is None:
        return None, None
    delta = round(b - a, 2)
    return delta, (round(100 * delta / a, 1) if a else None)


def compare(store, a: TimeRange, b: TimeRange, host=None, window=None) -> dict:
    sa, sb = summary(store, a, host, window), summary(store, b, host, window)
    metrics = [{"metric": m, "unit": unit, "a": sa[m][0], "b": sb[m][0], **dict(zip(("delta", "delta_pct"),
                _change(sa[m][0], sb[m][0])))} for m, (_, unit) in sa.items()]
    ca, cb = container_cpu(store, a, host, window), container_cpu(store, b, host, window)
    containers = [{"container": name, "a": ca.get(name), "b": cb.get(name),
                   **dict(zip(("delta", "delta_pct"), _change(ca.get(name), cb.get(name))))}
                  for name in sorted(set(ca) | set(cb))]
    return {"metrics": metrics, "containers": containers}
