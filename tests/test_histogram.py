"""Quantiles of log2 histograms: one row at a time (the probes' live values, the
charts' points) gives what the matrix form gives (a page's many rows at once)."""

import numpy as np

from pyperf.analysis.histogram import quantile_us, quantiles_us


def test_one_histograms_quantile_is_the_matrix_forms():
    rng = np.random.default_rng(7)
    hists = [[], [0] * 32, [5], [0, 0, 3], [-1, 2, 0, 4]]   # empty, no events, one slot, a negative difference
    hists += [rng.integers(0, 50, rng.integers(1, 33)).tolist() for _ in range(500)]
    for h in hists:
        for q in (0.0, 0.5, 0.99, 1.0):
            matrix = np.asarray(h, np.float64).reshape(1, -1)
            expected = float(quantiles_us(matrix, q)[0]) if matrix.shape[1] else 0.0
            assert quantile_us(h, q) == expected or np.isclose(quantile_us(h, q), expected, rtol=1e-12), (h, q)


def test_a_quantile_lies_inside_its_bucket():
    assert quantile_us([0, 0, 0, 10], 0.5) == 8 + 8 * 0.5          # slot 3 is [8, 16) µs
    assert quantile_us([10], 0.99) == 2 * 0.99                    # slot 0 is [0, 2) µs
    assert quantile_us([0, 0], 0.5) == 0.0
