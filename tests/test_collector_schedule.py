"""When the collector drains, on a fake clock: one drain per interval on a
fixed grid, a slow drain skips the intervals it overran instead of draining
in a burst after it, a duration ends on its deadline. The real kernel's
side of it (rows at --interval 100ms) is tests/test_record_e2e.py."""

import threading

import pytest
from fake_probes import KernelFreeProbe

from pyperf.pipeline.collector import Collector


class FakeTimer:
    def __init__(self):
        self.t = 1000.0
        self.cpu_s = 0.0

    def now(self) -> float:
        return self.t

    def cpu(self) -> float:
        return self.cpu_s

    def wait(self, stop: threading.Event, seconds: float) -> None:
        self.t += seconds


class TimedProbe(KernelFreeProbe):
    """Notes when it is drained; the n-th drain costs costs[n] seconds of the fake clock."""

    name = "timed"

    def __init__(self, timer: FakeTimer, costs: dict[int, float] | None = None, stop_after: int = 0,
                 stop: threading.Event | None = None):
        super().__init__()
        self.timer, self.costs, self.stop_after, self.stop = timer, costs or {}, stop_after, stop
        self.drained_at: list[float] = []

    def drain(self, now):
        self.drained_at.append(round(self.timer.t - 1000.0, 6))
        self.timer.t += self.costs.get(len(self.drained_at), 0.0)
        if self.stop_after and len(self.drained_at) == self.stop_after:
            self.stop.set()
        return {}


def run(probe: TimedProbe, timer: FakeTimer, interval_s: float, duration_s=None, stop=None) -> list[float]:
    collector = Collector([probe], None, interval_s, timer=timer)
    collector.attach()
    collector.run(stop or threading.Event(), duration_s)
    assert collector.intervals == len(probe.drained_at)
    return probe.drained_at


def test_a_100ms_interval_drains_thirty_times_in_three_seconds_on_a_fixed_grid():
    timer = FakeTimer()
    drained = run(TimedProbe(timer, {n: 0.03 for n in range(1, 40)}), timer, 0.1, duration_s=3.0)
    assert drained == pytest.approx([round(0.1 * n, 6) for n in range(1, 31)])


def test_a_drain_that_overruns_skips_the_intervals_it_missed_and_never_bursts():
    timer = FakeTimer()
    drained = run(TimedProbe(timer, {3: 0.25}), timer, 0.1, duration_s=1.0)
    # the third drain (at 0.3) ends at 0.55: the next is one interval after that, not at 0.4 and 0.5 at once
    assert drained == pytest.approx([0.1, 0.2, 0.3, 0.65, 0.75, 0.85, 0.95, 1.0])
    assert min(b - a for a, b in zip(drained, drained[1:])) >= 0.05 - 1e-9


def test_a_drain_late_by_less_than_an_interval_keeps_the_grid():
    timer = FakeTimer()
    drained = run(TimedProbe(timer, {2: 0.08}), timer, 0.1, duration_s=0.5)
    assert drained == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])


def test_a_stop_ends_the_run_after_the_drain_in_progress():
    timer, stop = FakeTimer(), threading.Event()
    drained = run(TimedProbe(timer, stop_after=4, stop=stop), timer, 1.0, stop=stop)
    assert drained == pytest.approx([1.0, 2.0, 3.0, 4.0])


class SpacedProbe(TimedProbe):
    """Per-process rows every third drain, as the governor's process_rows step makes them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.process_every, self.skipped, self.forced = 3, 0, []

    def process_rows_pending(self):
        return self.skipped > 0

    def take_process_rows(self):
        self.taking = True

    def drain(self, now):
        forced, self.taking = getattr(self, "taking", False), False
        self.forced.append(forced)
        self.skipped = 0 if forced or self.skipped + 1 == self.process_every else self.skipped + 1
        return super().drain(now)


def test_a_stop_during_a_drain_takes_the_per_process_rows_left_in_the_kernel_once_more():
    timer, stop = FakeTimer(), threading.Event()
    probe = SpacedProbe(timer, stop_after=4, stop=stop)
    drained = run(probe, timer, 1.0, stop=stop)
    # drains 1, 2 skip the rows, 3 takes them, 4 skips: the stop in 4 adds one drain, forced, at once
    assert drained == pytest.approx([1.0, 2.0, 3.0, 4.0, 4.0])
    assert probe.forced == [False, False, False, False, True]


def test_a_drain_is_charged_the_cpu_it_used_not_the_time_it_waited():
    """The governor picks the probe to switch off by its drains' cost: a drain that
    waited 0.3 s (for the GIL, a lock, a slow /proc read) and ran 0.01 s costs 0.01."""
    timer = FakeTimer()

    class Waiting(TimedProbe):
        def drain(self, now):
            timer.cpu_s += 0.01
            return super().drain(now)

    probe = Waiting(timer, costs={1: 0.3, 2: 0.3})
    collector = Collector([probe], None, 1.0, timer=timer)
    collector.attach()
    collector.run(threading.Event(), 2.0)
    assert len(probe.drained_at) == 2
    assert collector.drain_seconds == {"timed": pytest.approx(0.02)}
