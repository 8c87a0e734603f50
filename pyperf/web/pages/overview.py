"""Overview: the host's CPU, memory, disk and network against the
requirements' thresholds, and the processes using the most CPU."""

from __future__ import annotations

from pyperf.web import overview_queries


def data(store, time_range, host, window) -> dict:
    return overview_queries.overview(store, time_range, host, window)
