"""Attaches the probes, drains them once per interval and hands the batches to
the writer. A probe that fails to attach or drain is reported and counted;
the others keep running."""

from __future__ import annotations

import logging
import threading
import time

from pyperf.errors import ProbeError
from pyperf.pipeline.counters import counters_batch
from pyperf.pipeline.live_window import LiveWindow
from pyperf.pipeline.prometheus_totals import MetricTotals
from pyperf.probes.base import Probe, link_riders
from pyperf.probes.bpf_loader import release_compiler_memory

log = logging.getLogger("pyperf.collector")

MIN_INTERVAL_S = 0.1
MAX_INTERVAL_S = 10.0


class MonotonicTimer:
    """The collector's clock, sleep and CPU clock; tests give it a fake one with the same three methods."""

    @staticmethod
    def now() -> float:
        return time.monotonic()

    @staticmethod
    def cpu() -> float:
        """The calling thread's CPU time: what a drain costs the host (waiting on the GIL,
        a lock or a slow /proc read costs it nothing)."""
        return time.thread_time()

    @staticmethod
    def wait(stop: threading.Event, seconds: float) -> None:
        stop.wait(seconds)


class Collector:
    def __init__(self, probes: list[Probe], writer, interval_s: float = 1.0, enricher=None,
                 counters_every_s: float = 15.0, timer=MonotonicTimer):
        if interval_s < MIN_INTERVAL_S:
            raise ValueError(f"interval below {MIN_INTERVAL_S}s")
        self.candidates = probes
        self.probes: list[Probe] = []
        self.writer = writer
        self.enricher = enricher
        self.interval_s = interval_s
        self.timer = timer
        self.attach_errors: dict[str, str] = {}
        self.drain_errors: dict[str, int] = {}
        self.intervals = 0
        self.started_at = 0.0
        self.counters_every_s = counters_every_s
        self._counters_at = 0.0
        self.governor = None           # set by the session when a CPU budget is given
        self.drain_seconds: dict[str, float] = {}   # per probe, cumulative CPU: the governor's per-probe cost
        self.switched_off: list[Probe] = []
        self.lock = threading.Lock()   # held while probes drain; readers of live() take it
        self.window = LiveWindow()     # the recent past, for live views (no store writes per refresh)
        from pyperf.schema import catalog       # the probes' modules fill the catalog: not at import
        self.metrics = MetricTotals(catalog.tables())      # /metrics, folded from the window's copies
        assert set(self.metrics.specs) <= set(self.window.tables), "an exported table the window does not keep"
        link_riders(probes)

    def attach(self) -> list[Probe]:
        for probe in self.candidates:
            try:
                probe.attach()
                self.probes.append(probe)
                log.info("probe %s attached", probe.name)
            except ProbeError as e:
                self.attach_errors[probe.name] = str(e)
                log.error("%s (skipped)", e)
        self.started_at = time.time()
        return self.probes

    def run(self, stop: threading.Event, duration_s: float | None = None) -> None:
        """Drain every interval until `stop` is set or `duration_s` has passed, and
        once more on the way out: always at least once, so a stop that came while
        later probes were still attaching keeps what the attached ones counted."""
        now = self.timer.now
        start = now()
        deadline = start + duration_s if duration_s else None
        tick = start

        def ending() -> bool:
            return stop.is_set() or (deadline is not None and now() >= deadline - 1e-3)

        while True:
            tick += self.interval_s
            if deadline is not None:
                tick = min(tick, deadline)
            self.timer.wait(stop, max(0.0, tick - now()))
            last = ending()
            self.drain_once(last=last)
            if not last and ending():
                # the stop came during that drain: per-process rows it did not take
                # (spaced out) are taken now, and nothing else is drained again
                if any(p.process_rows_pending() for p in self.probes):
                    self.drain_once(last=True)
                last = True
            if last:
                break
            if now() - tick > self.interval_s:
                tick = now()   # we fell behind: skip, never burst

    def drain_once(self, last: bool = False) -> None:
        """One drain of every probe; `last`: the one on the way out, which takes the
        per-process rows too, however many drains before they would be due."""
        now = time.time()
        with self.lock:
            for probe in self.probes:
                if last:
                    probe.take_process_rows()
                started = self.timer.cpu()
                try:
                    batch = probe.drain(now)
                except Exception as e:  # one probe's bug must not stop the others
                    self.drain_errors[probe.name] = self.drain_errors.get(probe.name, 0) + 1
                    log.error("probe %s: drain failed: %s: %s", probe.name, type(e).__name__, e)
                    continue
                finally:
                    self.drain_seconds[probe.name] = (self.drain_seconds.get(probe.name, 0.0)
                                                      + self.timer.cpu() - started)
                if self.governor is not None:
                    batch = self.governor.thin(batch)
                if self.writer is not None:
                    self.writer.submit(batch)
                self.metrics.add(self.window.add(batch, now, covers=probe.tables))
                self._enrich(batch, now)
            self.intervals += 1
            if self.governor is not None:
                self.governor.tick(now)
                if self.writer is not None:
                    self.writer.submit(self.governor.take_rows())
            if now - self._counters_at >= self.counters_every_s:
                self.submit_counters(now)

    def submit_counters(self, now: float) -> None:
        """Store the agent's own counters (losses, rows by outcome) with the data."""
        self._counters_at = now
        if self.writer is not None:
            self.writer.submit(counters_batch(self, now))

    def _enrich(self, batch, now: float) -> None:
        if self.enricher is None or not batch:
            return
        try:
            extra = self.enricher.observe(batch, now)
        except Exception as e:  # attribution failing must not stop collection
            log.error("container attribution failed: %s: %s", type(e).__name__, e)
            return
        if extra:
            self.window.add(extra, now)          # live views name containers seen since the last flush
            if self.writer is not None:
                self.writer.submit(extra)

    def switch_off(self, probe: Probe) -> None:
        """Detach a running probe (the governor's last lever); switch_on() brings it back."""
        try:
            probe.detach()
        except Exception as e:
            log.error("probe %s: detach failed: %s", probe.name, e)
        if probe in self.probes:
            self.probes.remove(probe)
        self.switched_off.append(probe)
        self._move_riders(probe)

    def switch_on(self, probe: Probe) -> None:
        try:
            probe.attach()
        except ProbeError as e:
            log.error("%s (stays off)", e)
            return
        if probe in self.switched_off:
            self.switched_off.remove(probe)
        self.probes.append(probe)
        self._move_riders(probe)
        release_compiler_memory()      # as after start-up: what the compiles took, back

    def _move_riders(self, host: Probe) -> None:
        """A rider's kernel work follows its host: back into its own programs when
        the host stops, into the host's when it runs again (the rider's counts
        since its last drain are lost, as they are when it is switched off)."""
        for rider in host.riders:
            if rider not in self.probes:
                continue
            try:
                rider.detach()
                rider.attach()
                log.info("probe %s attached again (%s)", rider.name, rider.chosen_path())
            except ProbeError as e:
                log.error("%s (off)", e)
                self.probes.remove(rider)
                self.attach_errors[rider.name] = str(e)

    def detach(self) -> None:
        for probe in self.probes:
            try:
                batch = probe.finish()
                if batch and self.writer is not None:
                    self.writer.submit(batch)
            except Exception as e:
                log.error("probe %s: finishing failed: %s", probe.name, e)
            try:
                probe.detach()
            except Exception as e:
                log.error("probe %s: detach failed: %s", probe.name, e)

    def status(self) -> dict:
        """What the agent is doing, in one place: /api/status, /metrics, `record
        --json` and `pyperf status` all read this."""
        probes = {p.name: {"attached": True, "totals": p.all_totals()} for p in self.probes}
        probes.update({name: {"attached": False, "error": err} for name, err in self.attach_errors.items()})
        return {
            "interval_s": self.interval_s,
            "intervals": self.intervals,
            "started_at": self.started_at,
            "probes": probes,
            "writer": self.writer.stats() if self.writer is not None else None,
            "governor": self.governor.status() if self.governor is not None else None,
            "unattributed_container_keys": self.enricher.unresolved if self.enricher is not None else 0,
        }
