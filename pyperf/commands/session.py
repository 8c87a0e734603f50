"""What `record` and `up` share: pick the probes, open and lock the store, and
run the collector with a writer, flushing and detaching on the way out."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from pyperf.containers.enricher import ContainerEnricher
from pyperf.errors import PyperfError, StoreError, UsageError
from pyperf.pipeline.collector import Collector
from pyperf.pipeline.governor import Governor
from pyperf.pipeline.live_window import DEFAULT_TABLES as WINDOW_TABLES
from pyperf.pipeline.spool import Spool
from pyperf.pipeline.writer import BatchWriter, default_spool_folder
from pyperf.probes.base import Probe, ProbeOptions, link_riders
from pyperf.probes.registry import REGISTRY
from pyperf.probes.bpf_loader import release_compiler_memory
from pyperf.kernel.resident import release_library_pages
from pyperf.store.dsn import resolve_address
from pyperf.store.lock import StoreLock
from pyperf.store import rollups
from pyperf.store.store import CHDB_LIBRARIES, Store

log = logging.getLogger("pyperf.session")


def select_probes(args) -> list[Probe]:
    names = args.probes or sorted(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise UsageError(f"unknown probe '{unknown[0]}' (available: {', '.join(sorted(REGISTRY))})")
    options = ProbeOptions(interval_s=args.interval, slow_io_ms=args.slow_io_ms,
                           extra={"profile.hz": str(args.profile_hz),
                                  "sched.offcpu_stacks": "1" if args.offcpu_stacks else "0",
                                  "sched.offcpu_min_ms": str(args.offcpu_min_ms)})
    probes = [REGISTRY[n](options) for n in dict.fromkeys(names)]
    if getattr(args, "process_interval", None):
        if args.process_interval < args.interval:
            raise UsageError("--process-interval must be at least --interval")
        every = max(1, round(args.process_interval / args.interval))
        for probe in probes:
            probe.process_every = every
    return probes


def dump_bpf(probes: list[Probe]) -> int:
    link_riders(probes)          # as the collector runs them: a rider's part in its host's source
    for probe in probes:
        source, cflags = probe.bpf_source()
        print(f"// ===== probe {probe.name}\n// cflags: {' '.join(cflags)}\n{source}")
    return 0


def require_root(verb: str, why: str = "loads BPF programs") -> None:
    if os.geteuid() != 0:
        raise PyperfError(f"{verb} {why} and needs root: run it with sudo")


@contextmanager
def open_store(args, command: str, listen: str | None = None):
    """The store, locked for this process when it is embedded."""
    address = resolve_address(args.store)
    lock = StoreLock(address.path, command, listen) if address.embedded else None
    if lock:
        lock.acquire()
    store = Store(address)
    try:
        try:
            store.open()
        except StoreError as e:
            # a fleet agent must not lose what it collects because the server is down at
            # its start: it spools and sets the store up when it answers
            if address.embedded or not e.unreachable:
                raise
            log.warning("%s; collecting anyway, rows are spooled until the store answers", e)
        if getattr(args, "retention", None) and store.ready:
            rollups.apply_retention(store, args.retention)
        yield store
    finally:
        store.close()
        if lock:
            lock.release()


@contextmanager
def collecting(store, probes: list[Probe], args):
    """A started writer and collector with its probes attached; on exit the last
    interval is drained, everything buffered is written and the probes detach."""
    if args.spool_max_mb <= 0:
        raise UsageError("--spool-max-mb must be positive")
    if args.cpu_budget < 0:
        raise UsageError("--cpu-budget must be 0 (off) or a positive percentage")
    if args.cpu_budget and args.governor_period < 1:
        raise UsageError("--governor-period must be at least 1s")
    spool = Spool(args.spool_dir or default_spool_folder(store.address, os.environ.get("PYPERF_HOST_NAME")),
                  args.spool_max_mb << 20, command=getattr(args, "verb", "") or "")
    flush_s = max(args.flush_interval, args.interval)

    def roll_up() -> None:
        # a minute is rolled up once its rows have had two of their flushes to reach the store
        if store.ready:
            lag_s = 2 * writer.longest_wait_s + 60
            rollups.roll_up(store, datetime.now(timezone.utc) - timedelta(seconds=lag_s))

    writer = BatchWriter(store, flush_interval_s=flush_s, spool=spool, maintenance=roll_up,
                         windowed=WINDOW_TABLES)
    writer.start()
    enricher = ContainerEnricher()
    collector = Collector(probes, writer, args.interval, enricher=enricher,
                          counters_every_s=max(args.flush_interval, args.interval))
    if args.cpu_budget:
        collector.governor = Governor(collector, budget_pct=args.cpu_budget, period_s=args.governor_period,
                                      sample_s=min(2.0, args.governor_period / 2))
    try:
        enricher.start_watcher()
        if enricher.watcher is not None:        # a host starting processes need not make it walk /proc
            watcher = enricher.watcher
            for probe in probes:
                if hasattr(probe, "namespaces_announced"):      # the containers source
                    probe.namespaces_announced = lambda: watcher.announced
        collector.attach()
        # what only start-up ran: the compiler; chDB's pages the attach touched (pyperf/kernel/resident.py;
        # the store gave back its initialisation's when it opened)
        released = release_compiler_memory() + release_library_pages(CHDB_LIBRARIES)
        log.info("start-up pages released: %d kB", released)
        if not collector.probes:
            details = "; ".join(collector.attach_errors.values())
            raise PyperfError(f"no probe could attach: {details}")
        yield collector
    finally:
        if collector.governor is not None:
            collector.governor.close()
        collector.detach()
        enricher.stop()
        if collector.probes:
            collector.submit_counters(time.time())
        writer.close()
        spool.close()


@contextmanager
def stop_on_signals():
    """An Event set by SIGINT or SIGTERM, so both end a run cleanly."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
