"""The Flask app of `pyperf up`: pages rendered with htmx partials, JSON under
/api/, Prometheus text at /metrics. It reads the store it shares with the
collector in the same process."""

from __future__ import annotations

import datetime as dt

from flask import Flask, Response, abort, jsonify, redirect, render_template, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from pyperf import __version__, settings
from pyperf.commands.output import as_records
from pyperf.errors import StoreError
from pyperf.pipeline.counters import STORE_OUTCOMES
from pyperf.resources import data_dir
from pyperf.store.user_sql import SqlBusy
from pyperf.web import disk_queries, export, pages, queries
from pyperf.web.pages import PAGES
from pyperf.web.timerange import RANGES, TimeRange, parse_range


# (probe total, family, help, on every attached probe: else only where the probe counts it)
PROBE_LOSS_FAMILIES = (
    ("lost", "pyperf_probe_lost_events", "Events a probe's kernel side could not hand over (full ring buffer "
     "or map)", True),
    ("missed_runs", "pyperf_probe_missed_runs", "Kernel runs of a probe's programs skipped because one was "
     "already running on that CPU (events never seen)", False),
    ("unseen_ios", "pyperf_probe_unseen_ios", "I/O completions /proc/diskstats counted on a device the disk "
     "probe sees that its programs were not run for", False),
    ("lost_starts", "pyperf_probe_lost_starts", "I/O the disk probe counted without its start, whose slot other "
     "requests in flight took: no container or process for them", False),
)


class PyperfMetrics:
    """prometheus_client collector over the running probes and the writer."""

    def __init__(self, collector, alerts=None):
        self.collector = collector
        self.alerts = alerts

    def collect(self):
        if self.alerts is not None:
            yield from self._alert_families()
        status = self.collector.status()
        up = GaugeMetricFamily("pyperf_probe_up", "1 when the probe is attached", labels=["probe"])
        for name, probe in status["probes"].items():
            up.add_metric([name], 1.0 if probe["attached"] else 0.0)
        yield up
        rows = CounterMetricFamily("pyperf_store_rows", "Rows handed to the store, by outcome",
                                   labels=["table", "outcome"])
        stats = status["writer"]
        for outcome in STORE_OUTCOMES:
            for table, n in stats.get(outcome, {}).items():
                rows.add_metric([table, outcome], n)
        yield rows
        pending = GaugeMetricFamily("pyperf_spool_pending_rows", "Rows waiting in the spool for the store",
                                    labels=["table"])
        for table, n in stats.get("spool_pending_rows", {}).items():
            pending.add_metric([table], n)
        yield pending
        for key, family, about, every in PROBE_LOSS_FAMILIES:
            metric = CounterMetricFamily(family, about, labels=["probe"])
            for name, probe in status["probes"].items():
                if probe["attached"] and (every or key in probe["totals"]):
                    metric.add_metric([name], probe["totals"].get(key, 0))
            yield metric
        governor = self.collector.governor
        if governor is not None:
            cost = GaugeMetricFamily("pyperf_self_cpu_percent", "pyperf's own cost, % of the host's CPUs, "
                                     "over the governor's last period", labels=["part"])
            cost.add_metric(["process"], governor.process_pct)
            cost.add_metric(["bpf"], governor.bpf_pct)
            yield cost
            yield GaugeMetricFamily("pyperf_governor_level", "Cost-shedding steps in force",
                                    value=len(governor.steps))
        yield from self.collector.metrics.families()

    def _alert_families(self):
        # Prometheus' own ALERTS series, by the same labels: one per pending or firing alert
        active = GaugeMetricFamily("pyperf_alerts", "Alerts pending or firing now (1 each)",
                                   labels=["alertname", "alertstate", "severity", "subject"])
        for a in self.alerts.snapshot():
            active.add_metric([a["labels"]["alertname"], a["annotations"]["state"], a["labels"]["severity"],
                               a["labels"]["subject"]], 1.0)
        yield active
        sent = CounterMetricFamily("pyperf_alert_notifications", "Alert webhook POSTs, by outcome",
                                   labels=["outcome"])
        sent.add_metric(["sent"], self.alerts.sent)
        sent.add_metric(["failed"], self.alerts.send_failures)
        yield sent


def create_app(store, collector, user_sql, agent=None, alerts=None, admin_token=None) -> Flask:
    """`user_sql` (a ReadOnlySQL) runs what users type; `agent` (pyperf.settings.Agent)
    is what the Settings page changes; `alerts` (pyperf.analysis.alerts.Alerts) the
    agent's alert states; `admin_token` (a TokenFile) what recording a change needs,
    on loopback too; callers add pyperf.web.auth.protect()."""
    web = data_dir("web")
    app = Flask("pyperf", template_folder=str(web / "templates"), static_folder=str(web / "static"))
    pages.htmx.init_app(app)
    app.config["PYPERF_AGENT"] = agent or settings.Agent(collector, store)
    app.config["PYPERF_ALERTS"] = alerts
    app.config["PYPERF_ADMIN_TOKEN"] = admin_token
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PyperfMetrics(collector, alerts))

    @app.errorhandler(StoreError)
    def store_error(e):
        return jsonify(error=str(e)), 400

    def chosen_host() -> str:
        return request.args.get("host") or store.host_name

    def page_context() -> dict:
        """What every page's template gets: host and its picker, the time range
        (from the URL; a bad one is a 400 with its reason), the navigation."""
        try:
            time_range = parse_range(request.args)
        except ValueError as e:
            abort(400, str(e))
        host = chosen_host()
        try:
            hosts = queries.hosts(store)
        except StoreError:
            hosts = [store.host_name]      # the store is down: the page says so where data goes
        return {"version": __version__, "host": host, "hosts": hosts, "range": time_range,
                "pages": PAGES, "ranges": (*RANGES, "custom"),
                "url_args": {"host": host, **time_range.query_args()},
                # the page's own arguments too (a flame graph's kind, pid, container)
                "page_args": {**request.args.to_dict(), "host": host, **time_range.query_args()}}

    for page in PAGES:
        if page.has_data or page.routes is not None:
            app.register_blueprint(pages.blueprint(page, store, collector, page_context))

    @app.get("/")
    def index():
        query = request.query_string.decode("ascii", "replace")
        return redirect("/overview" + (f"?{query}" if query else ""))

    @app.get("/api/status")
    def api_status():
        return jsonify(version=__version__, host=store.host_name, store=store.address.redacted(),
                       **collector.status())

    def api_range():
        """?seconds=N (the last N, at most a day) or the pages' ?range=…; default the last 5 minutes."""
        if "seconds" in request.args:
            seconds = max(1, min(request.args.get("seconds", 300, type=int), 86400))
            now = dt.datetime.now(dt.timezone.utc)
            return TimeRange("custom", now - dt.timedelta(seconds=seconds), now + dt.timedelta(seconds=1))
        try:
            return parse_range(request.args)
        except ValueError as e:
            abort(400, str(e))

    @app.get("/api/disk/series")
    def api_disk_series():
        """{"t": [...], "devices": {name: {"iops", "bytes_per_s", "p50_us", "p99_us"}}} on one time axis."""
        charts = disk_queries.charts(store, api_range(), chosen_host(), collector.window)
        metrics = ("iops", "bytes_per_s", "p50_us", "p99_us")
        names = charts["iops"]["series"]
        return jsonify(t=charts["iops"]["t"], step_s=charts["iops"]["step_s"],
                       devices={n: {m: charts[m]["series"][n] for m in metrics} for n in names})

    @app.get("/api/disk/slow")
    def api_disk_slow():
        limit = request.args.get("limit", 50, type=int)
        rows = disk_queries.slow_ios(store, api_range(), chosen_host(), collector.window,
                                     limit=max(1, min(limit, 1000)), device=request.args.get("device", ""))
        return jsonify(as_records(list(disk_queries.SLOW_KEYS), [tuple(r.values()) for r in rows]))

    @app.get("/api/live")
    def api_live():
        with collector.lock:
            return jsonify({p.name: p.live() for p in collector.probes})

    def run_user_sql(sql: str, parameters: dict | None = None):
        """What a user typed, on the read-only sessions; the rows buffered for the
        next flush are written first, so a query sees the newest interval."""
        pages.flush_pending(collector)
        return user_sql.query(sql, parameters)

    @app.get("/sql")
    def sql_console():
        return render_template("sql.html", **page_context())

    @app.post("/sql/run")
    def sql_run():
        sql = request.form.get("sql", "")
        if not sql.strip():
            return render_template("partials/sql_result.html", error="type a SELECT first")
        try:
            result = run_user_sql(sql)
        except StoreError as e:        # refused, busy, failed: said where the result goes
            return render_template("partials/sql_result.html", error=str(e))
        return render_template("partials/sql_result.html", result=result,
                               records=as_records(result.column_names, result.rows))

    @app.post("/sql/export")
    def sql_export():
        fmt = request.args.get("format", "csv")
        if fmt not in export.FORMATS:
            abort(400, f"unknown format {fmt[:20]!r} (csv, json or parquet)")
        try:
            result = run_user_sql(request.form.get("sql", ""))
        except StoreError as e:
            return Response(str(e), status=400, mimetype="text/plain")
        rows = [dict(zip(result.column_names, r)) for r in result.rows]
        return Response(export.render(rows, fmt), mimetype=export.FORMATS[fmt],
                        headers={"Content-Disposition": f'attachment; filename="pyperf-sql.{fmt}"'})

    @app.post("/api/sql")
    def api_sql():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="POST a JSON object {\"sql\": \"SELECT ...\"} as application/json"), 400
        sql = body.get("sql")
        if not isinstance(sql, str) or not sql.strip():
            return jsonify(error="POST a JSON object {\"sql\": \"SELECT ...\"}"), 400
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            return jsonify(error="\"parameters\" must be an object"), 400
        try:
            result = run_user_sql(sql, parameters or None)
        except SqlBusy as e:
            return jsonify(error=str(e)), 503
        return jsonify(columns=result.column_names,
                       rows=[list(r.values()) for r in as_records(result.column_names, result.rows)])

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")

    @app.get("/healthz")
    def healthz():
        return jsonify(ok=True, probes=len(collector.probes))

    return app
