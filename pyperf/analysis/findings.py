"""Rules (pyperf/analysis/rules.py) applied to the facts of one time range
(pyperf/analysis/facts.py): findings, most severe first. A finding is plain
data, the same printed by `pyperf report`, served by /api/findings and shown
on the dashboard."""

from __future__ import annotations

import hashlib
import logging
import math

from pyperf.analysis import actions, facts, thresholds
from pyperf.analysis.rules import RULES, SEVERITIES, Rule
from pyperf.store import pool
from pyperf.web.timerange import TimeRange

log = logging.getLogger("pyperf.findings")


def fingerprint(rule_id: str, host: str, subject_id: str) -> str:
    """Stable per rule, host and subject (Alertmanager's fingerprint: 16 hex digits)."""
    return hashlib.sha256(f"{rule_id}\0{host}\0{subject_id}".encode()).hexdigest()[:16]


def _fires(rule: Rule, value: float, threshold: float) -> bool:
    return value < threshold if rule.below else value > threshold


def fires(rule: Rule, value: float, threshold: float) -> bool:
    return _fires(rule, value, threshold)


def cleared(rule: Rule, value: float, threshold: float, fraction: float) -> bool:
    """Back on the right side of its threshold by a margin (an alert's clear level)."""
    return value > threshold / fraction if rule.below else value < threshold * fraction


def severity(rule: Rule, value: float, threshold: float) -> str:
    if rule.critical_at is not None and _fires(rule, value, threshold * rule.critical_at):
        return "critical"
    return rule.severity


def measure(rule: Rule, subject: dict) -> float | None:
    """The rule's number for this subject; None when it has none or its guard
    says it means nothing (too few requests, periods, ...)."""
    value = subject.get(rule.metric)
    if value is None or isinstance(value, str) or not math.isfinite(float(value)):
        return None
    if any((subject.get(k) or 0) < minimum for k, minimum in rule.guard):
        return None
    return float(value)


def _text(template: str, values: dict) -> str:
    try:
        return template.format(**values)
    except (KeyError, ValueError, TypeError) as e:   # a template bug must not hide the finding
        log.error("rule text %r: %s", template, e)
        return template


def finding(rule: Rule, subject: dict, value: float, threshold: float, host: str, tr: TimeRange) -> dict:
    values = {**subject, "value": value, "threshold": threshold, "value_ms": value / 1000,
              "threshold_ms": threshold / 1000, "value_mb": value / 1e6}
    evidence = {rule.metric: value, "threshold": threshold, "unit": rule.unit,
                **{k: subject.get(k) for k in rule.evidence}}
    return {
        "id": fingerprint(rule.id, host, str(subject["id"])),
        "rule": rule.id, "severity": severity(rule, value, threshold), "type": f"{rule.resource} {rule.kind}",
        "scope": rule.scope, "subject": subject["subject"], "subject_id": str(subject["id"]), "host": host,
        "summary": _text(rule.summary, values), "recommendation": _text(rule.recommendation, values),
        "evidence": evidence,
        "expected_improvement": _text(rule.improvement, values),
        "estimated_by": _text(rule.estimate, values),
        "effort": rule.effort, "view": subject.get("view", ""),
        # a fix `pyperf apply` can make: one setting of a Docker container
        "appliable": rule.id in actions.APPLIABLE and subject.get("runtime") == "docker",
        "range": {"from": tr.start.isoformat(), "to": tr.end.isoformat()},
    }


def evaluate(store, tr: TimeRange, host: str | None = None, window=None, rules=RULES,
             container: str | None = None, overrides: dict[str, float] | None = None,
             gathered: dict[str, list[dict]] | None = None) -> list[dict]:
    """Every rule over the range, most severe first. `container` (a name or id)
    keeps the findings about that container and its servers; `overrides`
    (threshold path: value) replace thresholds for this evaluation only;
    `gathered` (scope: facts) is filled with the facts read, for a caller that
    shows them too."""
    host = host or store.host_name
    gathered = {} if gathered is None else gathered
    wanted = {r.scope for r in rules} - set(gathered)
    with pool.sharing():      # the scopes read some things alike (container identities, ...)
        gathered.update(pool.run_all({s: (facts.GATHER[s], store, tr, host, window)
                                      for s in facts.SCOPES if s in wanted}))
    out = []
    for rule in rules:
        threshold = (overrides or {}).get(rule.threshold, thresholds.value(rule.threshold))
        for subject in gathered[rule.scope]:
            value = measure(rule, subject)
            if value is not None and _fires(rule, value, threshold):
                out.append(finding(rule, subject, value, threshold, host, tr))
    if container:
        out = [f for f in out if _about(f, container)]
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(out, key=lambda f: (-rank[f["severity"]], f["rule"], f["subject"]))


def _about(f: dict, container: str) -> bool:
    if f["scope"] in ("container", "neighbour"):
        return container in (f["subject"], f["subject_id"]) or f["subject_id"].startswith(container)
    if f["scope"] == "server":
        return f["evidence"].get("container") == container
    if f["scope"] == "peer":
        return container in f["evidence"].get("containers", "").split(", ")
    return False


def parse_overrides(items: list[str]) -> dict[str, float]:
    """["findings.disk_p99_us=20000", ...] -> {path: value}; ValueError in one line."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        try:
            thresholds.value(key.strip())
        except (KeyError, ValueError):
            known = ", ".join(sorted({r.threshold for r in RULES}))
            raise ValueError(f"unknown threshold {key.strip()[:60]!r} (known: {known})") from None
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not sep or not math.isfinite(value) or value < 0:
            raise ValueError(f"threshold {key.strip()} needs a number >= 0, as {key.strip()}=VALUE")
        out[key.strip()] = value
    return out


def worst(findings: list[dict]) -> str | None:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return max((f["severity"] for f in findings), key=rank.__getitem__, default=None)
