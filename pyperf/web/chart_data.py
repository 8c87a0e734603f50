"""Rollup rows (pyperf.store.rollups.series) turned into the shapes charts.js
draws: lines per key, lines per column, and log2 histograms as heatmaps."""

from __future__ import annotations

import math

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, as_hist, quantile_us, slot_bounds_us
from pyperf.store import rollups
from pyperf.web.queries import epoch


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


def lines_by_key(series: rollups.Series, key: str, value) -> dict:
    """{"t": [epoch s], "series": {key value: [per bucket, None where absent]}}
    from rows grouped by one key column; `value(row)` is the plotted number."""
    rows = _rows(series)
    times = sorted({r["bucket"] for r in rows})
    index = {t: i for i, t in enumerate(times)}
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(str(row[key]), [None] * len(times))[index[row["bucket"]]] = finite(value(row))
    return {"t": [epoch(t) for t in times], "series": dict(sorted(out.items(), key=lambda kv: _natural(kv[0]))),
            "step_s": series.step_s, "level": series.level}


def lines(series: rollups.Series, columns: dict) -> dict:
    """{"t", "series": {label: [value per bucket]}} from rows without keys;
    `columns` maps each label to a function of the row."""
    rows = _rows(series)
    return {"t": [epoch(r["bucket"]) for r in rows],
            "series": {label: [finite(value(r)) for r in rows] for label, value in columns.items()},
            "step_s": series.step_s, "level": series.level}


def per_second(column: str, step_s: int):
    return lambda r: round(float(r[column]) / step_s, 2)


def heatmap(series: rollups.Series, column: str) -> dict:
    """A log2 µs histogram column over time, summed over any keys: counts per
    slot and bucket ("counts"[slot][bucket], slots up to the highest used) and
    the p50/p99 lines."""
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
            "step_s": series.step_s, "level": series.level}
