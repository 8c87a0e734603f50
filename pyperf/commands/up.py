"""`pyperf up`: probes, store and web UI in one process (an embedded store can
be opened by one process only), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from pyperf.commands.session import (collecting, dump_bpf, open_store, require_root,
                                     select_probes, stop_on_signals)
from pyperf import settings, threads
from pyperf.errors import PyperfError, StoreError, UsageError
from pyperf.store import rollups
from pyperf.store.dsn import resolve_address

log = logging.getLogger("pyperf.up")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen '{text}': use HOST:PORT, e.g. 127.0.0.1:8080")
    host = host.strip("[]") or "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost" and not _resolves(host):
            raise UsageError(f"--listen '{text}': '{host}' is not a valid IP address or a name this host "
                             "resolves") from None
    return host, int(port)


def _resolves(name: str) -> bool:
    # IP-looking text that is not an IP (999.1.1.1) is never looked up as a name
    if all(part.isdigit() for part in name.split(".")):
        return False
    try:
        socket.getaddrinfo(name, None)
        return True
    except (socket.gaierror, UnicodeError):
        return False


def bind_server(host: str, port: int, app):
    from werkzeug.serving import make_server

    try:
        return make_server(host, port, app, threaded=True)
    except SystemExit:  # werkzeug prints its own message and exits when the port is taken
        raise PyperfError(f"cannot listen on {host}:{port}: address in use") from None
    except OSError as e:
        raise PyperfError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def web_token(args, host: str):
    """The token file off loopback (made on first use), None on loopback."""
    from pyperf.web.auth import TokenFile, is_loopback, token_path

    if is_loopback(host):
        return None
    token_file = TokenFile(token_path(resolve_address(args.store)))
    if token_file.ensure():
        # never in a log line (journald keeps them, readable by more than root): `pyperf token` shows it
        log.warning("a web UI off loopback (%s) needs a token; made one in %s (show it: sudo pyperf token)",
                    host, token_file.path)
    return token_file


def admin_token(args):
    """The store's token file, made on first use even on loopback: recording a change
    (pyperf apply) needs it wherever the web UI listens."""
    from pyperf.web.auth import TokenFile, token_path

    token_file = TokenFile(token_path(resolve_address(args.store)))
    token_file.ensure()
    return token_file


FLAGS = {"interval_s": "--interval", "cpu_budget_pct": "--cpu-budget", "probes": "--probes",
         "retention_raw_days": "--retention", "retention_1m_days": "--retention", "retention_1h_days": "--retention"}


def settings_from_store(store, args) -> dict:
    """The settings kept from the Settings page that no flag overrides: the interval
    and the budget go into `args` (the collector starts with them); the rest is
    returned to apply to the running agent."""
    if not store.ready:
        return {}
    try:
        kept = settings.load(store, store.host_name)
    except StoreError as e:
        log.warning("settings kept in the store not read (%s); starting from the flags", e)
        return {}
    kept = {k: v for k, v in kept.items() if FLAGS.get(k) not in getattr(args, "given", set())}
    if kept:
        log.info("settings kept in the store: %s", ", ".join(f"{k}={v}" for k, v in sorted(kept.items())))
    if "interval_s" in kept:
        args.interval = kept.pop("interval_s")
    if "cpu_budget_pct" in kept:
        args.cpu_budget = kept.pop("cpu_budget_pct")
    retention = {level: kept.pop(key) for key, level in settings.RETENTION.items() if key in kept}
    if retention:
        args.retention = {**(args.retention or rollups.DEFAULT_RETENTION_DAYS), **retention}
        rollups.apply_retention(store, args.retention)
    return kept


def run(args) -> int:
    probes = select_probes(args)
    if args.dump_bpf:
        return dump_bpf(probes)
    host, port = parse_listen(args.listen)
    if args.sql_timeout <= 0 or args.sql_max_rows <= 0 or args.sql_max_memory_mb <= 0:
        raise UsageError("--sql-timeout, --sql-max-rows and --sql-max-memory-mb must be positive")
    if args.alert_every < 1 or args.alert_for < 0:
        raise UsageError("--alert-every must be at least 1s and --alert-for not negative")
    for url in args.alert_webhook:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise UsageError(f"--alert-webhook {url!r} is not an http(s) URL")
    require_root("up")
    token_file = web_token(args, host)
    from pyperf.store.user_sql import ReadOnlySQL, SqlLimits
    from pyperf.analysis import auto_apply
    from pyperf.analysis.alerts import Alerts
    from pyperf.analysis.auto_apply import AutoApply
    from pyperf.commands.reload import Reloader, on_sighup
    from pyperf.web.app import create_app
    from pyperf.web.auth import protect

    limits = SqlLimits(timeout_s=args.sql_timeout, max_result_rows=args.sql_max_rows,
                       max_memory_bytes=args.sql_max_memory_mb << 20)
    with open_store(args, "up", listen=f"{host}:{port}") as store, stop_on_signals() as stop:
        for rule in args.auto_apply:
            auto_apply.ENABLED[rule] = True
        kept = settings_from_store(store, args)
        with collecting(store, probes, args) as collector:
            agent = settings.Agent(collector, store, args.retention)
            if kept:
                settings.apply(agent, kept)
            user_sql = ReadOnlySQL(store, limits)
            alerting = Alerts(store, window=collector.window, webhooks=args.alert_webhook, for_s=args.alert_for,
                              external_url=f"http://{host}:{port}", submit=collector.writer.submit,
                              period_s=args.alert_every, fixer=AutoApply(store))
            app = create_app(store, collector, user_sql, agent, alerting, admin_token(args))
            protect(app, host, port, token_file, args.web_host)
            server = bind_server(host, port, app)
            web = threads.Named(target=server.serve_forever, name="pyperf-web", daemon=True)
            web.start()
            evaluator = threads.Named(target=alerting.run, args=(stop, args.alert_every), name="pyperf-alerts-eval",
                                         daemon=True)
            evaluator.start()
            log.info("pyperf up: %d probe(s), store %s, web UI on http://%s:%d/%s",
                     len(collector.probes), store.address.redacted(), host, port,
                     " (token required)" if token_file else "")
            if auto_apply.turned_on():
                log.warning("auto-apply on for: %s", ", ".join(auto_apply.turned_on()))
            try:
                with on_sighup(Reloader(args, agent, alerting)):
                    collector.run(stop)
            finally:
                server.shutdown()
                evaluator.join(30)
                alerting.close()
                # user queries still running are killed in the engine, not waited for
                user_sql.close()
                log.info("stopping: flushing the last interval and detaching probes")
    return 0
