"""Overhead governor: pyperf measures what it costs and keeps it under a budget.

Cost = CPU time of the pyperf process (every thread: collection, storage,
web) + run time of its BPF programs in the kernel (which runs in other tasks'
context, so no process accounting sees it), as a share of the host's CPUs.
Kernel run time is measured in a short window at the start of every
measurement period (BPF_ENABLE_STATS: the kernel times each program run only
while the fd is open: two clock reads a run, ~55-65 ns of its measured time
on this VM, so not all the time) and scaled to the period.

The store's flushes (one a minute) are spread over the flush cycle
(an average with the cycle as its time constant), so the period that holds
one is not judged over budget while the minute is within it; so is the CPU of
the embedded engine's own threads (every thread that is not Python's): the
merges that follow a flush cost as much again as the flush, in the next
period or two, and had read as a spike that switched a probe off.
The upkeep (the rollups, every 5 minutes) is spread over its own cycle.

Decisions use the mean cost of the last three periods (a single period over
budget — a start-up, a burst — is not a trend); after a step or an undo the
three are counted afresh, so each step is judged on what came after it.

Over budget, the governor takes the next step, in this order, from what each
probe declares (`rate_steps`, `event_tables`, `optional` in pyperf/probes/base.py):
  1. a lower sampling rate (the profile probe: 49 -> 19 Hz, then 2. -> 9 Hz)
  3. keep 1 in 4 per-event rows (disk_slow_io, tcp_event: thinned before the
     store, the rest counted as sampled_out; saves the user-space and store
     cost, not the kernel's)
  4. per-process rows (sched_process, faults_process, tcp_process,
     profile_stack: `process_tables`) every 5 intervals, each row covering
     them, then 5. every 15 (PROCESS_EVERY): on a busy host those drains and
     their rows are most of the user-space cost (every 30 s halved it on
     scripts/bench/busy_host.py's mix), and the host's, CPUs' and containers'
     series keep their 1 s resolution. Not further: the kernel maps must hold
     every process started meanwhile (16 384 entries: ~1 000 new processes a
     second for 15 s)
  6. double the flush interval, up to 120 s (every insert costs the store
     3-5 ms of CPU however small): series keep their resolution; live charts
     read memory and `pyperf sql` flushes first, while per-process tables and
     history pages may lag by one flush, now up to 120 s
  7. detach the optional probe that costs most (its programs' kernel run time
     plus its drains, over two of the slowest drain cycles: a probe drained
     once a minute is not judged on the period that holds its drain), then the
     next — only while that probe costs at least a tenth of the budget:
     switching off a probe that costs nothing would lose data and save nothing
     (what is left is then the store's own cost)
The collection interval is never raised: the host's, CPUs' and containers'
series keep the resolution the user chose (the requirements' 1 s). Doubling
it twice saved ~0.1-0.2 % of the host on scripts/bench/busy_host.py's mix,
whose cost past step 6 is mostly its programs' kernel run time, which no
interval lowers (docs/performance.md).

Each step remembers what it saved: the cost of the period that made it
minus the cost of the period after it. The last step is undone only when the
cost with it undone is predicted within the budget (today's cost plus what
the step saved, at most 80 % of the budget) for `calm_periods` periods in a
row — undoing a step that saved 1.5 % at a cost of 0.9 % would only put the
cost back over budget. A step that still has to be taken again within two
periods of being undone (the load rose) doubles the calm periods the next undo
waits for (up to 64). Every step is logged, stored in `governor_actions` and
on /metrics."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

import psutil

from pyperf.kernel import bpf_stats
from pyperf.schema import AGENT_HOST, EVENT, KEY, Column, Table

log = logging.getLogger("pyperf.governor")

EVENT_SAMPLE_EVERY = 4
PROCESS_EVERY = (5, 15)   # the process_rows steps: per-process rows every N intervals
MAX_FLUSH_INTERVAL_S = 120.0

TABLES = (
    Table("governor_actions",
          "What the overhead governor did and why: one row per step taken or undone.",
          order_by=("host", "ts"), partition_by="toYYYYMM(ts)", retention_days=365, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when (UTC)"),
        AGENT_HOST,
        Column("action", "LowCardinality(String)", EVENT, "", "shed or restore"),
        Column("step", "LowCardinality(String)", EVENT, "",
               "<probe>_<unit> (a sampling rate: profile_hz), event_sampling, process_rows, flush or probe_off (interval: agents before 2026-12-07)"),
        Column("detail", "String", EVENT, "", "what changed, e.g. 'profile 49 -> 19 Hz'"),
        Column("cost_pct", "Float32", EVENT, "% of host CPUs",
               "pyperf's measured cost, mean of the last three periods (process + BPF programs)"),
        Column("budget_pct", "Float32", EVENT, "% of host CPUs", "the budget (--cpu-budget)"),
        Column("level", "UInt8", EVENT, "", "steps in force after this one"),
      )),
)


DECIDE_OVER_PERIODS = 3   # decisions use the mean cost of the last three periods
PROBE_COST_PERIODS = 36   # each probe's cost per period, remembered: two of its slowest drain cycles fit
RESTORE_HEADROOM = 0.8    # undo a step only if the cost then is predicted under 80 % of the budget


@dataclass
class Step:
    kind: str
    detail: str
    undo: object       # callable restoring the previous state
    cost_before: float = 0.0            # % of host CPUs in the period that made the step
    saving: float | None = None         # measured in the period after it


def restored_cost(cost_pct: float, step: Step) -> float | None:
    """What the cost would be with `step` undone (None while its saving is unknown)."""
    return None if step.saving is None else cost_pct + step.saving


class Governor:
    def __init__(self, collector, budget_pct: float = 1.0, period_s: float = 10.0, sample_s: float = 2.0,
                 calm_periods: int = 3):
        self.collector = collector
        self.budget_pct = budget_pct
        self.period_s = period_s
        self.sample_s = min(sample_s, period_s)
        self.calm_periods = calm_periods
        self.cpus = os.cpu_count() or 1
        self.process = psutil.Process()
        self.steps: list[Step] = []
        self.cost_pct = 0.0
        self.bpf_pct = 0.0
        self.process_pct = 0.0
        self.periods = 0
        self.event_sample_every = 1
        self.sampled_out: defaultdict[str, int] = defaultdict(int)
        self._calm = 0
        self._calm_required = calm_periods
        self._restored: tuple[str, int] | None = None   # (step kind, period) of the last undo
        self.history: list[tuple[float, int]] = []        # (cost_pct, steps in force) per period
        self._period_start = None
        self._spread_rate: dict[str, float] = {}   # store CPU seconds a second: flushes (and engine), upkeep
        self._engine_cpu_s = 0.0
        self._engine_seen: dict[int, float] = {}   # engine thread id -> its CPU at the last look
        self._window: list[float] = []   # costs of the last periods since the last step (at most three)
        self._said_nothing_left = False   # over budget with no step left, logged once for these steps
        self._stats_fd = None
        self._bpf_start = 0
        self._sample_start = 0.0
        self._pending_rows: dict[str, list] = defaultdict(list)
        self._probe_cost_pct: dict[str, float] = {}
        self._probe_periods: deque[tuple[float, dict[str, float]]] = deque(maxlen=PROBE_COST_PERIODS)
        self._bpf_probe_pct: dict[str, float] = {}
        self._bpf_probe_start: dict[str, int] = {}
        self._drains_before: dict[str, float] = {}

    # -- measuring ---------------------------------------------------------
    def _cpu_seconds(self) -> float:
        t = self.process.cpu_times()
        return t.user + t.system

    def _bpf_ns(self) -> int:
        return sum(self._bpf_by_probe().values())

    def tick(self, now: float) -> None:
        """Called by the collector after each drain."""
        mono = time.monotonic()
        if self._period_start is None:
            self._begin_period(mono, self._cpu_seconds(), self._store_cpu_seconds(), self._upkeep_cpu_seconds())
            return
        if self._stats_fd is not None and mono - self._sample_start >= self.sample_s:
            elapsed = mono - self._sample_start
            self.bpf_pct = 100.0 * (self._bpf_ns() - self._bpf_start) / 1e9 / elapsed / self.cpus
            self._bpf_probe_pct = {name: 100.0 * (ns - self._bpf_probe_start.get(name, 0)) / 1e9 / elapsed / self.cpus
                                   for name, ns in self._bpf_by_probe().items()}
            os.close(self._stats_fd)
            self._stats_fd = None
        start_mono, start_cpu, start_store, start_upkeep = self._period_start
        if mono - start_mono < self.period_s:
            return
        elapsed = mono - start_mono
        # this period's end, the next one's start
        cpu, store, upkeep = self._cpu_seconds(), self._store_cpu_seconds(), self._upkeep_cpu_seconds()
        spent, flushed, upkept = cpu - start_cpu, store - start_store, upkeep - start_upkeep
        spread = self._spread_flush(flushed, elapsed) + self._spread_upkeep(upkept, elapsed)
        self.process_pct = 100.0 * (spent - flushed - upkept + spread) / elapsed / self.cpus
        period_cost = self.process_pct + self.bpf_pct
        self._measure_probes(mono - start_mono)
        self.periods += 1
        self.history.append((round(period_cost, 3), len(self.steps)))
        del self.history[:-360]
        self.conclude_period(period_cost, now)
        self._begin_period(mono, cpu, store, upkeep)

    def conclude_period(self, period_cost: float, now: float) -> None:
        """Decide on the mean of the last DECIDE_OVER_PERIODS periods: one period over
        budget is not a trend (a start-up, a burst of new processes)."""
        self._window.append(period_cost)
        del self._window[:-DECIDE_OVER_PERIODS]    # an idle host takes no step for months
        recent = self._window
        self.cost_pct = sum(recent) / len(recent)
        if len(recent) < DECIDE_OVER_PERIODS:
            return
        level = (len(self.steps), self._restored)
        self._decide(now)
        if (len(self.steps), self._restored) != level:
            self._window.clear()    # what a step changed is judged on the periods after it

    def _store_cpu_seconds(self) -> float:
        """The store's CPU, cumulative: the writer's flushes and the engine's threads."""
        return getattr(getattr(self.collector, "writer", None), "flush_cpu_s", 0.0) + self._engine_cpu_seconds()

    def _engine_cpu_seconds(self) -> float:
        """CPU of this process's threads that are not Python's, cumulative: an embedded
        store's (its merges, its background pools); none with a remote store. Summed
        thread by thread since the last look: a pool thread that exits takes its
        time out of any sum over the living, which must not read as a saving."""
        python = {t.native_id for t in threading.enumerate()}
        now = {t.id: t.user_time + t.system_time for t in self.process.threads() if t.id not in python}
        self._engine_cpu_s += sum(max(0.0, cpu - self._engine_seen.get(tid, 0.0)) for tid, cpu in now.items())
        self._engine_seen = now
        return self._engine_cpu_s

    def _upkeep_cpu_seconds(self) -> float:
        """The store's upkeep (rollups), cumulative: once every few minutes."""
        return getattr(getattr(self.collector, "writer", None), "upkeep_cpu_s", 0.0)

    def _spread_flush(self, flushed_s: float, elapsed_s: float) -> float:
        """The store's flush CPU in this period, spread over the flush cycle: one
        flush a minute costs the same whichever 10-second period it falls in, and a
        period holding it must not look over budget when the minute is not."""
        writer = getattr(self.collector, "writer", None)
        return self._spread("flush", flushed_s, elapsed_s, getattr(writer, "flush_interval_s", elapsed_s))

    def _spread_upkeep(self, upkept_s: float, elapsed_s: float) -> float:
        """The upkeep's CPU in this period, spread over its own cycle (5 minutes):
        spread over the flush cycle, a rollup with the flush beside it (0.3–0.75 s
        on a busy host) read as up to a third of the budget for a minute and took
        steps nothing else called for."""
        writer = getattr(self.collector, "writer", None)
        return self._spread("upkeep", upkept_s, elapsed_s, getattr(writer, "maintenance_every_s", elapsed_s))

    def _spread(self, stream: str, spent_s: float, elapsed_s: float, cycle_s: float) -> float:
        """An average of `stream`'s CPU rate with its cycle as the time constant, times the period."""
        weight = elapsed_s / max(cycle_s, elapsed_s)
        rate = self._spread_rate.get(stream, 0.0)
        rate += weight * (spent_s / elapsed_s - rate)
        self._spread_rate[stream] = rate
        return rate * elapsed_s

    def _begin_period(self, mono: float, cpu_s: float, store_s: float, upkeep_s: float) -> None:
        self._period_start = (mono, cpu_s, store_s, upkeep_s)
        if self._stats_fd is None:
            self._stats_fd = bpf_stats.enable_stats_fd()
            self._bpf_start = self._bpf_ns()
            self._bpf_probe_start = self._bpf_by_probe()
            self._sample_start = mono

    def _bpf_by_probe(self) -> dict[str, int]:
        return {p.name: bpf_stats.total(bpf_stats.of_fds(p.prog_fds()))[1] for p in self.collector.probes}

    def close(self) -> None:
        if self._stats_fd is not None:
            os.close(self._stats_fd)
            self._stats_fd = None

    # -- deciding ----------------------------------------------------------
    def _decide(self, now: float) -> None:
        if self.steps and self.steps[-1].saving is None:
            last = self.steps[-1]
            last.saving = max(0.0, last.cost_before - self.cost_pct)
        if self.cost_pct > self.budget_pct:
            self._calm = 0
            step = self._next_step()
            if step is not None:
                if self._restored and self._restored[0] == step.kind and self.periods - self._restored[1] <= 2:
                    self._calm_required = min(self._calm_required * 2, 64)
                step.cost_before = self.cost_pct
                self.steps.append(step)
                self._record(now, "shed", step)
                self._said_nothing_left = False
            elif not self._said_nothing_left:
                # once for these steps: on call, "why is it over its budget?" has this answer
                self._said_nothing_left = True
                log.warning("overhead governor: %.2f%% of host CPUs, over the %.2f%% budget with nothing left to "
                            "shed (BPF programs %.2f%%, the process %.2f%%: the kernel side of this host's load "
                            "and the store's own cost)", self.cost_pct, self.budget_pct, self.bpf_pct,
                            self.process_pct)
            return
        if self._restored and self.periods - self._restored[1] > 10:
            self._calm_required, self._restored = self.calm_periods, None
        predicted = restored_cost(self.cost_pct, self.steps[-1]) if self.steps else None
        if predicted is not None and predicted <= self.budget_pct * RESTORE_HEADROOM:
            self._calm += 1
            if self._calm >= self._calm_required:
                self._calm = 0
                step = self.steps.pop()
                step.undo()
                self._said_nothing_left = False
                self._restored = (step.kind, self.periods)
                self._record(now, "restore", step)
        else:
            self._calm = 0

    def _next_step(self) -> Step | None:
        # what each probe declares it can give up (pyperf/probes/base.py), cheapest loss first
        taken = [s.kind for s in self.steps]
        for probe in self.collector.probes:
            for rate in probe.rate_steps:
                if probe.rate > rate:
                    before, unit = probe.rate, probe.rate_unit
                    probe.set_rate(rate)
                    return Step(f"{probe.name}_{unit.lower() or 'rate'}", f"{probe.name} {before} -> {rate} {unit}".rstrip(),
                                lambda p=probe, b=before: p.set_rate(b))
        if "event_sampling" not in taken and self._event_tables():
            self.event_sample_every = EVENT_SAMPLE_EVERY
            return Step("event_sampling",
                        f"keep 1 in {EVENT_SAMPLE_EVERY} rows of {', '.join(self._event_tables())}",
                        self._undo_event_sampling)
        # a probe the user already spaced out (--process-interval) skips the steps it is past
        for every in PROCESS_EVERY[taken.count("process_rows"):]:
            spaced = [p for p in self.collector.probes if p.process_tables and p.process_every < every]
            if spaced:
                before = {p: p.process_every for p in spaced}
                for probe in spaced:
                    probe.process_every = every
                tables = ", ".join(t for p in spaced for t in p.process_tables)
                return Step("process_rows", f"rows of {tables} every {every} intervals",
                            lambda b=before: self._set_process_every(b))
        writer = getattr(self.collector, "writer", None)
        flush_s = getattr(writer, "flush_interval_s", None)
        if flush_s is not None and flush_s < MAX_FLUSH_INTERVAL_S:
            # every insert costs the store a few ms whatever its size: fewer, larger ones
            writer.flush_interval_s = min(flush_s * 2, MAX_FLUSH_INTERVAL_S)
            return Step("flush", f"flush {flush_s:g} -> {writer.flush_interval_s:g} s",
                        lambda w=writer, b=flush_s: setattr(w, "flush_interval_s", b))
        costly = self._costliest_optional_probe()
        if costly is not None and self._probe_cost_pct.get(costly.name, 0.0) >= self.budget_pct / 10:
            self.collector.switch_off(costly)
            cost = self._probe_cost_pct[costly.name]
            return Step("probe_off", f"probe {costly.name} off (it cost {cost:.2f}% of host CPUs)",
                        lambda p=costly: self.collector.switch_on(p))
        return None

    def _undo_event_sampling(self) -> None:
        self.event_sample_every = 1

    @staticmethod
    def _set_process_every(every: dict) -> None:
        for probe, n in every.items():
            probe.process_every = n

    def _event_tables(self) -> tuple[str, ...]:
        return tuple(t for p in self.collector.probes for t in p.event_tables)

    def _costliest_optional_probe(self):
        """The optional probe with the highest cost (over two of the slowest drain cycles)."""
        best = max((p for p in self.collector.probes if p.optional),
                   key=lambda p: self._probe_cost_pct.get(p.name, 0.0), default=None)
        return best

    def _measure_probes(self, elapsed_s: float) -> None:
        """Per probe, % of the host's CPUs: its drains' CPU plus the kernel run time of its
        programs (sampled at each period's start, scaled), over the periods that hold two
        of the slowest drain cycles. With per-process rows every 15 intervals a probe
        drains once a minute or less, and the period holding that drain (or the first
        symbolisation of a new binary's stacks) alone reads as several times the
        probe's cost: over a tenth of the budget, a probe could be switched off for
        a saving it does not make."""
        drains = dict(getattr(self.collector, "drain_seconds", {}))
        spent = {}   # %-seconds, so that periods of any length add up
        for probe in self.collector.probes:
            drain = drains.get(probe.name, 0.0) - self._drains_before.get(probe.name, 0.0)
            spent[probe.name] = 100.0 * drain / self.cpus + self._bpf_probe_pct.get(probe.name, 0.0) * elapsed_s
        self._drains_before = drains
        self._probe_periods.append((elapsed_s, spent))
        span_s = max(DECIDE_OVER_PERIODS * self.period_s, 2 * self._slowest_drain_cycle_s())
        seconds, summed = 0.0, defaultdict(float)
        for elapsed, period in reversed(self._probe_periods):
            seconds += elapsed
            for name, pct_s in period.items():
                summed[name] += pct_s
            if seconds >= span_s:
                break
        self._probe_cost_pct = {name: pct_s / seconds for name, pct_s in summed.items()}

    def _slowest_drain_cycle_s(self) -> float:
        """Seconds between two drains of the probe drained least often."""
        interval_s = getattr(self.collector, "interval_s", 1.0)
        return interval_s * max((getattr(p, "process_every", 1) for p in self.collector.probes), default=1)

    def _record(self, now: float, action: str, step: Step) -> None:
        log.warning("overhead governor: %s %s (cost %.2f%% of host CPUs, budget %.2f%%)",
                    action, step.detail, self.cost_pct, self.budget_pct)
        rows = self._pending_rows
        for key, value in (("ts", now), ("action", action), ("step", step.kind), ("detail", step.detail),
                           ("cost_pct", self.cost_pct), ("budget_pct", self.budget_pct),
                           ("level", len(self.steps))):
            rows[key].append(value)

    # -- what the collector asks ---------------------------------------------
    def thin(self, batch: dict) -> dict:
        """Keep 1 in event_sample_every rows of the per-event tables."""
        if self.event_sample_every == 1:
            return batch
        for table in self._event_tables():
            columns = batch.get(table)
            if not columns:
                continue
            n = len(next(iter(columns.values())))
            keep = range(0, n, self.event_sample_every)
            batch[table] = {name: [values[i] for i in keep] for name, values in columns.items()}
            self.sampled_out[table] += n - len(keep)
        return batch

    def take_rows(self) -> dict:
        rows, self._pending_rows = self._pending_rows, defaultdict(list)
        return {"governor_actions": dict(rows)} if rows else {}

    def status(self) -> dict:
        return {"budget_pct": self.budget_pct, "cost_pct": round(self.cost_pct, 3),
                "probe_cost_pct": {k: round(v, 3) for k, v in self._probe_cost_pct.items()},
                "process_pct": round(self.process_pct, 3), "bpf_pct": round(self.bpf_pct, 3),
                "steps": [s.detail for s in self.steps], "periods": self.periods,
                "step_savings_pct": [None if s.saving is None else round(s.saving, 3) for s in self.steps],
                "sampled_out": dict(self.sampled_out), "history": list(self.history)}
