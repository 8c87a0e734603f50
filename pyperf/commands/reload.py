"""SIGHUP on a running `pyperf up`: read the config file (and the environment)
again, put in force what can change without a restart (interval, CPU budget,
probes, retention, thresholds, alert `for`, webhooks, auto-apply), and say in
one line what changed and what needs a restart. A flag typed at start still
wins; a file with a problem changes nothing."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager

from pyperf import config, settings, threads
from pyperf.analysis import auto_apply

log = logging.getLogger("pyperf.reload")


class Reloader:
    def __init__(self, args, agent: settings.Agent, alerting):
        self.args, self.agent, self.alerting = args, agent, alerting
        self.thresholds = config.thresholds_of(args.config_loaded)
        self._lock = threading.Lock()

    def reload(self) -> tuple[list[str], list[str]]:
        """(applied, needs a restart): key paths."""
        from pyperf.cli import build_parser

        with self._lock:
            try:
                loaded = config.load(self.args)
                fresh = build_parser().parse_args(["up"])
                fresh.given = self.args.given
                config.resolve(fresh, loaded)
            except config.ConfigError as e:
                log.error("config not reloaded (nothing changed): %s", e)
                return [], []
            applied, restart = [], []
            for key in config.KEYS:
                if key.flag in self.args.given or not hasattr(self.args, key.dest):
                    continue
                new, old = getattr(fresh, key.dest), getattr(self.args, key.dest)
                if new == old:
                    continue
                if not key.live:
                    restart.append(key.path)
                    continue
                self._apply(key, new)
                setattr(self.args, key.dest, new)
                applied.append(key.path)
            new_thresholds = config.thresholds_of(loaded)
            for path in set(self.thresholds) | set(new_thresholds):
                if self.thresholds.get(path) != new_thresholds.get(path):
                    value = new_thresholds.get(path, config.DEFAULT_THRESHOLDS[path])
                    config.apply_thresholds({path: value})
                    applied.append(f"thresholds.{path}")
            self.thresholds = new_thresholds
        log.warning("config reloaded from %s: %s%s", loaded.path or "(no file)",
                    "applied " + ", ".join(sorted(applied)) if applied else "nothing to apply",
                    f"; needs a restart: {', '.join(restart)}" if restart else "")
        return applied, restart

    def _apply(self, key: config.Key, value) -> None:
        if key.live == "retention":
            settings.apply(self.agent, {f"retention_{level}_days": days for level, days in value.items()})
        elif key.live in ("interval_s", "cpu_budget_pct"):
            settings.apply(self.agent, {key.live: value})
        elif key.live == "probes":
            settings.apply(self.agent, {"probes": sorted(value or self.agent.probe_names())})
        elif key.live == "webhooks":
            self.alerting.webhooks = tuple(value)
        elif key.live == "alert_for":
            self.alerting.for_s = value
        elif key.live == "auto_apply":
            for rule in auto_apply.ENABLED:
                auto_apply.ENABLED[rule] = rule in value


@contextmanager
def on_sighup(reloader: Reloader):
    """SIGHUP reloads, in a thread of its own: the signal lands in the main
    thread, which may hold the collector's lock that switching probes takes."""
    previous = signal.signal(signal.SIGHUP, lambda *_: threads.Named(
        target=reloader.reload, name="pyperf-reload", daemon=True).start())
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)
