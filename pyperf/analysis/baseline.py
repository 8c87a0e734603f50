"""Learned baselines and anomaly scores: what is usual for a series, learned
from its own past, and how far each new point is from it. Plain robust
statistics, not machine learning:

- the baseline is the median and the MAD (median absolute deviation) of the
  series' past per hour of the day (daily seasonality: a backup at 02:00 is
  usual at 02:00), falling back to the whole past for hours seen too little;
- a point's score is its distance from its hour's median in robust standard
  deviations (1.4826 × MAD, with a floor so a flat series does not make every
  wiggle infinite);
- a point is anomalous when its score is over SPIKE_SCORE, or over
  SHIFT_SCORE for SHIFT_RUN points in a row (level shifts and drifts hold for a
  while; one point that far is noise).

Why this and not k-means over feature windows (Netdata's way): one series at
a time, no training step to schedule, explainable in one sentence per point
("62 % at 03:10, usually 20 ± 4 % at that hour"), and robust to the anomalies
already in the past (the median ignores them). What it does not see: a
change in the shape of a series that stays inside its usual range.
Precision and recall on synthetic series: scripts/bench/anomalies.py,
docs/performance_guide.md."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

MIN_POINTS = 120              # of the past, to learn anything
MIN_POINTS_PER_HOUR = 30      # for an hour of the day of its own
SPIKE_SCORE = 6.0
SHIFT_SCORE = 3.0
SHIFT_RUN = 3
MAD_TO_SD = 1.4826
RELATIVE_FLOOR = 0.02         # of the median: the spread below which a flat series is not made noisier
ABSOLUTE_FLOOR = 1e-6


@dataclass(frozen=True)
class Baseline:
    median: np.ndarray        # per hour of the day (24)
    spread: np.ndarray        # robust standard deviation per hour (24)
    points: int


def _hour(ts: np.ndarray) -> np.ndarray:
    return ((np.asarray(ts, np.float64) // 3600) % 24).astype(np.int64)


def _robust(values: np.ndarray) -> tuple[float, float]:
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    return median, max(MAD_TO_SD * mad, RELATIVE_FLOOR * abs(median), ABSOLUTE_FLOOR)


def fit(ts, values) -> Baseline | None:
    """The baseline of a series' past (epoch seconds, values); None with too little of it."""
    ts, values = np.asarray(ts, np.float64), np.asarray(values, np.float64)
    keep = np.isfinite(values)
    ts, values = ts[keep], values[keep]
    if len(values) < MIN_POINTS:
        return None
    overall = _robust(values)
    median, spread = np.full(24, overall[0]), np.full(24, overall[1])
    hours = _hour(ts)
    for h in range(24):
        mine = values[hours == h]
        if len(mine) >= MIN_POINTS_PER_HOUR:
            median[h], spread[h] = _robust(mine)
    return Baseline(median, spread, len(values))


def scores(b: Baseline, ts, values) -> np.ndarray:
    """Each point's distance from its hour's median, in robust standard deviations."""
    hours = _hour(ts)
    return np.abs(np.asarray(values, np.float64) - b.median[hours]) / b.spread[hours]


def anomalous(s: np.ndarray) -> np.ndarray:
    """Points over SPIKE_SCORE, and runs of SHIFT_RUN or more over SHIFT_SCORE."""
    s = np.nan_to_num(np.asarray(s, np.float64))
    out = s > SPIKE_SCORE
    over = s > SHIFT_SCORE
    run_start = None
    for i, flag in enumerate(np.append(over, False)):
        if flag and run_start is None:
            run_start = i
        elif not flag and run_start is not None:
            if i - run_start >= SHIFT_RUN:
                out[run_start:i] = True
            run_start = None
    return out


def band(b: Baseline, ts, width: float = SHIFT_SCORE) -> tuple[np.ndarray, np.ndarray]:
    """The usual range (median ± width robust SDs) at each time, to draw behind a chart."""
    hours = _hour(ts)
    return b.median[hours] - width * b.spread[hours], b.median[hours] + width * b.spread[hours]


BAND_LOW, BAND_HIGH = "usual (low)", "usual (high)"     # the chart series charts.js fills between
REFIT_S = 600.0
HISTORY_S = 7 * 86400


class BandCache:
    """Baselines learned from a past week of 1-minute points, learned again every
    REFIT_S: a live chart refreshed every second, or the findings of a page
    refreshed every few seconds, look their baselines up instead of reading a
    week each time."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._fitted: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def cached(self, key: tuple, compute):
        """What `compute()` gave for `key` less than REFIT_S ago, else computed now
        (stale entries are dropped then: keys that move with time do not pile up)."""
        now = self.clock()
        with self._lock:
            cached = self._fitted.get(key)
        if cached is not None and now - cached[0] < REFIT_S:
            return cached[1]
        value = compute()
        with self._lock:
            for stale in [k for k, (at, _) in self._fitted.items() if now - at >= REFIT_S]:
                del self._fitted[stale]
            self._fitted[key] = (now, value)
        return value

    def baseline(self, key: tuple, learn) -> Baseline | None:
        """`learn()` -> (epoch seconds, values) of the past, called when `key` is stale."""
        return self.cached(key, lambda: fit(*learn()))

    def add_band(self, chart: dict, key: tuple, learn) -> dict:
        """The chart with BAND_LOW/BAND_HIGH series at its times, when its past is long enough."""
        b = self.baseline(key, learn)
        if b is None or not chart.get("t"):
            return chart
        low, high = band(b, np.asarray(chart["t"], np.float64))
        series = dict(chart["series"])
        series[BAND_LOW] = [round(max(float(v), 0.0), 2) for v in low]
        series[BAND_HIGH] = [round(float(v), 2) for v in high]
        return {**chart, "series": series}
