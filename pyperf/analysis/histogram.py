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


def quantile_us(hist, q: float) -> float:
    """The q-quantile in µs, interpolated linearly inside its bucket (0 when empty)."""
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    if total <= 0:
        return 0.0
    target = q * total
    cumulative = np.cumsum(hist)
    slot = int(np.searchsorted(cumulative, target))
    slot = min(slot, len(hist) - 1)
    before = cumulative[slot - 1] if slot else 0.0
    low, high = slot_bounds_us(slot)
    inside = (target - before) / hist[slot] if hist[slot] else 0.0
    return low + (high - low) * inside


def mean_us(hist) -> float:
    """Mean in µs assuming events sit at the middle of their bucket (an estimate)."""
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    if total <= 0:
        return 0.0
    mids = np.array([sum(slot_bounds_us(i)) / 2 for i in range(len(hist))])
    return float((hist * mids).sum() / total)
