"""Findings & alerts: the alerts pending and firing now (refreshed every 5 s,
also shown on the Overview), the findings of the chosen range (every rule of
pyperf/analysis/rules.py), and the history of alert changes. The thresholds
are edited on the Settings page. /api/alerts, /api/findings and /api/report
serve the same to `pyperf alerts` and `pyperf report` while `up` holds the
store."""

from __future__ import annotations

import datetime as dt
import hmac

from flask import current_app, jsonify, render_template, request

from pyperf.analysis import actions, findings, report
from pyperf.analysis import alerts as alerting
from pyperf.store import pool
from pyperf.web.pages import flush_pending
from pyperf.web.timerange import parse_range

MAX_HISTORY_S = 31 * 86400
ALERT_RULE_IDS = [r.id for r in alerting.ALERT_RULES]


def _alerts():
    return current_app.config.get("PYPERF_ALERTS")


def tables(store, time_range, host, window) -> dict:
    a = _alerts()
    history = (a.history(time_range.start) if a is not None and host == store.host_name
               else alerting.history(store, time_range.start, host))
    with pool.sharing():     # the summary's off-CPU stacks are the stack scope's too
        summary = pool.submit(report.flame_summary, store, time_range, host)    # beside the findings' reads
        found = findings.evaluate(store, time_range, host, window)
        summary = summary.result()
    return {"findings": found, "history": history, "flame_summary": summary,
            # flat, for the exports
            "bottlenecks": [{"kind": kind, **row} for kind, s in summary.items() for row in s["top"]]}


def routes(bp, store, collector, page_context) -> None:
    def window():
        return collector.window if collector is not None else None

    @bp.post("/alerts/silences")
    def silence():
        """A form's silence (rule, subject, hours, comment), or ?end=ID to end one early."""
        who = request.remote_addr or ""
        try:
            if request.form.get("end"):
                alerting.end_silence(store, request.form["end"], who)
            else:
                hours = float(request.form.get("hours", "") or "nan")
                alerting.add_silence(store, request.form.get("rule", ""), request.form.get("subject", ""),
                                     hours * 3600 if hours == hours else 0, request.form.get("comment", ""), who)
        except ValueError as e:
            return render_template("partials/alerts_silences.html", silences=alerting.silences(store),
                                   rules=ALERT_RULE_IDS, error=str(e)), 400
        if _alerts() is not None:
            _alerts().forget_silences()
        return render_template("partials/alerts_silences.html", silences=alerting.silences(store),
                               rules=ALERT_RULE_IDS, error="")

    @bp.get("/alerts/silences")
    def silences():
        return render_template("partials/alerts_silences.html", silences=alerting.silences(store),
                               rules=ALERT_RULE_IDS, error="")

    @bp.get("/alerts/active")
    def active():
        a = _alerts()
        shown = a.snapshot() if a is not None else alerting.active_in_store(store)
        return render_template("partials/alerts_active.html", alerts=shown, compact="compact" in request.args)

    @bp.get("/api/alerts")
    def api_alerts():
        """?history=SECONDS (default a day): pending and firing alerts now, and the changes."""
        seconds = request.args.get("history", 86400, type=float)
        if not 0 < seconds <= MAX_HISTORY_S:
            return jsonify(error=f"history is 1 to {MAX_HISTORY_S} seconds"), 400
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)
        a = _alerts()
        return jsonify(active=a.snapshot() if a is not None else alerting.active_in_store(store),
                       history=a.history(since) if a is not None else alerting.history(store, since))

    @bp.get("/api/findings")
    def api_findings():
        """?range=... (as every page) &container=NAME: the findings of that range."""
        context = page_context()
        return jsonify(findings=findings.evaluate(store, context["range"], context["host"], window(),
                                                  container=request.args.get("container") or None))

    @bp.get("/api/changes")
    def api_changes():
        """What `pyperf apply` changed and `pyperf undo` restored."""
        return jsonify(changes=actions.changes(store))

    @bp.post("/api/changes")
    def record_change():
        """Record a change `pyperf apply`/`undo` made (as root, itself). Always needs the
        store's token, on loopback too: only root can read it, and an undo trusts
        what was recorded."""
        token_file = current_app.config.get("PYPERF_ADMIN_TOKEN")
        header = request.headers.get("Authorization", "")
        if token_file is None or not header.startswith("Bearer ") or not hmac.compare_digest(
                header[7:].strip().encode(), token_file.current().encode()):
            return jsonify(error="recording a change needs the store's token (run pyperf apply as root)"), 401
        body = request.get_json(silent=True)
        try:
            plan = actions.checked_plan(body if isinstance(body, dict) else {})
        except ValueError as e:
            return jsonify(error=str(e)), 400
        return jsonify(change_id=actions.record(store, plan, body["action"], body["who"], body.get("undoes", "")))

    @bp.get("/api/report")
    def api_report():
        """?from=ISO&to=ISO&container=NAME&threshold=PATH=VALUE...: what `pyperf report` prints."""
        try:
            tr = parse_range({"range": "custom", "from": request.args.get("from", ""),
                              "to": request.args.get("to", "")})
            overrides = findings.parse_overrides(request.args.getlist("threshold"))
        except ValueError as e:
            return jsonify(error=str(e)), 400
        flush_pending(collector)
        a = _alerts()
        try:
            return jsonify(report.build(store, tr, window=window(), container=request.args.get("container") or None,
                                        alerts=a.snapshot() if a is not None else None, overrides=overrides))
        except LookupError as e:
            return jsonify(error=str(e)), 400
