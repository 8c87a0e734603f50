"""The Overview page's data: the host's CPU, memory, disk and network against
the requirements' thresholds (tiles and charts), and the processes using the
most CPU."""

from __future__ import annotations

import datetime as dt

from pyperf import schema
from pyperf.analysis import baseline, indicators, thresholds
from pyperf.store import rollups
from pyperf.web import chart_data
from pyperf.web.timerange import TimeRange


def _series(store, table, tr: TimeRange, host, window, **kw) -> rollups.Series:
    return rollups.series(store, table, tr.start, tr.end, host=host, window=window, **kw)


def _tile(title: str, chart: dict, threshold: float, unit: str) -> dict:
    lines = [line for name, line in chart["series"].items() if name not in (baseline.BAND_LOW, baseline.BAND_HIGH)]
    values = [v for line in lines for v in line if v is not None]
    latest = next((line[i] for line in lines for i in range(len(line) - 1, -1, -1) if line[i] is not None), None)
    mean = sum(values) / len(values) if values else None
    return {"title": title, "latest": latest, "mean": mean, "peak": max(values) if values else None,
            "threshold": threshold, "unit": unit, "level": thresholds.level(latest, threshold),
            "peak_level": thresholds.level(max(values) if values else None, threshold)}


def host_charts(store, tr: TimeRange, host=None, window=None) -> dict:
    # only what the charts draw: system_host alone has ~50 aggregates
    cpu = _series(store, "system_cpu", tr, host, window, where={"cpu": -1}, columns=("busy_pct",))
    mem = _series(store, "system_host", tr, host, window, columns=("mem_used_pct",))
    disk = _series(store, "disk_io", tr, host, window, columns=("ios",))
    net = _series(store, "system_net", tr, host, window, by=("interface",), columns=("rx_bytes", "tx_bytes"))
    # the network is what leaves or enters through interfaces other than loopback
    by_bucket: dict = {}
    for r in net.rows:
        row = dict(zip(net.columns, r))
        if row["interface"] != "lo":
            by_bucket[row["bucket"]] = by_bucket.get(row["bucket"], 0) + int(row["rx_bytes"]) + int(row["tx_bytes"])
    net_total = rollups.Series(net.level, net.step_s, ["bucket", "bytes"], sorted(by_bucket.items()))
    charts = {
        "cpu": _with_band(store, host, tr, chart_data.lines(cpu, {"busy": chart_data.average("system_cpu", "busy_pct")}),
                          "system_cpu", "busy_pct", {"cpu": -1}),
        "memory": _with_band(store, host, tr,
                             chart_data.lines(mem, {"used": chart_data.average("system_host", "mem_used_pct")}),
                             "system_host", "mem_used_pct", None),
        "iops": chart_data.lines(disk, {"IOPS": chart_data.rate("disk_io", "ios", disk.step_s)}),
        # received and sent bytes summed: a rate of bytes
        "network": chart_data.lines(net_total, {"in + out": chart_data.Plot(
            "system_net", "rx_bytes", schema.PER_SECOND, lambda r: round(float(r["bytes"]) / net.step_s, 2))}),
    }
    util = _series(store, "system_disk", tr, host, window, by=("device",), columns=("util_pct",))
    busiest: dict = {}
    for r in util.rows:
        row = dict(zip(util.columns, r))
        busiest[row["bucket"]] = max(busiest.get(row["bucket"], 0.0), float(row["util_pct_avg"]))
    charts["score"] = score_chart(charts, {chart_data.epoch(t): v for t, v in busiest.items()})
    return charts


BANDS = baseline.BandCache()


def _with_band(store, host, tr: TimeRange, chart: dict, table: str, gauge: str, where) -> dict:
    """The chart with the usual range learned from the week before (pyperf.analysis.baseline)."""
    host = host or store.host_name

    def learn():
        end = dt.datetime.now(dt.timezone.utc)
        points = rollups.minute_points(store, table, end - dt.timedelta(seconds=baseline.HISTORY_S), end,
                                       f"{gauge}_avg", where, host=host)
        return points.get((), ([], []))
    return BANDS.add_band(chart, (id(store), host, table, gauge), learn)


def score_chart(charts: dict, disk_util: dict[float, float]) -> dict:
    """The performance score per bucket of the CPU chart, from the same buckets of
    the others (pyperf.analysis.indicators)."""
    def by_time(chart: dict) -> dict:
        line = next(iter(chart["series"].values()), [])
        return dict(zip(chart["t"], line))
    memory, network = by_time(charts["memory"]), by_time(charts["network"])
    cpu = charts["cpu"]
    values = [indicators.performance_score(c, memory.get(t), disk_util.get(t), network.get(t),
                                           thresholds.HOST["network_bytes_per_s"])
              for t, c in zip(cpu["t"], next(iter(cpu["series"].values()), []))]
    # the score is a percentage by definition (pyperf.analysis.indicators), of no one column
    return {**{k: v for k, v in cpu.items() if k != "series"}, "series": {"score": values}, "unit": "%"}


def tiles(charts: dict) -> list[dict]:
    t = thresholds.HOST
    score = _tile("Performance score", charts["score"], indicators.SCORE_ALERT_PCT, "%")
    score["level"] = indicators.score_level(score["latest"])
    score["peak_level"] = indicators.score_level(score["peak"])
    return [score, _tile("CPU", charts["cpu"], t["cpu_pct"], "%"),
            _tile("Memory", charts["memory"], t["memory_pct"], "%"),
            _tile("Disk", charts["iops"], t["disk_iops"], "IOPS"),
            _tile("Network", charts["network"], t["network_bytes_per_s"], "B/s")]


def with_latest(stats: list[dict], newest: list[dict]) -> list[dict]:
    """Tiles over the range (`stats`) with the latest values of `newest` (tiles of
    the last seconds only, as a live refresh computes them)."""
    out = []
    for tile, recent in zip(stats, newest):
        tile = dict(tile)
        if recent["latest"] is not None:
            tile["latest"], tile["level"] = recent["latest"], recent["level"]
            if tile["peak"] is None or recent["latest"] > tile["peak"]:
                tile["peak"], tile["peak_level"] = recent["latest"], recent["level"]
        out.append(tile)
    return out
