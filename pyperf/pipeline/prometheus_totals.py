"""/metrics from the column spec. Every table declared with `metrics=True` (the
host's, CPUs', devices', interfaces', containers' and servers' per-interval
tables) becomes Prometheus families named pyperf_<table>_<column>, in base
units: counters cumulative since the agent started (`_total`), gauges the
latest interval's value, log2 µs histograms as histograms in seconds with
their `<name>_sum_us` counter as the sum, a Map column as one gauge per key.

Labels are the table's scalar keys, which name one row per interval, so a
gauge is one row's value and never a mix of several; a table that declares
`metric_labels` (response_time: command and port, not pid) has the rows of
its other keys summed into one series, and no gauges. A label set not seen for
FORGET_S (a container gone, a server stopped) is dropped, as Prometheus marks
a vanished series stale; if it comes back its counters start again from zero,
which rate() reads as a reset.

The collector hands each drain's rows over (a copy of the columns named: one
list per column, nothing computed); they are summed when /metrics is read, or
once MAX_PENDING of them wait, so an agent nobody scrapes does this work in
bulk rather than every second."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from pyperf.schema import COUNTER, GAUGE, HISTOGRAM, KEY, Table

FORGET_S = 900.0
MAX_PENDING = 600          # tables' drains: about a minute of every exported table (~3 MB with 50 containers)
_NOT_LABELS = ("ts", "host")


@dataclass(frozen=True)
class Family:
    name: str
    kind: str               # counter, gauge, histogram or map (a gauge per map key)
    column: str
    doc: str
    scale: float = 1.0      # stored unit -> base unit
    sum_column: str = ""    # a histogram's sum (µs)
    key_label: str = ""     # a map's key


def _base_unit(name: str, unit: str) -> tuple[str, float]:
    """A column's name and scale in Prometheus' base units (seconds, percent spelt out)."""
    if unit == "µs":
        return re.sub(r"(_sum)?_us$", "", name) + "_seconds", 1e-6
    if unit == "%":
        spelt = re.sub(r"_pct(?=_|$)", "_percent", name)
        return spelt if spelt != name else f"{name}_percent", 1.0
    return name, 1.0


def families_of(table: Table) -> tuple[tuple[str, ...], tuple[Family, ...]]:
    """(label columns, families) of one table, from its column spec."""
    scalar = [c for c in table.columns if not c.type.startswith(("Map(", "Array("))]
    labels = tuple(c.name for c in scalar if c.kind == KEY and c.name not in _NOT_LABELS)
    if table.metric_labels:
        labels = tuple(name for name in labels if name in table.metric_labels)
    names = set(table.names())
    hist_sums = {f"{c.name.removesuffix('_hist')}_sum_us" for c in table.columns if c.kind == HISTOGRAM}
    out = []
    for c in table.columns:
        prefix, doc = f"pyperf_{table.name}_", f"{c.doc} ({table.name}.{c.name})"
        if c.kind == HISTOGRAM:
            base = c.name.removesuffix("_hist")
            total = f"{base}_sum_us"
            out.append(Family(f"{prefix}{base}_seconds", "histogram", c.name, doc,
                              sum_column=total if total in names else ""))
        elif c.kind == COUNTER and c.name != "interval_ms" and c.name not in hist_sums:
            name, scale = _base_unit(c.name, c.unit)
            out.append(Family(f"{prefix}{name}", "counter", c.name, doc, scale))
        elif c.kind == GAUGE and not table.metric_labels:
            name, scale = _base_unit(c.name, c.unit)
            out.append(Family(f"{prefix}{name}", "gauge", c.name, doc, scale))
        elif c.type.startswith("Map("):
            # tcp_states -> one gauge per state
            out.append(Family(f"{prefix}{c.name}", "map", c.name, doc, key_label=c.name.rsplit("_", 1)[-1].rstrip("s")))
    return labels, tuple(out)


class _Series:
    __slots__ = ("counters", "hists", "gauges", "seen")

    def __init__(self):
        self.counters: dict[str, float] = {}
        self.hists: dict[str, np.ndarray] = {}
        self.gauges: dict[str, object] = {}
        self.seen = 0.0


class MetricTotals:
    def __init__(self, tables):
        self.specs = {t.name: families_of(t) for t in tables if t.metrics}
        self._columns = {name: ["ts", *labels, *{f.column for f in fams} | {f.sum_column for f in fams if f.sum_column}]
                         for name, (labels, fams) in self.specs.items()}
        self._pending: list[tuple[str, dict]] = []
        self._series: dict[str, dict[tuple, _Series]] = {name: {} for name in self.specs}
        self._lock = threading.Lock()

    def add(self, batch: dict) -> None:
        """Keep one drain's rows of the exported tables until the next read. They
        are kept, not copied: the caller hands over rows nobody changes (the
        collector, the live window's copies)."""
        for table, wanted in self._columns.items():
            columns = batch.get(table)
            if columns and columns.get("ts"):
                with self._lock:
                    self._pending.append((table, {c: columns[c] for c in wanted if c in columns}))
        if len(self._pending) > MAX_PENDING:
            self._fold()

    def _fold(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            latest = 0.0
            for table, columns in pending:
                latest = max(latest, self._fold_chunk(table, columns))
            for series in self._series.values():
                gone = [key for key, s in series.items() if s.seen < latest - FORGET_S]
                for key in gone:
                    del series[key]

    def _fold_chunk(self, table: str, columns: dict) -> float:
        labels, fams = self.specs[table]
        series = self._series[table]
        keys = list(zip(*(columns.get(label, ()) for label in labels))) if labels else [()] * len(columns["ts"])
        stamps = columns["ts"]
        for i, key in enumerate(keys):
            s = series.get(key)
            if s is None:
                s = series[key] = _Series()
            s.seen = max(s.seen, float(stamps[i]))
            for f in fams:
                values = columns.get(f.column)
                if values is None:
                    continue
                value = values[i]
                if f.kind == "counter":
                    s.counters[f.column] = s.counters.get(f.column, 0) + value
                elif f.kind == "histogram":
                    hist = np.asarray(value, np.int64)
                    have = s.hists.get(f.column)
                    if have is None or len(have) < len(hist):
                        have = np.pad(have if have is not None else np.zeros(0, np.int64),
                                      (0, len(hist) - (0 if have is None else len(have))))
                    have[: len(hist)] += hist
                    s.hists[f.column] = have
                    if f.sum_column and f.sum_column in columns:
                        s.counters[f.sum_column] = s.counters.get(f.sum_column, 0) + columns[f.sum_column][i]
                else:
                    s.gauges[f.column] = value
        return float(max(stamps))

    def families(self) -> list:
        """prometheus_client metric families of everything handed over so far."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        self._fold()
        out = []
        with self._lock:
            for table, (labels, fams) in self.specs.items():
                series = self._series[table]
                for f in fams:
                    if f.kind == "counter":
                        family = CounterMetricFamily(f.name, f.doc, labels=labels)
                        for key, s in series.items():
                            if f.column in s.counters:
                                family.add_metric([str(k) for k in key], s.counters[f.column] * f.scale)
                    elif f.kind == "gauge":
                        family = GaugeMetricFamily(f.name, f.doc, labels=labels)
                        for key, s in series.items():
                            if f.column in s.gauges:
                                family.add_metric([str(k) for k in key], float(s.gauges[f.column]) * f.scale)
                    elif f.kind == "map":
                        family = GaugeMetricFamily(f.name, f.doc, labels=[*labels, f.key_label])
                        for key, s in series.items():
                            for k, v in (s.gauges.get(f.column) or {}).items():
                                family.add_metric([*(str(x) for x in key), str(k)], float(v))
                    else:
                        family = HistogramMetricFamily(f.name, f.doc, labels=labels)
                        for key, s in series.items():
                            hist = s.hists.get(f.column)
                            if hist is None:
                                continue
                            cumulative = np.cumsum(hist)
                            # slot i counts [2^i, 2^(i+1)) µs: its upper bound is the bucket's le
                            buckets = [(f"{2.0 ** (i + 1) / 1e6:g}", int(n)) for i, n in enumerate(cumulative[:-1])]
                            buckets.append(("+Inf", int(cumulative[-1])))
                            total = s.counters.get(f.sum_column) if f.sum_column else None
                            family.add_metric([str(k) for k in key], buckets,
                                              None if total is None else total * 1e-6)
                    out.append(family)
        return out
