"""Log2 latency histograms as the probes store them: slot i counts events in
[2^i, 2^(i+1)) microseconds, slot 0 everything under 2 µs."""

from __future__ import annotations

import numpy as np

HIST_SLOTS = 32   # bpf/common.h HIST_SLOTS: slot i holds [2^i, 2^(i+1)) µs


def as_hist(values) -> np.ndarray:
    """A stored histogram (any length: an interval without samples stores []) as
    HIST_SLOTS int64 counts, to add up."""
    h = np.zeros(HIST_SLOTS, np.int64)
    v = np.asarray(values, np.int64)[:HIST_SLOTS]
    h[: len(v)] = v
    return h


def slot_bounds_us(slot: int) -> tuple[float, float]:
    return (0.0, 2.0) if slot == 0 else (2.0**slot, 2.0 ** (slot + 1))


def as_hists(rows) -> np.ndarray:
    """Stored histograms (each any length) as an (n, HIST_SLOTS) int64 matrix."""
    rows = list(rows)
    if rows and all(len(r) == HIST_SLOTS for r in rows):
        return np.asarray(rows, np.int64).reshape(len(rows), HIST_SLOTS)
    matrix = np.zeros((len(rows), HIST_SLOTS), np.int64)
    for i, r in enumerate(rows):
        r = r[:HIST_SLOTS]
        matrix[i, : len(r)] = r
    return matrix


def quantiles_us(hists, q: float) -> np.ndarray:
    """The q-quantile in µs of each row of a histogram matrix, interpolated
    linearly inside its bucket (0 for an empty row): a chart's thousands of
    buckets in one go."""
    h = np.asarray(hists, dtype=np.float64)
    if h.ndim != 2 or not h.shape[1]:
        return np.zeros(len(h))
    total = h.sum(axis=1)
    target = q * total
    cumulative = np.cumsum(h, axis=1)
    slot = np.minimum((cumulative < target[:, None]).sum(axis=1), h.shape[1] - 1)   # np.searchsorted's
    rows = np.arange(len(h))
    before = np.where(slot > 0, cumulative[rows, np.maximum(slot - 1, 0)], 0.0)
    count = h[rows, slot]
    low = np.where(slot == 0, 0.0, 2.0 ** slot)                 # slot_bounds_us
    high = 2.0 ** (slot + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(count > 0, (target - before) / count, 0.0)
    return np.where(total > 0, low + (high - low) * inside, 0.0)


def quantile_us(hist, q: float) -> float:
    """The q-quantile in µs, interpolated linearly inside its bucket (0 when empty):
    quantiles_us() of one row, in a fifth of its time (the probes' live values and
    the charts' points take one histogram at a time)."""
    h = np.asarray(hist, dtype=np.float64).ravel()
    if not len(h):
        return 0.0
    cumulative = np.cumsum(h)
    total = float(h.sum())
    if total <= 0:
        return 0.0
    target = q * total
    slot = min(int((cumulative < target).sum()), len(h) - 1)
    before = float(cumulative[slot - 1]) if slot else 0.0
    count = float(h[slot])
    low, high = (0.0 if slot == 0 else 2.0**slot), 2.0 ** (slot + 1)
    return low + (high - low) * ((target - before) / count if count > 0 else 0.0)


def mean_us(hist) -> float:
    """Mean in µs assuming events sit at the middle of their bucket (an estimate)."""
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    if total <= 0:
        return 0.0
    mids = np.array([sum(slot_bounds_us(i)) / 2 for i in range(len(hist))])
    return float((hist * mids).sum() / total)
