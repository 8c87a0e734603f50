"""Alerts: the rules marked `alert` (the requirements' thresholds and the
performance score), evaluated by the running agent every `every_s` over the
last `period_s` of its live window. Each (rule, subject) goes
inactive → pending (over its threshold) → firing (still over after `for_s`)
→ resolved (past `clear_fraction` of the threshold: the gap between the two
levels keeps a value hovering at the threshold from flapping). A pending
alert whose value drops back before `for_s` is dropped without a trace.

Every state change is a row of the `alerts` table, a log line, and a POST to
each webhook in Alertmanager's webhook format (version 4), so anything that
takes Alertmanager notifications takes these. Sending runs on its own thread:
a slow receiver never delays evaluation; a failed POST is logged and retried
twice."""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from pyperf import threads
from pyperf.analysis import auto_apply, facts, findings, thresholds
from pyperf.analysis.rules import RULES, Rule
from pyperf.web.timerange import TimeRange
from pyperf.schema import EVENT, KEY, Column, Table

log = logging.getLogger("pyperf.alerts")

ALERT_RULES = tuple(r for r in RULES if r.alert)
NOT_ENDED = "0001-01-01T00:00:00Z"      # Alertmanager's endsAt of an alert still firing

TABLES = (
    Table("alerts",
          "Alert state changes: one row each time an alert goes pending, fires or resolves. The newest row per "
          "(host, fingerprint) is its state.",
          order_by=("host", "ts"), partition_by="", retention_days=365, dedup=False, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when the state changed"),
        Column("host", "LowCardinality(String)", KEY, "", "the agent's host"),
        Column("fingerprint", "String", EVENT, "", "stable id of (rule, host, subject)"),
        Column("rule", "LowCardinality(String)", EVENT, "", "rule id (pyperf/analysis/rules.py)"),
        Column("state", "LowCardinality(String)", EVENT, "", "pending, firing or resolved"),
        Column("severity", "LowCardinality(String)", EVENT, "", "warning or critical"),
        Column("scope", "LowCardinality(String)", EVENT, "", "host, container, server, ..."),
        Column("subject", "String", EVENT, "", "what it is about"),
        Column("container", "String", EVENT, "", "the container it concerns; empty for the host"),
        Column("value", "Float64", EVENT, "", "the rule's number at the change (unit in evidence)"),
        Column("threshold", "Float64", EVENT, "", "its threshold then"),
        Column("summary", "String", EVENT, "", "one line, as notified"),
        Column("evidence", "String", EVENT, "JSON", "the numbers the rule quotes"),
        Column("starts_at", "DateTime64(3, 'UTC')", EVENT, "time", "when the condition started holding"),
        Column("ends_at", "Nullable(DateTime64(3, 'UTC'))", EVENT, "time", "when it resolved; NULL until then"),
      )),
    Table("silences",
          "Alert silences: while one matches an alert (its rule, and its subject unless empty), the alert's "
          "changes are recorded but not notified. A later row with the same id and `ended` = 1 ends it early.",
          order_by=("host", "ts"), partition_by="", retention_days=None, dedup=False, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when it was made (or ended)"),
        Column("host", "LowCardinality(String)", KEY, "", "the agent's host"),
        Column("silence_id", "String", EVENT, "", "its id"),
        Column("rule", "String", EVENT, "", "the rule it silences"),
        Column("subject", "String", EVENT, "", "the subject it silences; empty: every subject of the rule"),
        Column("ends_at", "DateTime64(3, 'UTC')", EVENT, "time", "when it ends by itself"),
        Column("comment", "String", EVENT, "", "why, as typed"),
        Column("who", "String", EVENT, "", "who made it: the web client's address"),
        Column("ended", "UInt8", EVENT, "", "1: ended early"),
      )),
)


MAX_SILENCE_S = 30 * 86400

SILENCES = """
SELECT silence_id, argMax(rule, ts), argMax(subject, ts), argMax(ends_at, ts), argMax(comment, ts), argMax(who, ts),
       max(ended)
FROM silences WHERE host = {host:String}
GROUP BY silence_id
HAVING max(ended) = 0 AND argMax(ends_at, ts) > now64(3)
"""


def silences(store, host: str | None = None) -> list[dict]:
    """The silences in force now."""
    out = []
    for sid, rule, subject, ends, comment, who, _ in store.query(SILENCES, {"host": host or store.host_name}).rows:
        out.append({"id": sid, "rule": rule, "subject": subject, "comment": comment, "who": who,
                    "ends_at": _iso(ends.replace(tzinfo=dt.timezone.utc).timestamp())})
    return sorted(out, key=lambda x: x["ends_at"])


def add_silence(store, rule: str, subject: str, seconds: float, comment: str, who: str) -> str:
    """ValueError in one line for an unknown rule or a bad duration."""
    if rule not in {r.id for r in RULES}:
        raise ValueError(f"unknown rule {rule[:60]!r}")
    if not 60 <= seconds <= MAX_SILENCE_S:
        raise ValueError("a silence lasts 1 minute to 30 days")
    silence_id = uuid.uuid4().hex[:12]
    now = time.time()
    store.insert("silences", {"ts": [now], "silence_id": [silence_id], "rule": [rule], "subject": [subject[:500]],
                              "ends_at": [now + seconds], "comment": [comment[:500]], "who": [who[:200]],
                              "ended": [0]})
    return silence_id


def end_silence(store, silence_id: str, who: str) -> None:
    current = {x["id"]: x for x in silences(store)}
    if silence_id not in current:
        raise ValueError(f"no silence {silence_id[:40]!r} in force")
    x = current[silence_id]
    store.insert("silences", {"ts": [time.time()], "silence_id": [silence_id], "rule": [x["rule"]],
                              "subject": [x["subject"]], "ends_at": [time.time()], "comment": [x["comment"]],
                              "who": [who[:200]], "ended": [1]})


@dataclass
class State:
    rule: Rule
    fingerprint: str
    state: str                          # pending | firing
    since: float                        # when the condition started holding
    finding: dict = field(default_factory=dict)


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Alerts:
    def __init__(self, store, host: str | None = None, window=None, webhooks: tuple[str, ...] = (),
                 for_s: float = thresholds.ALERT_FOR_S, clear_fraction: float = thresholds.CLEAR_FRACTION,
                 period_s: float = 10.0, external_url: str = "", clock=time.time, rules=ALERT_RULES,
                 submit=None, fixer=None):
        self.store, self.window = store, window
        # the history goes where every other row goes (the writer: batched, spooled
        # while the store is down); straight to the store without one
        self.submit = submit
        self.host = host or store.host_name
        self.webhooks = tuple(webhooks)
        self.for_s, self.clear_fraction, self.period_s = for_s, clear_fraction, period_s
        self.external_url = external_url.rstrip("/")
        self.clock = clock
        self.rules = rules
        self.fixer = fixer                # an AutoApply: fixes made when a turned-on rule fires
        self.active: dict[str, State] = {}
        self.recent: collections.deque = collections.deque(maxlen=500)   # changes not necessarily stored yet
        self.sent = 0
        self.retry_delays_s = (1.0, 2.0)     # between the attempts of one POST
        self._silences: list[dict] = []
        self._silences_at = float("-inf")
        self.send_failures = 0
        self._outbox: queue.Queue = queue.Queue()
        self._sender: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- evaluation --------------------------------------------------------
    def evaluate(self) -> list[dict]:
        """One pass over the alert rules; the state changes it made (as stored)."""
        now = self.clock()
        end = dt.datetime.fromtimestamp(now, dt.timezone.utc)
        tr = TimeRange("custom", end - dt.timedelta(seconds=self.period_s), end)
        gathered: dict[str, dict[str, dict]] = {}
        changes = []
        fired: list[dict] = []
        seen: set[str] = set()
        with self._lock:
            for rule in self._watched():
                if rule.scope not in gathered:
                    gather = facts.GATHER[rule.scope]
                    found = (gather(self.store, tr, self.host, self.window, cheap=True) if rule.scope in facts.CHEAP
                             else gather(self.store, tr, self.host, self.window))
                    gathered[rule.scope] = {str(s["id"]): s for s in found}
                threshold = thresholds.value(rule.threshold)
                for subject_id, subject in gathered[rule.scope].items():
                    value = findings.measure(rule, subject)
                    if value is None:
                        continue
                    fp = findings.fingerprint(rule.id, self.host, subject_id)
                    current = self.active.get(fp)
                    over = findings.fires(rule, value, threshold)
                    if current is not None:
                        seen.add(fp)
                        current.finding = findings.finding(rule, subject, value, threshold, self.host, tr)
                    if current is None and over:
                        seen.add(fp)
                        state = State(rule, fp, "pending", now,
                                      findings.finding(rule, subject, value, threshold, self.host, tr))
                        self.active[fp] = state
                        changes.append(self._change(state, "pending", now))
                        if self.for_s <= 0:
                            state.state = "firing"
                            changes.append(self._change(state, "firing", now))
                            fired.append(state.finding)
                    elif current is not None and current.state == "pending":
                        if not over:
                            del self.active[fp]
                        elif now - current.since >= self.for_s:
                            current.state = "firing"
                            changes.append(self._change(current, "firing", now))
                            fired.append(current.finding)
                    elif current is not None and findings.cleared(rule, value, threshold, self.clear_fraction):
                        del self.active[fp]
                        changes.append(self._change(current, "resolved", now))
            # a subject that is gone (a container stopped, a server quiet) no longer holds its condition
            for fp in [fp for fp in self.active if fp not in seen]:
                current = self.active.pop(fp)
                if current.state == "firing":
                    changes.append(self._change(current, "resolved", now))
        if changes:
            self.recent.extend(changes)
            self._store(changes)
        if self.fixer is not None:            # outside the lock: a runtime call may take seconds
            for finding in fired:
                self.fixer.on_firing(finding)
        return changes

    def _watched(self) -> list[Rule]:
        """The alert rules, and the rules turned on for auto-apply (watched the same way)."""
        on = auto_apply.turned_on()
        extra = [r for r in RULES if r.id in on and r not in self.rules]
        return list(self.rules) + extra

    def history(self, since: dt.datetime) -> list[dict]:
        """State changes since `since`, newest first: the stored ones and those made
        since the last flush (the same change once)."""
        stored = history(self.store, since, self.host)
        seen = {(h["fingerprint"], h["state"], h["ts"][:23]) for h in stored}
        newer = []
        for c in self.recent:
            if c["ts"] >= since.timestamp():
                row = {k: c[k] for k in HISTORY_KEYS}
                row["ts"], row["starts_at"] = _iso(c["ts"]), _iso(c["starts_at"])
                row["ends_at"] = _iso(c["ends_at"]) if c["ends_at"] is not None else None
                if (row["fingerprint"], row["state"], row["ts"][:23]) not in seen:
                    newer.append(row)
        return sorted(newer + stored, key=lambda h: h["ts"], reverse=True)

    def _change(self, s: State, state: str, now: float) -> dict:
        f = s.finding
        log.log(logging.WARNING if state == "firing" else logging.INFO,
                "alert %s %s: %s", s.rule.id, state, f["summary"])
        change = {"ts": now, "fingerprint": s.fingerprint, "rule": s.rule.id, "state": state,
                  "severity": f["severity"], "scope": f["scope"], "subject": f["subject"],
                  "container": self._container_of(f), "value": float(f["evidence"][s.rule.metric]),
                  "threshold": float(f["evidence"]["threshold"]), "summary": f["summary"],
                  "evidence": json.dumps(f["evidence"], default=str), "starts_at": s.since,
                  "ends_at": now if state == "resolved" else None}
        if state != "pending":
            if self._silenced(s):
                log.info("alert %s %s: silenced, not notified", s.rule.id, state)
            else:
                self._notify(self.payload(s, state, now))
        return change

    SILENCES_MAX_AGE_S = 5.0

    def _silenced(self, s: State) -> bool:
        now = time.monotonic()
        if now - self._silences_at > self.SILENCES_MAX_AGE_S:
            try:
                self._silences = silences(self.store, self.host)
                self._silences_at = now
            except Exception as e:    # a store that does not answer silences nothing
                log.error("silences unreadable: %s", " ".join(str(e).split())[:200])
                return False
        return any(x["rule"] == s.rule.id and x["subject"] in ("", s.finding["subject"]) for x in self._silences)

    def forget_silences(self) -> None:
        """Read them again at the next use (one was made or ended)."""
        self._silences_at = float("-inf")

    @staticmethod
    def _container_of(f: dict) -> str:
        if f["scope"] == "container":
            return f["subject"]
        container = f["evidence"].get("container")
        return "" if container in (None, "host") else str(container)

    def _store(self, changes: list[dict]) -> None:
        columns = {k: [c[k] for c in changes] for k in changes[0]}
        if self.submit is not None:
            self.submit({"alerts": columns})
            return
        try:
            self.store.insert("alerts", columns)
        except Exception as e:   # the notification went out; the history waits for the store
            log.error("alert history not stored: %s", e)

    # -- what is active, as Alertmanager's alerts ------------------------------
    def alert(self, s: State, status: str, now: float) -> dict:
        f = s.finding
        a = alertmanager_alert(s.rule.id, f["severity"], self.host, f["scope"], f["subject"],
                               self._container_of(f), f["summary"], f["evidence"][s.rule.metric],
                               f["evidence"]["threshold"], s.state, s.since, s.fingerprint,
                               ends_at=now if status == "resolved" else None)
        a["status"] = status
        a["labels"]["resource"] = s.rule.resource
        a["annotations"].update(description=f["recommendation"], unit=s.rule.unit)
        a["generatorURL"] = self.external_url + f["view"]
        return a

    def snapshot(self) -> list[dict]:
        """Pending and firing alerts now, in Alertmanager's shape, firing first."""
        with self._lock:
            now = self.clock()
            out = [self.alert(s, "firing", now) for s in self.active.values()]
            for a, s in zip(out, self.active.values()):
                a["annotations"]["silenced"] = "true" if self._silenced(s) else "false"
        return sorted(out, key=lambda a: (a["annotations"]["state"] != "firing", a["startsAt"]))

    def payload(self, s: State, status: str, now: float) -> dict:
        """Alertmanager's webhook body (version 4) for one alert's change."""
        a = self.alert(s, status, now)
        return {"version": "4", "groupKey": f"{{}}:{{alertname=\"{s.rule.id}\"}}", "truncatedAlerts": 0,
                "status": status, "receiver": "pyperf", "groupLabels": {"alertname": s.rule.id},
                "commonLabels": a["labels"], "commonAnnotations": a["annotations"],
                "externalURL": self.external_url, "alerts": [a]}

    # -- notifications -------------------------------------------------------
    def _notify(self, body: dict) -> None:
        if not self.webhooks:
            return
        if self._sender is None:
            self._sender = threads.Named(target=self._send_loop, name="pyperf-alerts", daemon=True)
            self._sender.start()
        self._outbox.put(body)

    def _send_loop(self) -> None:
        while True:
            body = self._outbox.get()
            if body is None:
                return
            for url in self.webhooks:
                self._post(url, body)

    def _post(self, url: str, body: dict) -> None:
        data = json.dumps(body).encode()
        attempts = len(self.retry_delays_s) + 1
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=data, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
                self.sent += 1
                return
            except (urllib.error.URLError, OSError) as e:
                if attempt == attempts - 1:
                    self.send_failures += 1
                    log.error("alert webhook %s failed: %s", _redacted(url), e)
                else:
                    time.sleep(self.retry_delays_s[attempt])

    def run(self, stop: threading.Event, every_s: float) -> None:
        """Evaluate every `every_s` until `stop` is set (the agent's alerts thread)."""
        while not stop.wait(every_s):
            try:
                self.evaluate()
            except Exception as e:   # a store hiccup skips one pass, never the thread
                log.error("alert evaluation failed: %s", " ".join(str(e).split())[:300])

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, then stop the sender."""
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join(timeout)


def _redacted(url: str) -> str:
    """A webhook URL without credentials or query (tokens ride there)."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"


HISTORY = """
SELECT ts, fingerprint, rule, state, severity, scope, subject, container, value, threshold, summary,
       starts_at, ends_at
FROM alerts
WHERE host = {host:String} AND ts >= {since:DateTime64(3)}
ORDER BY ts DESC
LIMIT 1000
"""
ACTIVE = """
SELECT fingerprint, argMax(rule, ts), argMax(state, ts), argMax(severity, ts), argMax(scope, ts),
       argMax(subject, ts), argMax(container, ts), argMax(value, ts), argMax(threshold, ts),
       argMax(summary, ts), argMax(starts_at, ts)
FROM alerts WHERE host = {host:String}
GROUP BY fingerprint
HAVING argMax(state, ts) IN ('pending', 'firing')
"""
HISTORY_KEYS = ("ts", "fingerprint", "rule", "state", "severity", "scope", "subject", "container", "value",
                "threshold", "summary", "starts_at", "ends_at")


def history(store, since: dt.datetime, host: str | None = None) -> list[dict]:
    rows = store.query(HISTORY, {"host": host or store.host_name, "since": since}).rows
    return [{k: (_iso(v.replace(tzinfo=dt.timezone.utc).timestamp()) if isinstance(v, dt.datetime) else v)
             for k, v in zip(HISTORY_KEYS, r)} for r in rows]


def alertmanager_alert(rule: str, severity: str, host: str, scope: str, subject: str, container: str,
                       summary: str, value, threshold, state: str, starts_at: float, fingerprint: str,
                       ends_at: float | None = None) -> dict:
    """One alert in Alertmanager's shape (labels, annotations, startsAt, endsAt, fingerprint)."""
    labels = {"alertname": rule, "severity": severity, "host": host, "scope": scope, "subject": subject}
    if container:
        labels["container"] = container
    return {"status": "resolved" if ends_at is not None else "firing", "labels": labels,
            "annotations": {"summary": summary, "value": str(value), "threshold": str(threshold), "state": state},
            "startsAt": _iso(starts_at), "endsAt": _iso(ends_at) if ends_at is not None else NOT_ENDED,
            "fingerprint": fingerprint}


def active_in_store(store, host: str | None = None) -> list[dict]:
    """The alerts the last agent left pending or firing (from the stored history),
    in Alertmanager's shape: what `pyperf report` shows when no agent runs."""
    host = host or store.host_name
    return [alertmanager_alert(rule, severity, host, scope, subject, container, summary, value, threshold, state,
                               starts.replace(tzinfo=dt.timezone.utc).timestamp(), fp)
            for fp, rule, state, severity, scope, subject, container, value, threshold, summary, starts
            in store.query(ACTIVE, {"host": host}).rows]
