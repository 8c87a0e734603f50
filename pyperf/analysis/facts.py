"""What the rules look at: per scope, one dict per subject (the host, each
container, device, peer, server, process, image, blocking stack) with the
numbers a rule compares and quotes, over one time range. Read through the
same query functions as the dashboard's pages, so a finding's numbers are the
ones its linked view shows; with the agent's live window, the part of the
range not stored yet comes from memory.

Every subject carries `subject` (what a person calls it), `id` (what a
machine calls it) and `view` (the dashboard path that shows it)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import numpy as np

from pyperf.analysis import baseline, indicators, thresholds
from pyperf.analysis.histogram import quantile_us
from pyperf.store import rollups
from pyperf.web import container_queries, cpu_queries, disk_queries, flame_queries, memory_queries, network_queries
from pyperf.web import response_queries
from pyperf.web.timerange import TimeRange

# costliest first (24 h, 50 containers: ~75, 75, 65, 25 ms, the rest under 15): the
# order they are read in on pyperf.store.pool's two threads
SCOPES = ("series", "container", "host", "server", "device", "process", "neighbour", "peer", "image",
          "container_layers", "stack")


def _one(store, table: str, tr: TimeRange, host, window, **kw) -> dict:
    return rollups.totals(store, table, tr.start, tr.end, host, window, **kw)


def _p99(hist) -> float | None:
    return round(quantile_us(hist, 0.99), 1) if hist is not None and np.sum(hist) else None


def _range_args(tr: TimeRange) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in tr.query_args().items())


def host(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """The host: utilisation, saturation and errors of CPU, memory, disk and
    network, and the performance score. Rates are per second the agent covered."""
    mem = _one(store, "system_host", tr, host_name, window,
               columns=("mem_used_pct", "psi_memory_some_pct", "psi_cpu_some_pct", "psi_io_full_pct",
                        "swap_in_pages", "major_faults"))
    if not mem:
        return []
    seconds = max(mem["interval_ms"] / 1000.0, 1.0)
    sched = _one(store, "sched_cpu", tr, host_name, window, columns=("runq_latency_hist", "runq_latency_sum_us"))
    cpus = rollups.series(store, "system_cpu", tr.start, tr.end, step_s=tr.whole_step, by=("cpu",), host=host_name,
                          window=window, columns=("busy_pct",))
    at_cpu, busy, samples, interval = (cpus.columns.index(c) for c in ("cpu", "busy_pct_avg", "samples", "interval_ms"))
    # CPU time the tasks got, summed over the CPUs (each CPU row: busy % of its intervals)
    cpu_time_s = sum(float(r[busy]) / 100 * int(r[interval]) / 1000 for r in cpus.rows if r[at_cpu] >= 0)
    # the host's row (cpu -1), its buckets weighted by the rows behind them
    whole = [(float(r[busy]), int(r[samples])) for r in cpus.rows if r[at_cpu] == -1]
    host_busy = sum(b * n for b, n in whole) / sum(n for _, n in whole) if sum(n for _, n in whole) else None
    disk_ios = sum(d["ios"] for d in disk_queries.devices(store, tr, host_name, window))    # (read for them too)
    tcp = _one(store, "tcp_host", tr, host_name, window,
               columns=("retransmit_segments", "out_segments", "resets_sent", "failed_connects", "active_opens"))
    net = rollups.series(store, "system_net", tr.start, tr.end, step_s=tr.whole_step, by=("interface",),
                         host=host_name, window=window, columns=("rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped"))
    nics = [dict(zip(net.columns, r)) for r in net.rows]
    net_bytes = sum(int(n["rx_bytes"]) + int(n["tx_bytes"]) for n in nics if n["interface"] != "lo")
    net_dropped = sum(int(n["rx_dropped"]) + int(n["tx_dropped"]) for n in nics)
    util = rollups.series(store, "system_disk", tr.start, tr.end, step_s=tr.whole_step, by=("device",),
                          host=host_name, window=window, columns=("util_pct",))
    busiest_util = max((float(r[util.columns.index("util_pct_avg")]) for r in util.rows), default=None)
    out_segments = tcp.get("out_segments", 0)
    facts = {
        "subject": host_name or store.host_name, "id": host_name or store.host_name,
        "view": f"/?{_range_args(tr)}", "seconds": round(seconds),
        "cpu_busy_pct": _round(host_busy),
        "runq_p99_us": _p99(sched.get("runq_latency_hist")),
        "memory_used_pct": _round(mem.get("mem_used_pct_avg")),
        "memory_pressure_pct": _round(mem.get("psi_memory_some_pct_avg")),
        "cpu_pressure_pct": _round(mem.get("psi_cpu_some_pct_avg")),
        "io_pressure_full_pct": _round(mem.get("psi_io_full_pct_avg")),
        "swap_in_pages_per_s": round(mem.get("swap_in_pages", 0) / seconds, 2),
        "major_faults_per_s": round(mem.get("major_faults", 0) / seconds, 2),
        "disk_iops": round(disk_ios / seconds, 1),
        "disk_busiest_util_pct": _round(busiest_util),
        "network_bytes_per_s": round(net_bytes / seconds),
        "network_drops_per_s": round(net_dropped / seconds, 2),
        "retransmitted_segments": int(tcp.get("retransmit_segments", 0)),
        "out_segments": int(out_segments),
        "retransmit_pct": round(100.0 * tcp.get("retransmit_segments", 0) / out_segments, 3) if out_segments else None,
        "resets_sent_per_s": round(tcp.get("resets_sent", 0) / seconds, 2),
        "failed_connects": int(tcp.get("failed_connects", 0)),
        "active_opens": int(tcp.get("active_opens", 0)),
    }
    facts["efficiency_ratio"] = (indicators.efficiency_ratio(cpu_time_s, sched.get("runq_latency_sum_us", 0) / 1e6)
                                 if sched else None)
    facts["utilisation_pct"] = indicators.utilisation(
        facts["cpu_busy_pct"], facts["memory_used_pct"], facts["disk_busiest_util_pct"],
        facts["network_bytes_per_s"], thresholds.HOST["network_bytes_per_s"])
    facts["performance_score"] = indicators.performance_score(
        facts["cpu_busy_pct"], facts["memory_used_pct"], facts["disk_busiest_util_pct"],
        facts["network_bytes_per_s"], thresholds.HOST["network_bytes_per_s"])
    return [facts]


def _round(value, digits: int = 1):
    return round(float(value), digits) if value is not None and np.isfinite(value) else None


def containers(store, tr: TimeRange, host_name=None, window=None, cheap: bool = False) -> list[dict]:
    """Each container: CPU against its limit and throttling, memory against its
    limit, OOM kills, run-queue and response p99 of its processes, retransmits in
    its network namespace, image-layer accesses per minute. `cheap` (the alerts,
    every few seconds) leaves out the run-queue, response and retransmit figures:
    they need per-process rows the live window does not hold."""
    if cheap:
        listed = container_queries.containers(store, tr, host_name, window)
        accesses = {}
        if listed:          # an idle host without containers asks the store nothing
            known = container_queries.identities(store, host_name, window)
            owner = {ns: cid for cid, c in known.items() for ns in c["mnt_ns"]}
            accesses = container_queries.layer_accesses_per_min(store, tr, host_name, owner)
        for c in listed:
            c["layer_accesses_per_min"] = round(accesses.get(c["id"], 0.0), 1)
    else:
        listed = container_queries.top_containers(store, tr, host_name, window, limit=1_000_000)
    out = []
    for c in listed:
        out.append({**c, "subject": c["name"] or c["id"][:12], "id": c["id"],
                    "view": f"/containers/{quote(c['id'], safe='')}?{_range_args(tr)}"})
    return out


def devices(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Each block device: IOPS, latency p99 and average queue depth."""
    return [{**d, "subject": d["device"], "id": d["device"], "view": f"/disk?{_range_args(tr)}"}
            for d in disk_queries.devices(store, tr, host_name, window)]


def neighbours(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Per device with more than one container doing I/O: the container with the
    largest share of the device's I/Os (the candidate noisy neighbour), its share,
    and the worst p99 latency the *other* containers saw there."""
    per: dict[str, dict[str, dict]] = {}
    for row in disk_queries.by_container(store, tr, host_name, window):
        if not row["container_id"]:
            continue
        c = per.setdefault(row["device"], {}).setdefault(row["container_id"], {
            "name": row["container"], "ios": 0, "p99_us": None})
        c["ios"] += row["ios"]
        if row["p99_us"] is not None:
            c["p99_us"] = max(c["p99_us"] or 0.0, row["p99_us"])
    out = []
    known = container_queries.identities(store, host_name, window) if per else {}
    for device, by_id in per.items():
        if len(by_id) < 2:
            continue
        total = sum(c["ios"] for c in by_id.values())
        hog_id, hog = max(by_id.items(), key=lambda kv: kv[1]["ios"])
        others = [c for cid, c in by_id.items() if cid != hog_id]
        victim = max(others, key=lambda c: c["p99_us"] or 0.0)
        out.append({"subject": hog["name"], "id": hog_id, "device": device,
                    "runtime": known.get(hog_id, {}).get("runtime", ""),
                    "view": f"/disk?{_range_args(tr)}",
                    "io_share_pct": round(100.0 * hog["ios"] / total, 1) if total else 0.0,
                    "ios": hog["ios"], "iops": round(hog["ios"] / max(tr.seconds, 1), 1),
                    "others_p99_us": victim["p99_us"], "victim": victim["name"],
                    "others": ", ".join(sorted(c["name"] for c in others))})
    return out


def peers(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Each (peer, port) that retransmits or resets went to, with the processes
    and containers involved; per minute of the range."""
    merged: dict[tuple, dict] = {}
    minutes = max(tr.seconds / 60.0, 1.0)
    for p in network_queries.peers(store, tr, host_name, limit=10_000):
        m = merged.setdefault((p["peer"], p["port"]), {
            "subject": f"{p['peer']}:{p['port']}", "id": f"{p['peer']}:{p['port']}", "peer": p["peer"],
            "port": p["port"], "view": f"/network?{_range_args(tr)}", "retransmitted_segments": 0,
            "resets": 0, "comms": set(), "containers": set()})
        if p["kind"] in ("retransmit", "synack_retransmit"):
            m["retransmitted_segments"] += int(p["segments"] or p["events"])
        elif p["kind"].startswith("reset"):
            m["resets"] += int(p["events"])
        m["comms"].add(p["comm"])
        if p["container"]:
            m["containers"].add(p["container"])
    out = []
    for m in merged.values():
        m["retransmits_per_min"] = round(m["retransmitted_segments"] / minutes, 1)
        m["resets_per_min"] = round(m["resets"] / minutes, 1)
        m["comms"] = ", ".join(sorted(c for c in m["comms"] if c))
        m["containers"] = ", ".join(sorted(m["containers"])) or "host"
        out.append(m)
    return out


def servers(store, tr: TimeRange, host_name=None, window=None, cheap: bool = False) -> list[dict]:
    """Each server process and port: requests and response time p99, with the
    container it runs in (not when `cheap`: that needs per-process rows from the store)."""
    pid_container: dict[int, str] = {}
    if not cheap:
        known = container_queries.identities(store, host_name, window)
        owner = {ns: c["name"] or cid[:12] for cid, c in known.items() for ns in c["mnt_ns"]}
        # from the per-process read the containers' facts make too (one read less)
        pid_container = {p["pid"]: owner[p["mnt_ns"]] for p in cpu_queries.process_totals(store, tr, host_name, window)
                         if p["mnt_ns"] in owner}
    out = []
    for s in response_queries.servers(store, tr, host_name, window, limit=10_000):
        container = None if cheap else pid_container.get(s["pid"], "host")      # None: not looked up
        place = "" if container is None else " on the host" if container == "host" else f" in container {container}"
        out.append({**s, "subject": f"{s['comm']} (pid {s['pid']}) port {s['port']}", "id": f"{s['pid']}:{s['port']}",
                    "container": container, "place": place,
                    "view": f"/response?{_range_args(tr)}"})
    return out


def processes(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Each process by page faults: major faults per second and page-cache hit ratio."""
    seconds = max(tr.seconds, 1.0)
    return [{**p, "subject": f"{p['comm']} (pid {p['pid']})", "id": str(p["pid"]),
             "major_faults_per_s": round(p["major"] / seconds, 2),
             "cache_lookups_per_s": round(p["cache_lookups"] / seconds, 1), "view": f"/memory?{_range_args(tr)}"}
            for p in memory_queries.top_faulting(store, tr, host_name, window, limit=10_000)]


def images(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Each image with indexed layers: image layers none of its containers ever
    read (ids and bytes), the share of the image's bytes read, shadowed and
    deleted bytes. Over everything recorded, not only the range: a layer read
    at start-up an hour ago was read."""
    from pyperf.layers import report as layer_report
    by_image: dict[str, list] = {}
    for c in layer_report.containers(store, host_name):
        by_image.setdefault(c["image"] or c["name"], []).append((c, layer_report.report(store, c["mnt_ns"], host_name)))
    out = []
    for image, reports in by_image.items():
        r = layer_report.rollup(image, reports)
        unread = [layer for layer in r["layers"] if layer["id"] in r["never_read_layers"]]
        out.append({"subject": image, "id": image, "view": f"/layers?image={quote(image, safe='')}",
                    "containers": ", ".join(r["containers"]),
                    "unread_bytes": sum(layer["bytes"] for layer in unread),
                    "unread_layers": ", ".join(f"{layer['id']} ({layer['bytes']} B)" for layer in unread),
                    "image_bytes": r["image_bytes"], "read_pct": round(100.0 * r["share_of_image_read"], 1)})
    return out


DEEP_LAYER_INDEX = 8          # layers above a file (index 0: the writable layer) from which a lookup walks far


def container_layers(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Each container with indexed layers: what it wrote into its writable layer
    (copy-ups of image files and new data, MiB) and how often its hot files were
    read from deep image layers. Over everything recorded, as `images`."""
    from pyperf.layers import report as layer_report
    out = []
    for c in layer_report.containers(store, host_name):
        r = layer_report.report(store, c["mnt_ns"], host_name)
        written = sum(f["folios_dirtied"] for f in r["files_written"]) * 4096
        deep = [f for f in r["hot_files"] if f["layer"] >= DEEP_LAYER_INDEX]
        out.append({"subject": c["name"] or c["id"][:12], "id": c["id"], "image": c["image"],
                    "view": f"/layers?container={quote(c['id'], safe='')}",
                    "writable_layer_mib": round((written + r["copy_up_bytes"]) / 2**20, 1),
                    "copy_ups": len(r["copy_ups"]), "files_written": len(r["files_written"]),
                    "deep_hot_reads": sum(f["reads"] + (1 if f["mmap_pages"] else 0) for f in deep),
                    "deep_hot_files": ", ".join(f"{f['path']} (layer {f['layer']})" for f in deep[:5]),
                    "layers": len(r["layers"])})
    return out


def stacks(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """The stack the host's threads spent the most off-CPU time in, with its share
    of all off-CPU time over the range."""
    found = flame_queries.stacks(store, tr, host_name, kind="offcpu")
    total = sum(w for _, w in found)
    if not found or not total:
        return []
    folded, weight = found[0]
    frames = folded.split(";")
    return [{"subject": frames[-1], "id": folded, "stack": " ← ".join(reversed(frames[-6:])),
             "share_pct": round(100.0 * weight / total, 1), "blocked_s_per_min": round(weight / 1e6 / max(tr.seconds / 60, 1), 2),
             "view": f"/flame?kind=offcpu&{_range_args(tr)}"}]


# series with a learned baseline: (label, table, where, by, column, per second)
BASELINED = (
    ("host CPU busy %", "system_cpu", {"cpu": -1}, (), "busy_pct_avg", False),
    ("host memory used %", "system_host", None, (), "mem_used_pct_avg", False),
    ("disk IOPS", "disk_io", None, (), "ios", True),
    ("container CPU % of host", "container_resources", None, ("container_id", "name"), "cpu_pct_of_host_avg", False),
)


PAST_FITS = baseline.BandCache()


def series(store, tr: TimeRange, host_name=None, window=None) -> list[dict]:
    """Each baselined series (the host's CPU, memory and IOPS, each container's
    CPU) over the range at 1-minute points, scored against what its past week
    says is usual at that hour (pyperf.analysis.baseline): the share of points
    that were anomalous and the worst."""
    past_start = tr.start - dt.timedelta(seconds=baseline.HISTORY_S)
    out = []
    for label, table, where, by, column, per_second in BASELINED:
        def learn(table=table, where=where, by=by, column=column, per_second=per_second):
            past = rollups.minute_points(store, table, past_start, tr.start, column, where, by, per_second, host_name)
            return {key: baseline.fit(*points) for key, points in past.items()}
        # the week before the range, fitted again every REFIT_S (a moving range's start
        # moves within its REFIT_S slot; a week's baseline does not change in minutes)
        fits = PAST_FITS.cached((store.address.redacted(), host_name or store.host_name, label,
                                 int(tr.start.timestamp() // baseline.REFIT_S)), learn)
        now = rollups.minute_points(store, table, tr.start, tr.end, column, where, by, per_second, host_name, window)
        for key, (ts, values) in now.items():
            ts, values = np.asarray(ts), np.asarray(values)
            b = fits.get(key)
            if b is None:
                continue
            scores = baseline.scores(b, ts, values)
            flagged = baseline.anomalous(scores)
            worst = int(np.argmax(scores))
            low, high = baseline.band(b, ts[worst:worst + 1])
            name = f"{label} ({key[1] or key[0][:12]})" if by else label
            out.append({"subject": name, "id": f"{table}:{':'.join(map(str, key))}", "points": len(values),
                        "anomaly_pct": round(100.0 * flagged.mean(), 1), "max_score": round(float(scores[worst]), 1),
                        "worst_value": round(float(values[worst]), 2),
                        "worst_at": dt.datetime.fromtimestamp(ts[worst], dt.timezone.utc).isoformat(timespec="minutes"),
                        "usual": f"{max(low[0], 0):.1f} to {high[0]:.1f}", "learned_points": b.points,
                        "view": f"/?{_range_args(tr)}"})
    return out


CHEAP = {"container": containers, "server": servers}     # scopes with a cheaper form for the alerts
GATHER = {"host": host, "container": containers, "device": devices, "neighbour": neighbours, "peer": peers,
          "server": servers, "process": processes, "image": images, "container_layers": container_layers,
          "stack": stacks, "series": series}
assert set(GATHER) == set(SCOPES)
