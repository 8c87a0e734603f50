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
