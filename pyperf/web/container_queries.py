"""The Containers pages' data: every container over a range against the
requirements' container thresholds, and one container's resources over time,
run-queue and disk latency, response time per port, retransmits by peer and
its processes (container_resources, container_of, sched_process,
disk_container_io, response_time, tcp_event)."""

from __future__ import annotations

import numpy as np

from pyperf.analysis import thresholds
from pyperf.analysis.histogram import quantile_us
from pyperf.store import pool, rollups
from pyperf.web import chart_data, cpu_queries, network_queries, response_queries
from pyperf.web.timerange import TimeRange

# Per mount namespace (and cgroup), the container it belongs to now, as the view
# container_of says, in one aggregate instead of its eleven and six more over
# them: 7.6 -> 4.9 ms (docs/performance.md, eleventh round).
IDENTITY = """
SELECT mnt_ns, argMax((id, name, image, runtime, pod_name, namespace), ts), max(ts) AS seen
FROM containers
WHERE host = {host:String}
GROUP BY mnt_ns, cgroup_id
ORDER BY seen
"""

NET_NS = """
SELECT groupUniqArray(net_ns) FROM containers WHERE host = {host:String} AND id = {id:String} AND net_ns != 0
"""


MIB = 1024**2


def _max(current: float | None, value) -> float | None:
    """The larger, where NaN (no limit set) counts as nothing."""
    value = chart_data.finite(float(value))
    if value is None:
        return current
    return value if current is None else max(current, value)


@pool.shared
def identities(store, host, window=None) -> dict[str, dict]:
    """Container id -> name, image, runtime, pod and mount namespaces: stored, and
    what the agent saw since its last flush (the live window's containers rows)."""
    known: dict[str, dict] = {}
    for mnt_ns, (cid, name, image, runtime, pod, namespace), _ in store.query(
            IDENTITY, {"host": host or store.host_name}).rows:
        c = known.setdefault(cid, {"mnt_ns": []})
        # the newest row's names: ordered by when each namespace was last seen
        c.update(name=name, image=image, runtime=runtime, pod=pod, namespace=namespace)
        c["mnt_ns"] = sorted({*c["mnt_ns"], mnt_ns})
    if window is not None and host in (None, store.host_name) and window.since("containers") is not None:
        recent = window.rows("containers", 0)
        for i, cid in enumerate(recent.get("id", [])):
            c = known.setdefault(cid, {"name": "", "image": "", "runtime": "", "pod": "", "namespace": "",
                                       "mnt_ns": []})
            c.update(name=recent["name"][i], image=recent["image"][i], runtime=recent["runtime"][i],
                     pod=recent.get("pod_name", [""] * (i + 1))[i], namespace=recent.get("namespace", [""] * (i + 1))[i])
            if recent["mnt_ns"][i] not in c["mnt_ns"]:
                c["mnt_ns"] = sorted([*c["mnt_ns"], recent["mnt_ns"][i]])
    return known


# what the containers table shows
TABLE_COLUMNS = ("cpu_pct_of_host", "cpu_pct_of_limit", "memory_pct_of_limit", "memory_bytes", "major_faults",
                 "throttled_periods", "throttled_us", "periods", "io_read_bytes", "io_write_bytes",
                 "net_rx_bytes", "net_tx_bytes", "oom_kills")


def containers(store, tr: TimeRange, host=None, window=None, known: dict | None = None) -> list[dict]:
    """Per container over the range: CPU (% of the host and of its limit), throttling,
    memory (and % of its limit), I/O and network bytes, OOM kills; the peaks
    compared with the requirements' container thresholds; busiest first."""
    s = rollups.series(store, "container_resources", tr.start, tr.end, step_s=tr.whole_step,
                       by=("container_id", "name"), host=host, window=window, columns=TABLE_COLUMNS,
                       extremes=("cpu_pct_of_limit", "memory_bytes", "memory_pct_of_limit"))
    if known is None:
        known = identities(store, host, window) if s.rows else {}
    out: dict[str, dict] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        c = out.setdefault(row["container_id"], {
            "id": row["container_id"], "name": row["name"], "cpu_pct_of_host": 0.0, "cpu_pct_of_limit_max": None,
            "throttled_periods": 0, "periods": 0, "memory_max_mib": 0.0, "memory_pct_of_limit_max": None,
            "io_mib": 0.0, "net_mib": 0.0, "oom_kills": 0, "major_faults": 0, "samples": 0, "throttled_s": 0.0,
            "cpu_limit_sum": 0.0, "memory_limit_sum": 0.0, "limited_samples": 0, "memory_limited_samples": 0})
        n = int(row["samples"])
        c["samples"] += n
        c["cpu_pct_of_host"] += float(row["cpu_pct_of_host_avg"]) * n
        # means of "% of its limit" over the samples that had a limit (NaN without one)
        if chart_data.finite(float(row["cpu_pct_of_limit_avg"])) is not None:
            c["cpu_limit_sum"] += float(row["cpu_pct_of_limit_avg"]) * n
            c["limited_samples"] += n
        if chart_data.finite(float(row["memory_pct_of_limit_avg"])) is not None:
            c["memory_limit_sum"] += float(row["memory_pct_of_limit_avg"]) * n
            c["memory_limited_samples"] += n
        c["major_faults"] += int(row["major_faults"])
        c["cpu_pct_of_limit_max"] = _max(c["cpu_pct_of_limit_max"], row["cpu_pct_of_limit_max"])
        c["throttled_periods"] += int(row["throttled_periods"])
        c["throttled_s"] += int(row["throttled_us"]) / 1e6
        c["periods"] += int(row["periods"])
        c["memory_max_mib"] = max(c["memory_max_mib"], float(row["memory_bytes_max"]) / MIB)
        c["memory_pct_of_limit_max"] = _max(c["memory_pct_of_limit_max"], row["memory_pct_of_limit_max"])
        c["io_mib"] += (int(row["io_read_bytes"]) + int(row["io_write_bytes"])) / MIB
        c["net_mib"] += (int(row["net_rx_bytes"]) + int(row["net_tx_bytes"])) / MIB
        c["oom_kills"] += int(row["oom_kills"])
    listed = []
    for c in out.values():
        c["cpu_pct_of_host"] = round(c["cpu_pct_of_host"] / c["samples"], 2) if c["samples"] else 0.0
        limited, memory_limited = c.pop("limited_samples"), c.pop("memory_limited_samples")
        cpu_sum, memory_sum = c.pop("cpu_limit_sum"), c.pop("memory_limit_sum")
        c["cpu_pct_of_limit_avg"] = round(cpu_sum / limited, 1) if limited else None
        c["memory_pct_of_limit_avg"] = round(memory_sum / memory_limited, 1) if memory_limited else None
        c["throttled_pct"] = round(100 * c["throttled_periods"] / c["periods"], 1) if c["periods"] else 0.0
        c["cpu_level"] = thresholds.level(c["cpu_pct_of_limit_max"], thresholds.CONTAINER["cpu_pct"])
        c["memory_level"] = thresholds.level(c["memory_pct_of_limit_max"], thresholds.CONTAINER["memory_pct"])
        for k in ("cpu_pct_of_limit_max", "throttled_s", "memory_max_mib", "memory_pct_of_limit_max", "io_mib", "net_mib"):
            c[k] = round(c[k], 1) if c[k] is not None else None
        c.update({k: v for k, v in known.get(c["id"], {}).items() if k != "mnt_ns"})
        listed.append(c)
    return sorted(listed, key=lambda c: c["cpu_pct_of_host"], reverse=True)


# what one container's charts draw (each aggregate read costs: only these)
CHART_COLUMNS = ("cpu_pct_of_host", "cpu_pct_of_limit", "throttled_periods", "memory_bytes", "rss_bytes", "cache_bytes",
                 "memory_pct_of_limit", "io_read_bytes", "io_write_bytes", "net_rx_bytes", "net_tx_bytes")


def container_charts(store, container_id: str, tr: TimeRange, host=None, window=None) -> dict:
    s = rollups.series(store, "container_resources", tr.start, tr.end, where={"container_id": container_id},
                       host=host, window=window, columns=CHART_COLUMNS)
    per_s = lambda column: chart_data.rate("container_resources", column, s.step_s)    # noqa: E731
    avg = lambda column: chart_data.average("container_resources", column, 2)          # noqa: E731
    return {
        "cpu": chart_data.lines(s, {"of host": avg("cpu_pct_of_host"), "of its limit": avg("cpu_pct_of_limit")}),
        "throttling": chart_data.lines(s, {"throttled periods": per_s("throttled_periods")}),
        "memory": chart_data.lines(s, {"used": avg("memory_bytes"), "RSS": avg("rss_bytes"),
                                       "page cache": avg("cache_bytes")}),
        "memory_pct": chart_data.lines(s, {"of its limit": avg("memory_pct_of_limit")}),
        "io": chart_data.lines(s, {"read": per_s("io_read_bytes"), "written": per_s("io_write_bytes")}),
        "network": chart_data.lines(s, {"received": per_s("net_rx_bytes"), "sent": per_s("net_tx_bytes")}),
    }


def container_processes(store, container_id: str, tr: TimeRange, host=None, window=None,
                        limit: int = 20) -> list[dict]:
    """The container's processes (its mount namespaces) by CPU time over the range."""
    namespaces = identities(store, host, window).get(container_id, {}).get("mnt_ns", [])
    merged: dict[tuple, dict] = {}
    for mnt_ns in namespaces:
        s = rollups.series(store, "sched_process", tr.start, tr.end, step_s=tr.whole_step,
                           by=("pid", "comm"), where={"mnt_ns": mnt_ns}, host=host, window=window,
                           columns=("oncpu_us", "runq_latency_sum_us"))
        for r in s.rows:
            row = dict(zip(s.columns, r))
            m = merged.setdefault((row["pid"], row["comm"]), {"oncpu_us": 0, "runq_us": 0})
            m["oncpu_us"] += int(row["oncpu_us"])
            m["runq_us"] += int(row["runq_latency_sum_us"])
    ranked = sorted(merged.items(), key=lambda kv: kv[1]["oncpu_us"], reverse=True)[:limit]
    return [{"pid": pid, "comm": comm, "oncpu_ms": round(m["oncpu_us"] / 1000, 1),
             "runq_ms": round(m["runq_us"] / 1000, 1)} for (pid, comm), m in ranked]


def container(store, container_id: str, host=None, window=None) -> dict | None:
    """Name, image, runtime, pod of one container; None when this host never saw it."""
    return identities(store, host, window).get(container_id)


def _merged(store, table: str, tr: TimeRange, namespaces: list[int], host, window, hist: str) -> rollups.Series:
    """One histogram of a rolled-up table over several mount namespaces as one series."""
    rows, level, step, columns = [], None, None, []
    for ns in namespaces:
        s = rollups.series(store, table, tr.start, tr.end, where={"mnt_ns": ns}, host=host, window=window,
                           columns=(hist,))
        rows += s.rows
        level, step, columns = s.level, s.step_s, s.columns
    return rollups.Series(level or "raw", step or 1, columns or ["bucket"], rows)


def container_detail(store, container_id: str, tr: TimeRange, host=None, window=None) -> dict:
    """Everything one container's page shows over the range."""
    namespaces = identities(store, host, window).get(container_id, {}).get("mnt_ns", [])
    params = {"host": host or store.host_name, "id": container_id, "mnt_ns": namespaces,
              "start": tr.start, "end": tr.end}
    # the charts, heatmaps and processes on the read pool, the rest here meanwhile
    reads = {name: pool.submit(fn, *args) for name, (fn, *args) in {
        "charts": (container_charts, store, container_id, tr, host, window),
        "runq": (_merged, store, "sched_process", tr, namespaces, host, window, "runq_latency_hist"),
        "disk": (_merged, store, "disk_container_io", tr, namespaces, host, window, "latency_hist"),
        "processes": (container_processes, store, container_id, tr, host, window)}.items()}
    mine = set(namespaces)
    pids = {pid for pid, ns in pids_by_ns(store, tr, host, window) if ns in mine}
    servers = response_queries.servers(store, tr, host, window, pids=pids)
    response_p99 = response_queries.response_charts(store, tr, host, window, pids=pids)["p99"]
    net_ns = store.query(NET_NS, params).rows[0][0]
    peers = network_queries.peers(store, tr, host, net_ns=sorted(net_ns)) if net_ns else []
    reads = {name: f.result() for name, f in reads.items()}
    charts = reads["charts"]
    charts["runq"] = chart_data.heatmap(reads["runq"], "sched_process", "runq_latency_hist")
    charts["disk_latency"] = chart_data.heatmap(reads["disk"], "disk_container_io", "latency_hist")
    charts["response_p99"] = response_p99
    return {"charts": charts, "processes": reads["processes"], "servers": servers, "peers": peers}


RETRANSMITS_BY_NETNS = """
SELECT net_ns, sum(segs) FROM tcp_event
WHERE host = {host:String} AND kind = 'retransmit' AND ts >= {start:DateTime64(3)} AND ts < {end:DateTime64(3)}
GROUP BY net_ns
"""
NETNS_OF = """
SELECT id, groupUniqArray(net_ns) FROM containers WHERE host = {host:String} AND net_ns != 0 GROUP BY id
"""
LAYER_ACCESSES_BY_NS = """
SELECT mnt_ns, sum(reads + (mmap_pages > 0)) FROM layer_file_access
WHERE host = {host:String} AND ts >= {start:DateTime64(3)} AND ts < {end:DateTime64(3)}
GROUP BY mnt_ns
"""
TOP_SORTS = ("cpu", "memory", "io", "runq_p99", "response_p99", "retransmits", "layer_accesses")


def top_containers(store, tr: TimeRange, host=None, window=None, sort: str = "cpu", limit: int = 20) -> list[dict]:
    """The Overview's table: per container over the range, CPU, peak memory, I/O,
    run-queue p99 of its processes, response p99 of its servers, retransmitted
    segments in its network namespace and image-layer accesses per minute, sorted
    by one of TOP_SORTS (largest first)."""
    known = identities(store, host, window)
    listed = containers(store, tr, host, window, known=known)
    params = {"host": host or store.host_name, "start": tr.start, "end": tr.end}
    column = {"cpu": "cpu_pct_of_host", "memory": "memory_max_mib", "io": "io_mib", "runq_p99": "runq_p99_us",
              "response_p99": "response_p99_us", "retransmits": "retransmits",
              "layer_accesses": "layer_accesses_per_min"}[sort]

    def ranked(cs: list[dict]) -> list[dict]:
        return sorted(cs, key=lambda c: (c[column] is not None, c[column] or 0), reverse=True)[:limit]
    if listed and column in listed[0]:
        listed = ranked(listed)       # sorted on a figure known already: the costly p99s of those shown only
    shown = {c["id"] for c in listed}
    owner = {ns: cid for cid, c in known.items() if cid in shown for ns in c["mnt_ns"]}

    runq: dict[str, np.ndarray] = {}
    pid_owner: dict[int, str] = {}
    for p in cpu_queries.process_totals(store, tr, host, window) if owner else ():
        cid = owner.get(p["mnt_ns"])
        if cid is not None:
            runq[cid] = runq.get(cid, 0) + p["hist"]
            pid_owner[p["pid"]] = cid
    response: dict[str, np.ndarray] = {}
    # every server's totals, which the findings' servers read too (one read for both)
    for (pid, _, _), server in (response_queries.server_totals(store, tr, host, window) if pid_owner else {}).items():
        cid = pid_owner.get(pid)
        if cid is not None:
            response[cid] = response.get(cid, 0) + server["hist"]

    segs_by_ns = dict(store.query(RETRANSMITS_BY_NETNS, params).rows)
    retransmits = {cid: sum(int(segs_by_ns.get(ns, 0)) for ns in namespaces)
                   for cid, namespaces in store.query(NETNS_OF, params).rows}
    accesses = layer_accesses_per_min(store, tr, host, owner)

    def p99(h) -> float | None:
        return round(quantile_us(h, 0.99), 1) if h is not None and h.sum() else None

    for c in listed:
        c["runq_p99_us"] = p99(runq.get(c["id"]))
        c["response_p99_us"] = p99(response.get(c["id"]))
        c["retransmits"] = retransmits.get(c["id"], 0)
        c["layer_accesses_per_min"] = round(accesses.get(c["id"], 0.0), 1)
        c["response_level"] = thresholds.level(c["response_p99_us"], thresholds.CONTAINER["response_time_us"])
        c["layer_level"] = thresholds.level(c["layer_accesses_per_min"], thresholds.CONTAINER["layer_accesses_per_min"])
    return ranked(listed)



def layer_accesses_per_min(store, tr: TimeRange, host, owner: dict[int, str]) -> dict[str, float]:
    """Image-layer accesses per minute of the range, per container (owner: mount
    namespace -> container id); from the store (the layer probe's rows are not in
    the live window)."""
    minutes = max(tr.seconds / 60, 1.0)
    accesses: dict[str, float] = {}
    params = {"host": host or store.host_name, "start": tr.start, "end": tr.end}
    for ns, n in store.query(LAYER_ACCESSES_BY_NS, params).rows:
        if ns in owner:
            accesses[owner[ns]] = accesses.get(owner[ns], 0.0) + int(n) / minutes
    return accesses


@pool.shared
def pids_by_ns(store, tr: TimeRange, host, window) -> list[tuple[int, int]]:
    """(pid, mount namespace) of every process seen over the range, from the rollup
    level the range reads. response_time rows carry a pid, not a namespace: a
    container's servers are the processes seen in its mount namespaces."""
    s = rollups.series(store, "sched_process", tr.start, tr.end, step_s=tr.whole_step,
                       by=("pid", "mnt_ns"), host=host, window=window, columns=())
    return [(r[1], r[2]) for r in s.rows]
