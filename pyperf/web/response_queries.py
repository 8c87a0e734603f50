"""The Response time page's data: per server process and port, requests and
p50/p99 latency over time against the 100 ms threshold of the requirements
(response_time; the live range from the agent's window)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from pyperf.analysis import thresholds
from pyperf.analysis.histogram import HIST_SLOTS, as_hist, as_hists, quantile_us, quantiles_us
from pyperf.store import pool, rollups
from pyperf.web import chart_data
from pyperf.web.timerange import TimeRange

MAX_SERVERS = 8             # lines per chart; the table lists more


@pool.shared
def server_totals(store, tr: TimeRange, host=None, window=None,
                  pids: tuple[int, ...] | None = None) -> dict[tuple, dict]:
    """(pid, comm, port) -> requests and latency histogram over the whole range (of
    these processes, if given): the servers table, and which servers the charts draw."""
    s = rollups.series(store, "response_time", tr.start, tr.end, step_s=tr.whole_step,
                       by=("pid", "comm", "port"), host=host, window=window, columns=("requests", "latency_hist"),
                       where={"pid": list(pids)} if pids is not None else None, ordered=False)
    merged: dict[tuple, dict] = {}
    for r in s.rows:
        row = dict(zip(s.columns, r))
        m = merged.setdefault((row["pid"], row["comm"], row["port"]),
                              {"requests": 0, "hist": np.zeros(HIST_SLOTS, np.int64)})
        m["requests"] += int(row["requests"])
        m["hist"] += as_hist(row["latency_hist"])
    return merged


def servers(store, tr: TimeRange, host=None, window=None, limit: int = 20, pids: set[int] | None = None) -> list[dict]:
    """Server processes and ports over the range (of these processes, if given), busiest first."""
    if pids is not None and not pids:
        return []
    merged = server_totals(store, tr, host, window, tuple(sorted(pids)) if pids is not None else None)
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1]["requests"], kv[0]))[:limit]
    out = []
    for (pid, comm, port), m in ranked:
        p99 = round(quantile_us(m["hist"], 0.99), 1) if m["requests"] else None
        out.append({"pid": pid, "comm": comm, "port": port, "requests": m["requests"],
                    "per_s": round(m["requests"] / max(tr.seconds, 1), 2),
                    "p50_us": round(quantile_us(m["hist"], 0.5), 1) if m["requests"] else None,
                    "p99_us": p99, "over_threshold": p99 is not None and p99 > thresholds.CONTAINER["response_time_us"]})
    return out


def response_charts(store, tr: TimeRange, host=None, window=None, pids: set[int] | None = None) -> dict:
    """Per server (command:port, the busiest MAX_SERVERS), requests per second and
    p50/p99 per bucket; the p99 chart carries the threshold as a line. Given
    `pids`, only theirs, each process apart (command[pid]:port)."""
    if pids is None:
        # the busiest servers' rows only, filtered in the engine: 24 h of 50 servers'
        # histograms in 5-minute buckets were most of the page's time (docs/performance.md)
        busiest: Counter[tuple] = Counter()
        for (_, comm, port), m in server_totals(store, tr, host, window).items():
            busiest[(comm, port)] += m["requests"]
        drawn = sorted(busiest, key=lambda k: (-busiest[k], k))[:MAX_SERVERS]
        s = rollups.series(store, "response_time", tr.start, tr.end, by=("comm", "port"), host=host, window=window,
                           columns=("requests", "latency_hist"),
                           where={"comm": sorted({c for c, _ in drawn}), "port": sorted({p for _, p in drawn})}
                           if drawn else None)          # (no servers: no rows either)
        column = {name: i for i, name in enumerate(s.columns)}
        wanted = set(drawn)         # (the filter lets through other ports of the same commands)
        s = s._replace(rows=[r for r in s.rows if (r[column["comm"]], r[column["port"]]) in wanted])
        names = [f"{r[column['comm']]}:{r[column['port']]}" for r in s.rows]
    else:
        # the processes' own rows only, filtered in the engine (a host may run many servers)
        s = rollups.series(store, "response_time", tr.start, tr.end, by=("pid", "comm", "port"), host=host,
                           window=window, columns=("requests", "latency_hist"), where={"pid": sorted(pids) or [-1]})
        column = {name: i for i, name in enumerate(s.columns)}
        names = [f"{r[column['comm']]}[{r[column['pid']]}]:{r[column['port']]}" for r in s.rows]
    totals: Counter[str] = Counter()
    for name, r in zip(names, s.rows):
        totals[name] += int(r[column["requests"]])
    shown = {name for name, _ in totals.most_common(MAX_SERVERS)}
    rows = [(r, name) for name, r in zip(names, s.rows) if name in shown]
    hists = as_hists(r[column["latency_hist"]] for r, _ in rows)
    served = np.asarray([int(r[column["requests"]]) > 0 for r, _ in rows], bool)
    # every bucket's p50 and p99 in one go: 24 h of 50 servers are 15 000 buckets
    p50s, p99s = (np.where(served, np.round(quantiles_us(hists, q), 1), np.nan).tolist() for q in (0.5, 0.99))
    keep = rollups.Series(s.level, s.step_s, [*s.columns, "server", "p50", "p99"],
                          [(*r, name, p50, p99) for (r, name), p50, p99 in zip(rows, p50s, p99s)])
    quantile = lambda q: chart_data.quantile("response_time", "latency_hist", lambda row: row[q])    # noqa: E731
    charts = chart_data.charts_by_key(keep, "server", {
        "requests": chart_data.rate("response_time", "requests", s.step_s), "p50": quantile("p50"),
        "p99": quantile("p99")})
    limit = thresholds.CONTAINER["response_time_us"]
    charts["p99"]["series"][f"threshold {limit / 1000:g} ms"] = [limit] * len(charts["p99"]["t"])
    return charts
