"""The overhead governor on a real workload: two busy CPUs under a 999 Hz
profile cost more than the budget, pyperf sheds the profile frequency first,
and its own accounting then shows it within budget; every step is stored."""

import json
import os
import signal
import time

import pytest

from pyperf.probes.disk import DiskProbe
from pyperf.probes.profile import ProfileProbe

from conftest import require_root, run_pyperf
from workloads import spinners

def test_governor_measures_sheds_and_stores_its_steps(store_dsn):
    """The real path, measurement to stored action. A budget no process can keep
    (0.001 % of the host) makes the outcome independent of the machine's load; how
    well shedding works on a busy host is measured by scripts/bench/governor.py.
    Decisions come every three periods (2 s each here): 14 s leaves room for a
    slow machine to finish three."""
    require_root()
    pids = spinners(1, 0)
    try:
        out = run_pyperf("record", "--probes", "profile", "--profile-hz", "999", "--cpu-budget", "0.001",
                         "--governor-period", "2s", "--duration", "14s", "--json", store=store_dsn, check=True)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    governor = json.loads(out.stdout)["governor"]
    assert governor["history"][0][0] > 0.001 and governor["history"][0][1] == 0
    actions = run_pyperf("sql", "SELECT action, step, detail, cost_pct > budget_pct AS over FROM governor_actions "
                                "ORDER BY ts", "--format", "json", store=store_dsn, check=True)
    steps = json.loads(actions.stdout)
    assert (steps[0]["action"], steps[0]["step"], steps[0]["detail"]) == ("shed", "profile_hz", "profile 999 -> 19 Hz")
    assert all(s["action"] == "shed" and s["over"] in (1, True) for s in steps), steps
    counters = run_pyperf("sql", "SELECT counter FROM agent_counters WHERE source = 'agent' GROUP BY counter",
                          "--format", "csv", store=store_dsn, check=True).stdout
    assert "cost_pct" in counters and "bpf_pct" in counters


def test_bad_budget_is_a_usage_error(store_dsn):
    result = run_pyperf("record", "--cpu-budget", "-1", store=store_dsn)
    assert result.returncode == 2 and "--cpu-budget" in result.stderr


class _Profile:
    """What the profile probe declares to the governor, and its rate."""

    name = "profile"
    optional = True
    event_tables = ()
    rate_steps, rate_unit = ProfileProbe.rate_steps, ProfileProbe.rate_unit
    process_tables, process_every = ProfileProbe.process_tables, 1

    def __init__(self, hz):
        self.hz = hz

    @property
    def rate(self):
        return self.hz

    def set_rate(self, hz):
        self.hz = hz


class _Disk:
    name, optional, event_tables, rate_steps = "disk", False, DiskProbe.event_tables, ()
    process_tables = DiskProbe.process_tables


class _Collector:
    """What the governor touches on a collector: its probes and the interval."""

    def __init__(self):
        self.profile = _Profile(49)
        self.probes, self.interval_s = [self.profile, _Disk()], 1.0


class _Writer:
    flush_interval_s = 60.0
    maintenance_every_s = 300.0
    flush_cpu_s = 0.0


def _governor_with_writer():
    """A governor whose collector has a writer: a flush a minute, the upkeep every 5."""
    from pyperf.pipeline.governor import Governor

    collector = _Collector()
    collector.writer = _Writer()
    return Governor(collector, period_s=10.0)


class FakeHost:
    """A cost source for the decision logic: pyperf's cost is the host's load on it
    plus what each setting costs (profile Hz, event rows, interval), and the
    governor sees only the total, as it does on a real host."""

    def __init__(self, budget=1.0, calm_periods=2, process_rows=0.0, flushes=None):
        from pyperf.pipeline.governor import Governor

        self.load = 0.3
        self.process_rows = process_rows      # what per-process rows every interval cost
        self.flushes = flushes                # what a flush a minute costs (with a writer)
        self.collector = _Collector()
        if flushes is not None:
            self.collector.writer = _Writer()
        self.governor = Governor(self.collector, budget_pct=budget, calm_periods=calm_periods)

    def cost(self) -> float:
        g, c = self.governor, self.collector
        flushes = self.flushes * 60 / c.writer.flush_interval_s if self.flushes is not None else 0.0
        return (self.load + 0.015 * c.profile.hz + (0.2 if g.event_sample_every == 1 else 0.05)
                + 0.3 / c.interval_s + self.process_rows / c.profile.process_every + flushes)

    def periods(self, n: int) -> list[float]:
        costs = []
        for _ in range(n):
            g = self.governor
            g.cost_pct = self.cost()
            costs.append(round(g.cost_pct, 3))
            g.periods += 1
            g._decide(float(g.periods))
        return costs

    def actions(self) -> list[str]:
        rows = self.governor._pending_rows
        return [f"{a} {d}" for a, d in zip(rows["action"], rows["detail"])]


def test_governor_sheds_until_within_budget_and_does_not_oscillate():
    host = FakeHost()
    costs = host.periods(60)
    # 49 Hz costs 1.54 %, 19 Hz 1.09 %, 9 Hz 0.94 %: two steps, then it holds. Undoing
    # the last step (it saved 0.15) would cost 1.09 %, over budget: it is never undone.
    assert host.actions() == ["shed profile 49 -> 19 Hz", "shed profile 19 -> 9 Hz"]
    assert costs[0] > 1.0 and all(c <= 1.0 for c in costs[2:]), costs
    assert [round(s.saving, 3) for s in host.governor.steps] == [0.45, 0.15]


def test_governor_restores_when_load_falls_and_backs_off_when_it_rises_again():
    host = FakeHost(calm_periods=2)
    host.periods(5)
    host.load = 0.0                       # the host's load on pyperf fell: 9 Hz costs 0.64 %
    costs = host.periods(2)
    # predicted 0.64 + 0.15 = 0.79 % with 19 Hz: under 80 % of the budget, restored after
    # 2 calm periods; 49 Hz would cost 1.24 %: kept at 19 Hz
    assert host.actions()[2:] == ["restore profile 19 -> 9 Hz"]
    assert host.collector.profile.hz == 19 and all(c <= 1.0 for c in costs), costs
    costs = host.periods(10)
    assert host.collector.profile.hz == 19 and all(c <= 1.0 for c in costs), costs
    assert len(host.actions()) == 3
    host.load = 0.3                       # the load rose: shed again ...
    host.periods(1)
    assert host.actions()[-1] == "shed profile 19 -> 9 Hz"
    assert host.governor._calm_required == 2


def test_per_process_rows_are_spaced_out_while_the_host_keeps_its_interval():
    """On a busy host the per-process rows cost most; spacing them out keeps the
    host's series at the interval. Undone in the reverse order when the load falls."""
    host = FakeHost(budget=1.0, process_rows=0.5)
    host.load = 0.4
    costs = host.periods(40)
    assert host.actions() == ["shed profile 49 -> 19 Hz", "shed profile 19 -> 9 Hz",
                              "shed keep 1 in 4 rows of disk_slow_io", "shed rows of profile_stack every 5 intervals"]
    assert host.collector.profile.process_every == 5 and host.collector.interval_s == 1.0
    assert costs[-1] <= 1.0, costs
    host.load = -0.6                      # the load is gone
    host.periods(40)
    assert host.actions()[4] == "restore rows of profile_stack every 5 intervals"
    assert host.collector.profile.process_every == 1


def test_per_process_rows_go_to_every_15_intervals_then_the_undo_goes_back_one_step_at_a_time():
    """A second process_rows step, the host's interval untouched; the undo goes
    back one step at a time."""
    host = FakeHost(budget=1.0, process_rows=0.5)
    host.load = 0.45                      # every 5 intervals: 1.035 %, every 15: 0.968 %
    costs = host.periods(40)
    assert host.actions()[3:] == ["shed rows of profile_stack every 5 intervals",
                                  "shed rows of profile_stack every 15 intervals"]
    assert host.collector.profile.process_every == 15 and host.collector.interval_s == 1.0
    assert costs[-1] <= 1.0, costs
    host.load = -0.6
    host.periods(60)
    assert host.actions()[5:7] == ["restore rows of profile_stack every 15 intervals",
                                   "restore rows of profile_stack every 5 intervals"]
    assert host.collector.profile.process_every == 1


def test_the_flush_interval_is_doubled_and_the_collection_interval_never_is(caplog):
    """Fewer, larger inserts cost the store less and leave every series at its
    resolution: that step comes after the per-process ones, and alone touches the
    flush interval. More load after it raises no interval (the host's series keep
    the user's): the governor says it has nothing left. Undone in reverse order."""
    host = FakeHost(budget=1.0, process_rows=0.5, flushes=0.2)
    host.load = 0.35                      # every 15 intervals: 1.068 %; flush every 120 s: 0.968 %
    costs = host.periods(40)
    assert host.actions()[3:] == ["shed rows of profile_stack every 5 intervals",
                                  "shed rows of profile_stack every 15 intervals", "shed flush 60 -> 120 s"]
    assert host.collector.writer.flush_interval_s == 120.0 and host.collector.interval_s == 1.0
    assert costs[-1] <= 1.0, costs
    host.load = 0.45                      # more load: 1.068 % with every step taken
    with caplog.at_level("WARNING", logger="pyperf.governor"):
        host.periods(10)
    assert len(host.actions()) == 6 and host.collector.interval_s == 1.0
    assert any("nothing left to shed" in r.getMessage() for r in caplog.records)
    host.load = -1.2                      # the load is gone
    host.periods(60)
    assert host.actions()[6:8] == ["restore flush 60 -> 120 s", "restore rows of profile_stack every 15 intervals"]
    assert host.collector.writer.flush_interval_s == 60.0 and host.collector.interval_s == 1.0


def test_rows_spaced_out_by_the_user_past_the_first_step_go_to_the_second():
    host = FakeHost(budget=1.0, process_rows=0.5)
    host.load = 0.45                      # every 7 intervals: 1.006 %, every 15: 0.968 %
    host.collector.profile.process_every = 7         # --process-interval 7s: past 5, short of 15
    host.periods(20)
    assert [a for a in host.actions() if "intervals" in a] == ["shed rows of profile_stack every 15 intervals"]
    assert host.collector.profile.process_every == 15 and host.collector.interval_s == 1.0


def test_per_process_rows_already_spaced_out_by_the_user_are_left_so():
    host = FakeHost(budget=1.0, process_rows=0.5)
    host.load = 0.4
    host.collector.profile.process_every = 7         # --process-interval 7s
    host.periods(12)
    assert not any("every 5 intervals" in a for a in host.actions())
    assert host.collector.profile.process_every == 7


def test_the_sched_probe_declares_off_cpu_stacks_only_when_it_writes_them():
    """The process_rows step names the tables it spaces out: off-CPU stacks only
    with --offcpu-stacks."""
    from pyperf.probes.base import ProbeOptions
    from pyperf.probes.sched import SchedProbe
    assert SchedProbe(ProbeOptions()).process_tables == ("sched_process",)
    on = SchedProbe(ProbeOptions(extra={"sched.offcpu_stacks": "1"}))
    assert on.process_tables == ("sched_process", "offcpu_stack")


def test_a_step_taken_again_right_after_its_undo_doubles_the_wait():
    host = FakeHost(calm_periods=2)
    host.periods(5)
    host.load = 0.0
    host.periods(2)
    assert host.actions()[-1] == "restore profile 19 -> 9 Hz"
    host.load = 0.3                       # the load came back at once: shed again ...
    host.periods(1)
    assert host.actions()[-1] == "shed profile 19 -> 9 Hz"
    assert host.governor._calm_required == 4   # ... and the next undo waits twice as long


def test_a_flush_is_spread_over_its_cycle_not_charged_to_one_period():
    """One flush a minute costing 0.4 s of CPU is 0.67 % of one CPU on average;
    the 10-second period holding it must not read as 4 %."""
    governor = _governor_with_writer()
    charged = [governor._spread_flush(0.4 if i % 6 == 5 else 0.0, 10.0) for i in range(120)]
    steady = charged[60:]
    assert sum(steady) / len(steady) == pytest.approx(0.4 / 6, rel=0.05)
    assert max(steady) < 0.4 / 2


def test_one_period_over_budget_takes_no_step_three_do():
    """A start-up or a burst makes one period expensive; the governor decides on the
    mean of three, and after a step counts three afresh."""
    host = FakeHost(budget=1.0)
    g, profile = host.governor, host.collector.profile
    for cost in (0.3, 1.6, 0.3, 0.3, 0.6):       # one period over budget (a start-up): means 0.73, 0.73, 0.4
        g.conclude_period(cost, 0.0)
    assert profile.hz == 49 and not g.steps
    g.conclude_period(1.5, 0.0)
    assert profile.hz == 49                          # mean of 0.3, 0.6, 1.5 is 0.8: within
    g.conclude_period(1.6, 0.0)
    assert profile.hz == 19 and len(g.steps) == 1     # 0.6, 1.5, 1.6: 1.23, over
    g.conclude_period(1.4, 0.0)
    g.conclude_period(1.4, 0.0)
    assert profile.hz == 19                          # two periods since the step: not yet judged
    g.conclude_period(1.4, 0.0)
    assert profile.hz == 9


def test_a_host_that_never_needs_a_step_keeps_only_the_periods_it_decides_on():
    """An idle host's governor concludes a period every 10 s for months without a
    step: what it remembers of them must not grow."""
    host = FakeHost(budget=1.0)
    g = host.governor
    for _ in range(10_000):
        g.conclude_period(0.4, 0.0)
    assert not g.steps and len(g._window) == 3 and g.cost_pct == pytest.approx(0.4)


def test_the_engines_threads_are_the_stores_cost_and_one_that_exits_is_no_saving():
    """Threads that are not Python's are the embedded engine's (merges after a flush,
    its pools): their CPU is spread with the flushes'. A pool thread that exits
    must not read as CPU given back."""
    import threading
    from collections import namedtuple

    from pyperf.pipeline.governor import Governor

    Thread = namedtuple("Thread", "id user_time system_time")
    python_tid = threading.main_thread().native_id

    class Process:
        threads_now = []

        def threads(self):
            return self.threads_now

    governor = Governor(_Collector())
    governor.process = process = Process()
    process.threads_now = [Thread(python_tid, 50.0, 5.0), Thread(10**9 + 1, 2.0, 1.0), Thread(10**9 + 2, 1.0, 0.0)]
    start = governor._engine_cpu_seconds()
    process.threads_now = [Thread(python_tid, 90.0, 5.0), Thread(10**9 + 1, 2.5, 1.0)]   # 10**9+2 exited
    assert governor._engine_cpu_seconds() - start == pytest.approx(0.5)
    process.threads_now = [Thread(python_tid, 90.0, 5.0), Thread(10**9 + 1, 2.5, 1.0), Thread(10**9 + 3, 0.25, 0.0)]
    assert governor._engine_cpu_seconds() - start == pytest.approx(0.75)   # a new thread: all of its time


def test_a_python_thread_is_not_counted_as_the_engines():
    """On the real process: a Python thread, the main one or one started later,
    is never among the threads whose CPU is the engine's."""
    import threading

    from pyperf.pipeline.governor import Governor

    governor = Governor(_Collector())
    started, stop = threading.Event(), threading.Event()

    def work():
        started.set()
        stop.wait(5)

    worker = threading.Thread(target=work)
    worker.start()
    started.wait(5)
    try:
        governor._engine_cpu_seconds()
        assert worker.native_id not in governor._engine_seen
        assert threading.main_thread().native_id not in governor._engine_seen
        assert worker.native_id in {t.id for t in governor.process.threads()}   # the process does list it
    finally:
        stop.set()
        worker.join()


def test_a_probe_drained_once_a_minute_is_judged_on_its_minutes_not_on_the_period_of_its_drain():
    """Per-process rows every 15 intervals of 4 s: the profile probe drains once a
    minute, 0.05 s of CPU each time (0.04 % of two CPUs on average) — the 10-second
    period holding the drain alone read 0.25 %, over a tenth of the budget, and made
    it the probe to switch off. A probe drained every period is read at its cost."""
    from pyperf.pipeline.governor import Governor

    collector = _Collector()
    collector.interval_s = 4.0
    collector.profile.process_every = 15
    collector.drain_seconds = {"profile": 0.0, "disk": 0.0}
    governor = Governor(collector, budget_pct=1.0, period_s=10.0)
    governor.cpus = 2
    readings = []
    for period in range(60):
        collector.drain_seconds["disk"] += 0.004
        if period % 6 == 5:
            collector.drain_seconds["profile"] += 0.05
        governor._measure_probes(10.0)
        readings.append(dict(governor._probe_cost_pct))
    steady = readings[30:]
    assert all(r["profile"] == pytest.approx(100 * 0.05 / 60 / 2, rel=0.25) for r in steady), steady
    assert all(r["disk"] == pytest.approx(100 * 0.004 / 10 / 2) for r in steady)
    assert max(r["profile"] for r in steady) < governor.budget_pct / 10


def test_the_upkeep_is_spread_over_its_own_cycle_not_the_flushes():
    """A rollup every 5 minutes costing 0.7 s is 0.23 % of one CPU on average; spread over
    the flush cycle (60 s) the periods after it read 1.2 %, 1.0 %, ... of one CPU."""
    governor = _governor_with_writer()
    charged = [governor._spread_upkeep(0.7 if i % 30 == 29 else 0.0, 10.0) for i in range(300)]
    steady = charged[150:]
    assert sum(steady) / len(steady) == pytest.approx(0.7 / 30, rel=0.1)
    assert max(steady) < 2 * 0.7 / 30
    assert governor._spread_flush(0.0, 10.0) == 0.0   # the flushes' average is its own


def test_the_writer_counts_its_upkeep_apart_from_its_flushes(store_dsn):
    """The rollups' CPU goes to upkeep_cpu_s (spread over their cycle), not flush_cpu_s."""
    from pyperf.pipeline.writer import BatchWriter
    from pyperf.store.dsn import parse_dsn
    from pyperf.store.store import Store

    def busy_upkeep():
        until = time.thread_time() + 0.2
        while time.thread_time() < until:
            pass

    store = Store(parse_dsn(store_dsn), host_name="t").open()
    try:
        writer = BatchWriter(store, flush_interval_s=3600, maintenance=busy_upkeep, maintenance_every_s=0)
        writer._scheduled_flush(last=True)
        assert writer.upkeep_cpu_s >= 0.2 and writer.flush_cpu_s < 0.2
    finally:
        store.close()


def test_over_budget_with_every_step_taken_is_said_once(caplog):
    """A host whose load alone is over the budget: every step is taken, then the
    governor says once that nothing is left to shed, not every period."""
    host = FakeHost(budget=1.0)
    host.load = 3.0
    with caplog.at_level("WARNING", logger="pyperf.governor"):
        host.periods(100)
    said = [r.getMessage() for r in caplog.records if "nothing left to shed" in r.getMessage()]
    assert len(host.governor.steps) == 5 and host.actions()[-1] == "shed rows of profile_stack every 15 intervals"
    assert host.collector.interval_s == 1.0
    assert len(said) == 1 and "over the 1.00% budget" in said[0], said
