"""Precision and recall of the learned baseline (pyperf/analysis/baseline.py) on
synthetic series with known anomalies: a week of 1-minute points to learn
from (a daily cycle plus noise), then a week with injected spikes, level
shifts and slow drifts. Point by point: a point is truly anomalous where the
injected deviation is over 3 noise standard deviations (a drift's first hours
are not anomalous yet); precision over all flagged points, recall per kind,
and false alarms per day on the clean parts. Several seeds, one invocation.

    .venv/bin/python scripts/bench/anomalies.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pyperf.analysis import baseline  # noqa: E402

DAY = 1440          # minutes
NOISE = 3.0         # noise sd, in the series' unit (e.g. % CPU)


def series(rng, days: int, start_day: int = 0, heavy: bool = False) -> tuple[np.ndarray, np.ndarray]:
    minutes = np.arange(start_day * DAY, (start_day + days) * DAY)
    ts = minutes * 60.0
    daily = 30 + 15 * np.sin(2 * np.pi * (minutes % DAY) / DAY)            # busy by day, quiet by night
    # real metrics are bursty: Student's t with 3 degrees of freedom has the same sd and far heavier tails
    noise = rng.standard_t(3, len(minutes)) * NOISE / np.sqrt(3) if heavy else rng.normal(0, NOISE, len(minutes))
    return ts, daily + noise


def inject(rng, values: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    out = values.copy()
    deviation = np.zeros(len(values))
    kinds = {k: np.zeros(len(values), bool) for k in ("spike", "shift", "drift")}
    n = len(values)
    used = np.zeros(n, bool)

    def free(start: int, length: int) -> bool:
        return not used[max(0, start - 60): start + length + 60].any()

    for kind, count, length in (("shift", 4, 120), ("drift", 3, 480), ("spike", 25, 1)):
        placed = 0
        while placed < count:
            start = int(rng.integers(60, n - length - 60))
            if not free(start, length):
                continue
            if kind == "spike":
                d = np.array([rng.choice([-1, 1]) * rng.uniform(8, 15) * NOISE])
            elif kind == "shift":
                d = np.full(length, rng.choice([-1, 1]) * rng.uniform(4, 8) * NOISE)
            else:                                   # rises for 6 hours, then stays for 2
                ramp = np.minimum(np.arange(length) / 360, 1.0)
                d = ramp * rng.uniform(6, 10) * NOISE
            out[start:start + length] += d
            deviation[start:start + length] = np.abs(d)
            kinds[kind][start:start + length] = True
            used[start:start + length] = True
            placed += 1
    truth = deviation > 3 * NOISE
    return out, {k: mask & truth for k, mask in kinds.items()} | {"any": truth, "injected": used}


def run(seeds: int, heavy: bool) -> None:
    tp = fp = 0
    found = {k: 0 for k in ("spike", "shift", "drift")}
    total = {k: 0 for k in found}
    clean_days = 0.0
    false_alarm_runs = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        past_ts, past = series(rng, 7, heavy=heavy)
        b = baseline.fit(past_ts, past)
        ts, clean = series(rng, 7, start_day=7, heavy=heavy)
        values, truth = inject(rng, clean)
        flagged = baseline.anomalous(baseline.scores(b, ts, values))
        tp += int((flagged & truth["any"]).sum())
        # a flag next to an injected anomaly (its onset below 3 sd) is not a false alarm
        fp += int((flagged & ~truth["injected"]).sum())
        for k in found:
            found[k] += int((flagged & truth[k]).sum())
            total[k] += int(truth[k].sum())
        quiet = ~truth["injected"]
        clean_days += quiet.sum() / DAY
        edges = np.diff(np.concatenate([[0], (flagged & quiet).astype(int)]))
        false_alarm_runs += int((edges == 1).sum())
    precision = tp / max(tp + fp, 1)
    print(f"{'heavy-tailed (Student t, 3 dof)' if heavy else 'Gaussian'} noise, sd {NOISE:g}:")
    print(f"  precision {precision:.3f} ({tp} true of {tp + fp} flagged points)")
    for k in found:
        print(f"  recall, {k + 's':<7} {found[k] / max(total[k], 1):.3f} ({found[k]} of {total[k]} anomalous points)")
    print(f"  false alarms on clean days: {false_alarm_runs / max(clean_days, 1e-9):.2f} per day")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    print(f"learned baseline (median/MAD per hour of day), {args.seeds} seeds, 7 days learned, 7 days scored "
          "at 1-minute points")
    for heavy in (False, True):
        run(args.seeds, heavy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
