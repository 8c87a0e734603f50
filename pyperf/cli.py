"""`pyperf` command line: parses arguments, runs one verb, and turns every
expected failure into one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from pyperf import __version__, config, logs
from pyperf.analysis.actions import APPLIABLE
from pyperf.errors import PyperfError, UsageError

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """"10s", "100ms", "2m", "1.5" (seconds) -> seconds."""
    m = DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration (examples: 10s, 100ms, 2m)")
    return float(m.group(1)) * UNIT_SECONDS[m.group(2)]


def retention(text: str) -> dict[str, int]:
    """"raw=3d,1m=30d,1h=365d" (any subset; days) -> {level: days}, defaults for the rest."""
    from pyperf.store.rollups import DEFAULT_RETENTION_DAYS
    days = dict(DEFAULT_RETENTION_DAYS)
    for item in text.split(","):
        level, _, value = item.strip().partition("=")
        m = re.match(r"^(\d+)d?$", value.strip())
        if level not in days or not m or int(m.group(1)) < 1:
            raise argparse.ArgumentTypeError(f"'{item}' is not LEVEL=DAYS with LEVEL raw, 1m or 1h "
                                             "(example: raw=3d,1m=30d,1h=365d)")
        days[level] = int(m.group(1))
    return days


def sql_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=VALUE")
    return name, value


def probe_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no probe names given")
    return names


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message):
        # main() prefixes "pyperf: "; a verb's parser names its verb once
        verb = self.prog.removeprefix("pyperf").strip()
        raise UsageError(f"{verb + ': ' if verb else ''}{message} (see --help)")


def add_collect_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--probes", type=probe_list, metavar="NAMES",
                   help="comma-separated probes to run (default: all; see `pyperf doctor`)")
    p.add_argument("--interval", type=parse_duration, default=1.0, metavar="DURATION",
                   help="how often probes are drained and rows stored (default 1s, minimum 100ms)")
    p.add_argument("--process-interval", type=parse_duration, metavar="DURATION",
                   help="per-process rows (sched_process, faults_process, tcp_process, profile_stack) every "
                        "DURATION, rounded to whole intervals, each covering it: cheaper on hosts with many "
                        "processes; host, CPU and container rows stay at --interval (default: --interval)")
    p.add_argument("--flush-interval", type=parse_duration, default=60.0, metavar="DURATION",
                   help="how often buffered rows are written to the store (default 60s; the web UI "
                        "and `pyperf sql` flush first, so they always see the newest rows)")
    p.add_argument("--spool-dir", metavar="DIR",
                   help="where batches wait while the store is unreachable (default: beside the embedded "
                        "store, or /var/lib/pyperf/spool/HOST_PORT_DB)")
    p.add_argument("--spool-max-mb", type=int, default=512, metavar="MB",
                   help="spool size limit; when full the oldest batches are dropped and counted (default 512)")
    p.add_argument("--cpu-budget", type=float, default=1.0, metavar="PCT",
                   help="pyperf's own CPU budget, %% of the host's CPUs (process + BPF programs); over it, "
                        "pyperf sheds cost step by step (docs/monitoring.md); 0 turns the governor off "
                        "(default 1)")
    p.add_argument("--governor-period", type=parse_duration, default=10.0, metavar="DURATION",
                   help="how often the governor measures and decides (default 10s)")
    p.add_argument("--retention", type=retention, metavar="raw=3d,1m=30d,1h=365d",
                   help="how long per-interval rows and the 1-minute and 1-hour rollups are kept "
                        "(set on the store's tables; default raw 3 days, 1m 30 days, 1h 1 year)")
    p.add_argument("--slow-io-ms", type=float, default=10.0, metavar="MS",
                   help="disk I/Os slower than this are stored one by one (default 10)")
    p.add_argument("--profile-hz", type=int, default=49, metavar="HZ",
                   help="on-CPU profile sampling frequency per CPU (default 49)")
    p.add_argument("--offcpu-stacks", action="store_true",
                   help="sched probe: also record where processes block (off-CPU flame graphs; "
                        "costs a stack capture per voluntary context switch)")
    p.add_argument("--offcpu-min-ms", type=float, default=1.0, metavar="MS",
                   help="with --offcpu-stacks: shortest blocked period recorded (default 1)")
    p.add_argument("--dump-bpf", action="store_true",
                   help="print the BPF C source and compiler flags of the selected probes, then exit")


def add_global_options(p: argparse.ArgumentParser, defaults: bool) -> None:
    """Options every verb takes, before or after the verb (`pyperf record --store X`
    is how people type it). On the verbs' parsers they default to SUPPRESS, so an
    option given before the verb is not reset by the verb's parser."""
    d = {} if defaults else {"default": argparse.SUPPRESS}
    p.add_argument("--store", metavar="DSN", **d,
                   help="chdb:///path (embedded, default chdb:///var/lib/pyperf/store) or "
                        "http(s)://user:pass@host:8123/db; env PYPERF_STORE")
    p.add_argument("--store-password-file", metavar="FILE", **d,
                   help="read the store password from this file (env PYPERF_STORE_PASSWORD_FILE; "
                        "or PYPERF_STORE_PASSWORD)")
    p.add_argument("--store-ca", metavar="PEM", **d,
                   help="CA bundle to verify an https store with (env PYPERF_STORE_CA)")
    p.add_argument("--store-insecure", action="store_true", **d,
                   help="do not verify an https store's certificate (testing only)")
    p.add_argument("--host-name", metavar="NAME", **d,
                   help="the host name rows carry (default: this host's; env PYPERF_HOST_NAME)")
    p.add_argument("--config", metavar="FILE", **d,
                   help="the config file (default /etc/pyperf/pyperf.toml when it exists; env PYPERF_CONFIG); "
                        "flags and environment variables override it")
    p.add_argument("--log-format", choices=("text", "json"), **d,
                   help="log lines as text (default) or one JSON object each")
    p.add_argument("-v", "--verbose", action="store_true", **d, help="log debug details")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="pyperf", description=(
        "Low-overhead eBPF performance profiler for Linux container hosts. "
        "Stores everything in ClickHouse (embedded chDB by default)."))
    parser.add_argument("--version", action="version", version=f"pyperf {__version__}")
    add_global_options(parser, defaults=True)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    add_verb = verbs.add_parser

    def verb_parser(name: str, **kwargs) -> argparse.ArgumentParser:
        p = add_verb(name, **kwargs)
        add_global_options(p, defaults=False)
        return p
    verbs.add_parser = verb_parser

    up = verbs.add_parser("up", help="collect, store and serve the web UI until stopped")
    add_collect_options(up)
    up.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                    help="web UI address (default 127.0.0.1:8080); any address but loopback needs the "
                         "token `pyperf token` shows (made on first use)")
    up.add_argument("--web-host", action="append", default=[], metavar="NAME",
                    help="another name the web UI is reached by (a DNS name, a reverse proxy's); "
                         "requests with any other Host header are refused; repeatable")
    up.add_argument("--sql-timeout", type=parse_duration, default=30.0, metavar="DURATION",
                    help="user SQL (web console, API, `pyperf sql`) is cancelled in the engine after this "
                         "(default 30s)")
    up.add_argument("--sql-max-rows", type=int, default=100_000, metavar="N",
                    help="largest user SQL result, in rows (default 100000)")
    up.add_argument("--alert-webhook", action="append", default=[], metavar="URL",
                    help="POST alert changes here in Alertmanager's webhook format (version 4); repeatable")
    up.add_argument("--alert-for", type=parse_duration, default=30.0, metavar="DURATION",
                    help="an alert fires once its condition held this long (default 30s)")
    up.add_argument("--alert-every", type=parse_duration, default=10.0, metavar="DURATION",
                    help="how often alerts are evaluated, over that much of the recent past (default 10s)")
    up.add_argument("--auto-apply", action="append", default=[], metavar="RULE", choices=APPLIABLE,
                    help="when this rule's alert fires, make its fix without asking (as `pyperf apply "
                         "--yes`), at most once per container per 15 min; recorded, undone with `pyperf "
                         f"undo`; repeatable; rules: {', '.join(APPLIABLE)} (default: none)")
    up.add_argument("--sql-max-memory-mb", type=int, default=512, metavar="MB",
                    help="memory one user SQL query may use (default 512)")

    record = verbs.add_parser("record", help="collect and store for a while, then print a summary")
    add_collect_options(record)
    record.add_argument("--duration", type=parse_duration, default=10.0, metavar="DURATION",
                        help="how long to record (default 10s)")
    record.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    sql = verbs.add_parser("sql", help="run SQL against the store")
    sql.add_argument("query", help='e.g. "SELECT device, sum(ios) FROM disk_io GROUP BY device"')
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", type=sql_param,
                     help="a query parameter, used as {NAME:Type} in the query, e.g. "
                          "--param host=web-1 with WHERE host = {host:String}; repeatable")
    sql.add_argument("--write", action="store_true",
                     help="run any statement with full rights (DDL, inserts) on an embedded store that no "
                          "pyperf holds; without it every query is read-only")

    token = verbs.add_parser("token", help="the web UI's access token (needed off loopback)")
    token.add_argument("--rotate", action="store_true",
                       help="replace the token (a running pyperf up takes the new one at once; "
                            "signed-in browsers must sign in again)")

    export = verbs.add_parser("export", help="write a flame graph of the stored on-CPU profile")
    export.add_argument("--format", choices=("folded", "speedscope"), default="folded")
    export.add_argument("--kind", choices=("oncpu", "offcpu"), default="oncpu",
                        help="on-CPU samples (profile probe) or blocked time (sched --offcpu-stacks)")
    export.add_argument("--pid", type=int, help="only this process")
    export.add_argument("--comm", help="only processes with this command name")
    export.add_argument("--mnt-ns", type=int, help="only this mount namespace (a container)")
    export.add_argument("--last", type=parse_duration, default=300.0, metavar="DURATION",
                        help="how far back (default 5m)")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    layers = verbs.add_parser("layers", help="which image layers and files containers really read")
    layers.add_argument("container", nargs="?", help="container name, id (prefix) or image; default: all")
    layers.add_argument("--json", action="store_true")
    layers.add_argument("--by-image", action="store_true",
                        help="roll up the containers of each image: files and bytes read by any of them")
    layers.add_argument("--prefetch-list", metavar="FILE",
                        help="write the files in first-access order (for eStargz / Nydus prefetch)")
    layers.add_argument("--keep-list", metavar="FILE", help="write every file ever read (for image slimming)")

    report = verbs.add_parser("report", help="findings, bottlenecks, top containers and alerts of a recent range")
    report.add_argument("--since", type=parse_duration, default=600.0, metavar="DURATION",
                        help="how far back (default 10m)")
    report.add_argument("--container", metavar="NAME", help="only findings about this container (name or id)")
    report.add_argument("--format", choices=("text", "html", "json"), default="text")
    report.add_argument("--fail-on", choices=("info", "warning", "critical"),
                        help="exit with code 6 when a finding of this severity or worse exists (a CI gate)")
    report.add_argument("--threshold", action="append", default=[], metavar="PATH=VALUE",
                        help="a threshold for this report only, e.g. findings.disk_p99_us=20000 or "
                             "host.cpu_pct=90 (paths in docs/performance_guide.md); repeatable")

    apply = verbs.add_parser("apply", help="make the change a finding recommends (after a dry run)")
    apply.add_argument("finding", help="the finding's id, as `pyperf report` shows it")
    apply.add_argument("--dry-run", action="store_true", help="show the command and values, change nothing")
    apply.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--since", type=parse_duration, default=600.0, metavar="DURATION",
                       help="the range the finding is looked up in (default 10m)")
    undo = verbs.add_parser("undo", help="restore what `pyperf apply` changed")
    undo.add_argument("change", help="the change's id, as `pyperf apply` or `pyperf changes` shows it")
    undo.add_argument("--dry-run", action="store_true")
    undo.add_argument("--yes", action="store_true")
    changes = verbs.add_parser("changes", help="the changes pyperf apply made, and their undos")
    changes.add_argument("--json", action="store_true")

    alerts = verbs.add_parser("alerts", help="alerts firing and pending now, and the recent history")
    alerts.add_argument("--json", action="store_true")
    alerts.add_argument("--history", type=parse_duration, default=86400.0, metavar="DURATION",
                        help="how far back the history goes (default 24h)")

    status = verbs.add_parser("status", help="rows stored and anything lost (kernel events, spool, store)")
    status.add_argument("--json", action="store_true")

    config = verbs.add_parser("config", help="the effective settings and where each came from; check a file")
    config_verbs = config.add_subparsers(dest="config_verb", metavar="show|check", parser_class=Parser)
    show = config_verbs.add_parser("show", help="every setting of `pyperf up` in force, and its source")
    show.add_argument("--json", action="store_true")
    check = config_verbs.add_parser("check", help="check a config file: one line per problem")
    check.add_argument("file", help="the TOML file to check")

    service = verbs.add_parser("service", help="run pyperf as a systemd service (install, uninstall, status)")
    service_verbs = service.add_subparsers(dest="service_verb", metavar="install|uninstall|status",
                                           parser_class=Parser)
    for name, text in (("install", "write the unit (and the example config) and start it where systemd runs"),
                       ("uninstall", "stop and remove the unit; keep the config and the store"),
                       ("status", "is the unit installed, is it running")):
        sp = service_verbs.add_parser(name, help=text)
        sp.add_argument("--unit-dir", default="/etc/systemd/system", metavar="DIR")
        sp.add_argument("--config-dir", default="/etc/pyperf", metavar="DIR")

    doctor = verbs.add_parser("doctor", help="check this host: kernel, BTF, bcc, store, every probe")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        # the options typed (not defaulted): they win over settings kept in the store
        args.given = {a.split("=", 1)[0] for a in (sys.argv[1:] if argv is None else argv) if a.startswith("--")}
        if args.verb is None:
            parser.print_help()
            return 2
        if args.verb == "config" and args.config_verb is None:
            raise UsageError("config: show or check FILE (see --help)")
        # the config file, then the environment, then the flags typed
        loaded = config.load(args) if not (args.verb == "config" and args.config_verb == "check") \
            else config.Loaded(None, {}, [])
        args.sources = config.resolve(args, loaded)
        args.config_loaded = loaded
        config.apply_thresholds(config.thresholds_of(loaded))
        logs.setup(args.verbose, args.log_format or "text")
        # one way for every command to see them: the environment pyperf.store.dsn reads
        for value, variable in ((args.store_password_file, "PYPERF_STORE_PASSWORD_FILE"),
                                (args.store_ca, "PYPERF_STORE_CA"),
                                ("1" if args.store_insecure else None, "PYPERF_STORE_INSECURE"),
                                (args.host_name, "PYPERF_HOST_NAME")):
            if value:
                os.environ[variable] = value
        if getattr(args, "interval", 1.0) < 0.1:
            raise UsageError("--interval must be at least 100ms")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if not args.verbose:
            # their retry warnings repeat what our one-line error already says
            for handler in logging.getLogger().handlers:
                handler.addFilter(lambda r: not r.name.startswith(("urllib3", "clickhouse_connect")))
        from pyperf.commands import (alerts, apply, config_cmd, doctor, export, layers, record, report, service,
                                     sql, status, token, up)

        handler = {"up": up.run, "record": record.run, "sql": sql.run, "doctor": doctor.run,
                   "export": export.run, "layers": layers.run, "status": status.run,
                   "token": token.run, "report": report.run, "alerts": alerts.run,
                   "apply": apply.run_apply, "undo": apply.run_undo, "changes": apply.run_changes,
                   "config": config_cmd.run, "service": service.run}[args.verb]
        return handler(args)
    except PyperfError as e:
        print(f"pyperf: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: still one line, with the way to the details
        if "args" in locals() and getattr(args, "verbose", False):
            raise
        print(f"pyperf: internal error: {type(e).__name__}: {e} (run with -v for the traceback)",
              file=sys.stderr)
        return 70
