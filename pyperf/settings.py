"""What the Settings page changes on a running agent: the interval, which probes
run, the CPU budget, retention and the alert thresholds. Each setting is
declared once (bounds, unit, how it is applied); values are checked here, applied
to the running collector, governor, store and thresholds, and kept in the
store's `settings` table, from which the next `pyperf up` on the same store and
host starts (a flag given on its command line wins)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from pyperf.analysis import thresholds
from pyperf.pipeline.collector import MAX_INTERVAL_S, MIN_INTERVAL_S
from pyperf.store import rollups
from pyperf.schema import EVENT, KEY, Column, Table

log = logging.getLogger("pyperf.settings")


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    unit: str
    low: float
    high: float
    integer: bool = False
    scale: float = 1.0           # stored value = shown value * scale (thresholds kept in base units)


THRESHOLD_KEYS = {  # setting: (thresholds dict, its key)
    "host_cpu_pct": (thresholds.HOST, "cpu_pct"),
    "host_memory_pct": (thresholds.HOST, "memory_pct"),
    "host_disk_iops": (thresholds.HOST, "disk_iops"),
    "host_network_mb_s": (thresholds.HOST, "network_bytes_per_s"),
    "container_cpu_pct": (thresholds.CONTAINER, "cpu_pct"),
    "container_memory_pct": (thresholds.CONTAINER, "memory_pct"),
    "response_time_ms": (thresholds.CONTAINER, "response_time_us"),
    "layer_accesses_per_min": (thresholds.CONTAINER, "layer_accesses_per_min"),
}
ALERT_THRESHOLD_KEYS = tuple(THRESHOLD_KEYS)       # the requirements' eight (the findings' join below)

SETTINGS = (
    Setting("interval_s", "drain interval", "s", MIN_INTERVAL_S, MAX_INTERVAL_S),
    Setting("cpu_budget_pct", "CPU budget (0: no governor)", "% of host CPUs", 0.0, 100.0),
    Setting("retention_raw_days", "keep per-interval rows", "days", 1, 3650, integer=True),
    Setting("retention_1m_days", "keep 1-minute rollups", "days", 1, 3650, integer=True),
    Setting("retention_1h_days", "keep 1-hour rollups", "days", 1, 3650, integer=True),
    Setting("host_cpu_pct", "host CPU alert over", "%", 1, 100),
    Setting("host_memory_pct", "host memory alert over", "%", 1, 100),
    Setting("host_disk_iops", "host disk I/O alert over", "IOPS", 1, 10_000_000),
    Setting("host_network_mb_s", "host network alert over", "MB/s", 0.001, 1_000_000, scale=1e6),
    Setting("container_cpu_pct", "container CPU alert over", "% of its limit", 1, 1000),
    Setting("container_memory_pct", "container memory alert over", "% of its limit", 1, 100),
    Setting("response_time_ms", "response time alert over", "ms", 0.001, 600_000, scale=1000),
    Setting("layer_accesses_per_min", "layer accesses alert over", "per minute", 1, 1e9),
)
def _findings_settings() -> tuple[Setting, ...]:
    """The findings' own thresholds (pyperf/analysis/thresholds.py FINDINGS), in
    the unit of the rule that reads each."""
    from pyperf.analysis.rules import RULES
    units = {r.threshold.partition(".")[2]: r.unit for r in RULES if r.threshold.startswith("findings.")}
    out = []
    for name in thresholds.FINDINGS:
        key = f"findings_{name}"
        THRESHOLD_KEYS[key] = (thresholds.FINDINGS, name)
        out.append(Setting(key, name.replace("_", " "), units.get(name, ""), 0, float("inf")))
    return tuple(out)


FINDINGS_SETTINGS = _findings_settings()
SETTINGS = SETTINGS + FINDINGS_SETTINGS
BY_KEY = {s.key: s for s in SETTINGS}
# the Settings page's sections, in order
GROUPS = (
    ("Collection", ("interval_s", "cpu_budget_pct")),
    ("Retention", ("retention_raw_days", "retention_1m_days", "retention_1h_days")),
    ("Alert thresholds", ALERT_THRESHOLD_KEYS),
    ("Findings thresholds", tuple(s.key for s in FINDINGS_SETTINGS)),
)
RETENTION = {"retention_raw_days": "raw", "retention_1m_days": "1m", "retention_1h_days": "1h"}


class Agent:
    """The running parts a setting acts on; any may be None (a test, `record`)."""

    def __init__(self, collector=None, store=None, retention: dict | None = None):
        self.collector = collector
        self.store = store
        self.retention = dict(retention or rollups.DEFAULT_RETENTION_DAYS)

    def current(self) -> dict:
        """Every setting's value in force now, in the units shown."""
        values = {}
        if self.collector is not None:
            values["interval_s"] = self.collector.interval_s
            governor = self.collector.governor
            values["cpu_budget_pct"] = governor.budget_pct if governor is not None else 0.0
            values["probes"] = sorted(p.name for p in self.collector.probes)
        for key, level in RETENTION.items():
            values[key] = self.retention[level]
        for key, (table, name) in THRESHOLD_KEYS.items():
            values[key] = table[name] / BY_KEY[key].scale
        return values

    def probe_names(self) -> list[str]:
        """The probes this agent can switch on or off: the ones it was started with."""
        if self.collector is None:
            return []
        return sorted({p.name for p in self.collector.candidates})


def parse(form, agent: Agent) -> tuple[dict, dict]:
    """(values, errors): the submitted fields that differ in form from nothing, as
    numbers in the shown units, and one line per field that is wrong."""
    values, errors = {}, {}
    for s in SETTINGS:
        text = (form.get(s.key) or "").strip()
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            errors[s.key] = f"{s.label}: '{text[:20]}' is not a number"
            continue
        if number != number or not s.low <= number <= s.high:
            errors[s.key] = f"{s.label}: {text[:20]} is outside {s.low:g}..{s.high:g} {s.unit}"
            continue
        if s.integer and number != int(number):
            errors[s.key] = f"{s.label}: {text[:20]} is not a whole number of {s.unit}"
            continue
        values[s.key] = int(number) if s.integer else number
    if form.get("probes_shown"):           # the page's checkboxes: none ticked sends no "probes" at all
        known = agent.probe_names()
        chosen = form.getlist("probes")
        unknown = [p for p in chosen if p not in known]
        if unknown:
            errors["probes"] = f"probes: '{unknown[0][:20]}' is not one this agent was started with ({', '.join(known)})"
        elif not chosen:
            errors["probes"] = "probes: keep at least one probe on"
        else:
            values["probes"] = sorted(set(chosen))
    return values, errors


def apply(agent: Agent, values: dict) -> dict[str, str]:
    """Put the values in force; per key, what happened in a few words."""
    done: dict[str, str] = {}
    collector = agent.collector
    for key, value in values.items():
        if key in THRESHOLD_KEYS:
            table, name = THRESHOLD_KEYS[key]
            table[name] = value * BY_KEY[key].scale
            done[key] = "applied"
        elif key in RETENTION:
            agent.retention[RETENTION[key]] = value
            done[key] = "applied"
        elif collector is None:
            done[key] = "kept for the next start"
        elif key == "interval_s":
            collector.interval_s = value
            done[key] = "applied"
        elif key == "cpu_budget_pct":
            if collector.governor is None:
                done[key] = "kept for the next start (this agent runs without a governor)" if value else "applied"
            elif value == 0:
                done[key] = "kept for the next start (the governor stops at a restart)"
            else:
                collector.governor.budget_pct = value
                done[key] = "applied"
        elif key == "probes":
            done[key] = _switch_probes(collector, set(value))
    if any(k in RETENTION for k in values) and agent.store is not None and agent.store.ready:
        rollups.apply_retention(agent.store, agent.retention)
    return done


def forget_governor_steps(collector, kind: str, probe: str | None = None) -> None:
    """A user's choice replaces what the governor did to the same knob: its step is
    dropped, not undone later over the user's value."""
    governor = collector.governor
    if governor is not None:
        governor.steps = [s for s in governor.steps
                          if not (s.kind == kind and (probe is None or s.detail == f"probe {probe} off"))]


def _switch_probes(collector, wanted: set[str]) -> str:
    running = {p.name for p in collector.probes}
    with collector.lock:
        for probe in list(collector.probes):
            if probe.name not in wanted:
                collector.switch_off(probe)
        for probe in list(collector.switched_off):
            if probe.name in wanted:
                forget_governor_steps(collector, "probe_off", probe.name)
                collector.switch_on(probe)
    now = {p.name for p in collector.probes}
    changes = [f"+{n}" for n in sorted(now - running)] + [f"-{n}" for n in sorted(running - now)]
    failed = sorted(wanted - now)
    said = "applied" + (f" ({', '.join(changes)})" if changes else "")
    return said + (f"; could not attach {', '.join(failed)} (see the log)" if failed else "")


TABLES = (
    Table("settings",
          "Settings changed on the Settings page: the newest row per host and key is in force, and a later "
          "`pyperf up` on the same store starts from it (a flag on its command line wins).",
          order_by=("host", "key", "ts"), partition_by="", retention_days=None, dedup=False, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when it was changed"),
        Column("host", "LowCardinality(String)", KEY, "", "the agent's host"),
        Column("key", "LowCardinality(String)", KEY, "", "setting (pyperf/settings.py)"),
        Column("value", "String", EVENT, "JSON", "its value, in the unit the page shows"),
        Column("who", "String", EVENT, "", "who changed it: the web client's address"),
      )),
)

STORED = """
SELECT key, argMax(value, ts) FROM settings WHERE host = {host:String} GROUP BY key
"""


def save(store, values: dict, who: str) -> None:
    rows = {"ts": [], "key": [], "value": [], "who": []}
    now = time.time()
    for key, value in values.items():
        rows["ts"].append(now)
        rows["key"].append(key)
        rows["value"].append(json.dumps(value))
        rows["who"].append(who[:200])
    if rows["key"]:
        store.insert("settings", rows)       # the store adds its host


def load(store, host: str) -> dict:
    """The settings kept for this host; a value that no longer parses is left out, with a warning."""
    values = {}
    for key, text in store.query(STORED, {"host": host}).rows:
        try:
            value = json.loads(text)
        except ValueError:
            log.warning("stored setting %s is not JSON; ignored", key)
            continue
        setting = BY_KEY.get(key)
        if key == "probes" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            values[key] = value
        elif setting is not None and isinstance(value, (int, float)) and setting.low <= value <= setting.high:
            values[key] = value
        else:
            log.warning("stored setting %s=%s is not valid any more; ignored", key, text[:40])
    return values
