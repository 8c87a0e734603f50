"""Rollup rows (pyperf.store.rollups.series) turned into the shapes charts.js
draws: lines per key, lines per column, and log2 histograms as heatmaps. Every
line is a Plot of a stored column, so a chart's unit comes from the column
spec (pyperf.schema.shown_unit), not from the page."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pyperf import schema
from pyperf.analysis.histogram import HIST_SLOTS, as_hist, quantile_us, slot_bounds_us
from pyperf.schema import catalog
from pyperf.store import rollups
from pyperf.web.queries import epoch


@dataclass(frozen=True)
class Plot:
    """One line of a chart: the number a row shows, and the stored column it is
    (table, column, how it is shown) for the chart's unit."""
    table: str
    column: str
    how: str
    value: Callable[[dict], float | None]

    @property
    def unit(self) -> str:
        return _shown_unit(self.table, self.column, self.how)


@functools.cache
def _shown_unit(table: str, column: str, how: str) -> str:
    """(every live refresh asks again: the spec does not change while running)"""
    return schema.shown_unit(catalog.table(table).column(column), how)


def rate(table: str, column: str, step_s: int) -> Plot:
    """A counter per second over each bucket."""
    return Plot(table, column, schema.PER_SECOND, lambda r: round(float(r[column]) / step_s, 2))


def average(table: str, column: str, digits: int = 1) -> Plot:
    """A gauge's mean over each bucket (the rollups' <column>_avg)."""
    return Plot(table, column, schema.AS_STORED, lambda r: round(float(r[f"{column}_avg"]), digits))


def quantile(table: str, column: str, value: Callable[[dict], float | None]) -> Plot:
    """A quantile of a histogram column, computed by `value` from the row."""
    return Plot(table, column, schema.QUANTILE, value)


def _unit(plots) -> str:
    units = {p.unit for p in plots}
    if len(units) != 1:
        raise ValueError(f"one chart, one unit: {sorted(units)}")
    return units.pop()


def finite(value):
    """None for NaN and infinities (a container without a limit has no "% of
    limit"): JSON has no NaN, and a chart draws a gap for None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(series: rollups.Series) -> list[dict]:
    return [dict(zip(series.columns, r)) for r in sorted(series.rows, key=lambda r: r[0])]


def _natural(name: str):
    return (0, int(name)) if name.lstrip("-").isdigit() else (1, name)


def lines_by_key(series: rollups.Series, key: str, plot: Plot) -> dict:
    """{"t": [epoch s], "series": {key value: [per bucket, None where absent]},
    "unit"} from rows grouped by one key column, each showing `plot`."""
    return charts_by_key(series, key, {"": plot})[""]


def charts_by_key(series: rollups.Series, key: str, plots: dict[str, Plot]) -> dict[str, dict]:
    """{name: lines_by_key(series, key, plot)} for each of `plots`, the rows made
    into dicts once (a page drawing 24 h of servers three ways did it three times)."""
    rows = _rows(series)
    times = sorted({r["bucket"] for r in rows})
    index = {t: i for i, t in enumerate(times)}
    t = [epoch(b) for b in times]
    out = {}
    for name, plot in plots.items():
        lines: dict[str, list] = {}
        for row in rows:
            lines.setdefault(str(row[key]), [None] * len(times))[index[row["bucket"]]] = finite(plot.value(row))
        out[name] = {"t": t, "series": dict(sorted(lines.items(), key=lambda kv: _natural(kv[0]))),
                     "unit": plot.unit, "step_s": series.step_s, "level": series.level}
    return out


def lines(series: rollups.Series, plots: dict[str, Plot]) -> dict:
    """{"t", "series": {label: [value per bucket]}, "unit"} from rows without
    keys, a Plot per label (of one unit)."""
    rows = _rows(series)
    return {"t": [epoch(r["bucket"]) for r in rows],
            "series": {label: [finite(plot.value(r)) for r in rows] for label, plot in plots.items()},
            "unit": _unit(plots.values()), "step_s": series.step_s, "level": series.level}


def heatmap(series: rollups.Series, table: str, column: str) -> dict:
    """A log2 µs histogram column of `table` over time, summed over any keys:
    counts per slot and bucket ("counts"[slot][bucket], slots up to the highest
    used) and the p50/p99 lines."""
    by_bucket: dict = {}
    for row in _rows(series):
        by_bucket[row["bucket"]] = by_bucket.get(row["bucket"], 0) + as_hist(row[column])
    times = sorted(by_bucket)
    counts = np.zeros((HIST_SLOTS, len(times)), np.int64)
    p50, p99 = [], []
    for i, t in enumerate(times):
        h = by_bucket[t]
        counts[:, i] = h
        present = bool(h.sum())
        p50.append(round(quantile_us(h, 0.5), 1) if present else None)
        p99.append(round(quantile_us(h, 0.99), 1) if present else None)
    used = np.flatnonzero(counts.sum(axis=1))
    top = int(used.max()) + 1 if len(used) else 1
    return {"t": [epoch(t) for t in times], "slots_us": [slot_bounds_us(i)[1] for i in range(top)],
            "counts": counts[:top].tolist(), "p50_us": p50, "p99_us": p99,
            "unit": quantile(table, column, None).unit, "step_s": series.step_s, "level": series.level}
