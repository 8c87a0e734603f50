"""`pyperf config show`: every setting `pyperf up` would run with, and where it
came from (default, the file, the environment); `pyperf config check FILE`: one
line per problem, exit code 2 when there is any."""

from __future__ import annotations

import json
import os

from pyperf import config
from pyperf.errors import UsageError
from pyperf.store.dsn import DEFAULT_DSN, parse_dsn


def _shown(key: config.Key, value):
    if value is None:
        return None
    if key.path == "store.dsn":
        try:
            return parse_dsn(value).redacted()
        except UsageError:
            return "(not a valid DSN)"
    if key.secret:                 # webhook URLs carry tokens in their query
        from pyperf.logs import mask
        return [mask(v) for v in value] if isinstance(value, list) else mask(str(value))
    return value


def effective(args) -> list[dict]:
    """[{key, value, source}] for every key `up` takes, as this invocation resolves them."""
    from pyperf.cli import build_parser

    up_args = build_parser().parse_args(["up"])
    up_args.given = set()
    loaded = args.config_loaded
    sources = config.resolve(up_args, loaded)
    rows = []
    shipped = {"store.dsn": DEFAULT_DSN, "log.format": "text"}     # defaults argparse leaves as None
    for key in config.KEYS:
        value = getattr(up_args, key.dest, None)
        if value is None:
            value = shipped.get(key.path)
        rows.append({"key": key.path, "value": _shown(key, value), "source": sources.get(key.path, "default"),
                     "reload": "SIGHUP" if key.live else "restart"})
    for path, value in config.thresholds_of(loaded).items():
        rows.append({"key": f"thresholds.{path}", "value": value, "source": f"file {loaded.path}",
                     "reload": "SIGHUP"})
    return rows


def run(args) -> int:
    if args.config_verb == "check":
        loaded = config.read(args.file)
        for problem in loaded.problems:
            print(f"{args.file}: {problem}")
        if loaded.problems:
            return 2
        print(f"{args.file}: ok ({len(loaded.values)} setting(s))")
        return 0
    rows = effective(args)
    if args.json:
        print(json.dumps({"file": str(args.config_loaded.path) if args.config_loaded.path else None,
                          "settings": rows}, default=str))
        return 0
    path = args.config_loaded.path
    print(f"config file: {path if path else f'none ({config.DEFAULT_PATH} is missing or not readable by this user)'}"
          + (" (PYPERF_CONFIG)" if os.environ.get("PYPERF_CONFIG") and not getattr(args, "config", None) else ""))
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        value = "-" if r["value"] is None else (", ".join(map(str, r["value"])) if isinstance(r["value"], list)
                                                 else str(r["value"]))
        print(f"  {r['key']:<{width}}  {value:<30}  {r['source']}  ({r['reload']})")
    return 0
