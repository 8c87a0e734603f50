"""One config file for the agent (/etc/pyperf/pyperf.toml, or --config FILE /
PYPERF_CONFIG), read with the standard library's TOML parser. Every key is
declared once below: its path in the file, the flag and the environment
variable that override it (file < environment < flag), how its value is
checked, and whether a running `pyperf up` can take a new value on SIGHUP.

A bad file is one line per problem, naming the key's path (`pyperf config
check FILE`); `pyperf up` refuses to start on one rather than run with half of
what was meant."""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from pyperf.errors import UsageError

DEFAULT_PATH = Path("/etc/pyperf/pyperf.toml")


# -- value checkers: TOML values and environment strings alike ----------------------
def _duration(v: Any) -> float:
    from pyperf.cli import parse_duration

    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not a duration (examples: \"10s\", \"100ms\", \"2m\")")
    if isinstance(v, (int, float)):
        if v < 0:
            raise ValueError(f"{v!r} is negative")
        return float(v)
    try:
        return parse_duration(str(v))
    except argparse.ArgumentTypeError as e:
        raise ValueError(str(e)) from None


def _interval(v: Any) -> float:
    seconds = _duration(v)
    if not 0.1 <= seconds <= 10:
        raise ValueError(f"{seconds:g} s is outside 100ms..10s")
    return seconds


def _process_interval(v: Any) -> float:
    seconds = _duration(v)
    if not 0.1 <= seconds <= 60:
        raise ValueError(f"{seconds:g} s is outside 100ms..60s")
    return seconds


def _number(low: float, high: float, integer: bool = False) -> Callable[[Any], float]:
    def check(v: Any):
        if isinstance(v, bool):
            raise ValueError(f"{v!r} is not a number")
        try:
            n = int(v) if integer and not isinstance(v, float) else float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{str(v)[:40]!r} is not a {'whole ' if integer else ''}number") from None
        if n != n or not low <= n <= high:
            raise ValueError(f"{n:g} is outside {low:g}..{high:g}")
        if integer and n != int(n):
            raise ValueError(f"{n:g} is not a whole number")
        return int(n) if integer else n
    return check


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("1", "true", "yes", "on"):
        return True
    if str(v).lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{str(v)[:40]!r} is not true or false")


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v or len(v) > 4096 or "\0" in v:
        raise ValueError("needs a non-empty string")
    return v


def _strings(choices: Callable[[], tuple[str, ...]] | None = None) -> Callable[[Any], list[str]]:
    def check(v: Any) -> list[str]:
        items = [s.strip() for s in v.split(",")] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
            raise ValueError("needs a list of strings")
        if choices is not None:
            known = choices()
            for s in items:
                if s not in known:
                    raise ValueError(f"{s[:40]!r} is not one of {', '.join(known)}")
        return items
    return check


def _urls(v: Any) -> list[str]:
    from urllib.parse import urlsplit
    urls = _strings()(v)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("needs http(s) URLs")
    return urls


def _probe_names() -> tuple[str, ...]:
    from pyperf.probes.registry import REGISTRY
    return tuple(sorted(REGISTRY))


def _appliable() -> tuple[str, ...]:
    from pyperf.analysis.actions import APPLIABLE
    return APPLIABLE


def _listen(v: Any) -> str:
    text = _text(v)
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text[:60]!r} is not HOST:PORT (e.g. \"127.0.0.1:8080\")")
    return text


def _retention(v: Any) -> dict[str, int]:
    from pyperf.cli import retention
    if isinstance(v, dict):
        v = ",".join(f"{k}={d}" for k, d in v.items())
    try:
        return retention(str(v))
    except argparse.ArgumentTypeError as e:
        raise ValueError(str(e)) from None


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in allowed:
            raise ValueError(f"{str(v)[:40]!r} is not one of {', '.join(allowed)}")
        return v
    return check


@dataclass(frozen=True)
class Key:
    path: str                     # section.name in the file
    flag: str                     # the option that overrides it
    dest: str                     # argparse's attribute
    check: Callable[[Any], Any]
    env: str = ""                 # the environment variable that overrides the file
    live: str = ""                # what SIGHUP changes on a running agent ("" = needs a restart)
    secret: bool = False


def _env(path: str) -> str:
    return "PYPERF_" + re.sub(r"[^A-Z0-9]", "_", path.upper())


KEYS: tuple[Key, ...] = (
    Key("store.dsn", "--store", "store", _text, "PYPERF_STORE", secret=True),
    Key("store.password_file", "--store-password-file", "store_password_file", _text, "PYPERF_STORE_PASSWORD_FILE"),
    Key("store.ca", "--store-ca", "store_ca", _text, "PYPERF_STORE_CA"),
    Key("store.insecure", "--store-insecure", "store_insecure", _bool, "PYPERF_STORE_INSECURE"),
    Key("store.host_name", "--host-name", "host_name", _text, "PYPERF_HOST_NAME"),
    Key("agent.probes", "--probes", "probes", _strings(_probe_names), live="probes"),
    Key("agent.interval", "--interval", "interval", _interval, live="interval_s"),
    Key("agent.process_interval", "--process-interval", "process_interval", _process_interval),
    Key("agent.flush_interval", "--flush-interval", "flush_interval", _duration),
    Key("agent.cpu_budget", "--cpu-budget", "cpu_budget", _number(0, 100), live="cpu_budget_pct"),
    Key("agent.governor_period", "--governor-period", "governor_period", _duration),
    Key("agent.slow_io_ms", "--slow-io-ms", "slow_io_ms", _number(0, 3_600_000)),
    Key("agent.profile_hz", "--profile-hz", "profile_hz", _number(1, 10_000, integer=True)),
    Key("agent.offcpu_stacks", "--offcpu-stacks", "offcpu_stacks", _bool),
    Key("agent.offcpu_min_ms", "--offcpu-min-ms", "offcpu_min_ms", _number(0, 3_600_000)),
    Key("agent.retention", "--retention", "retention", _retention, live="retention"),
    Key("spool.dir", "--spool-dir", "spool_dir", _text),
    Key("spool.max_mb", "--spool-max-mb", "spool_max_mb", _number(1, 1 << 30, integer=True)),
    Key("web.listen", "--listen", "listen", _listen),
    Key("web.hosts", "--web-host", "web_host", _strings()),
    Key("web.sql_timeout", "--sql-timeout", "sql_timeout", _duration),
    Key("web.sql_max_rows", "--sql-max-rows", "sql_max_rows", _number(1, 1 << 40, integer=True)),
    Key("web.sql_max_memory_mb", "--sql-max-memory-mb", "sql_max_memory_mb", _number(1, 1 << 30, integer=True)),
    Key("alerts.webhooks", "--alert-webhook", "alert_webhook", _urls, live="webhooks", secret=True),
    Key("alerts.for", "--alert-for", "alert_for", _duration, live="alert_for"),
    Key("alerts.every", "--alert-every", "alert_every", _duration),
    Key("alerts.auto_apply", "--auto-apply", "auto_apply", _strings(_appliable), live="auto_apply"),
    Key("log.format", "--log-format", "log_format", _choice("text", "json")),
)
KEYS = tuple(k if k.env else replace(k, env=_env(k.path)) for k in KEYS)
BY_PATH = {k.path: k for k in KEYS}
SECTIONS = sorted({k.path.split(".")[0] for k in KEYS} | {"thresholds"})


class ConfigError(UsageError):
    pass


@dataclass
class Loaded:
    path: Path | None
    values: dict[str, Any]            # key path -> checked value (thresholds as "thresholds.host.cpu_pct")
    problems: list[str]


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and path != "agent.retention":
            out.update(_flatten(v, path + "."))
        else:
            out[path] = v
    return out


def _check_threshold(path: str, v: Any) -> float:
    from pyperf.analysis import thresholds
    name = path.removeprefix("thresholds.")
    try:
        thresholds.value(name)
    except (KeyError, ValueError):
        raise KeyError(name) from None
    return _number(0, float("inf"))(v)


def read(path: Path | str) -> Loaded:
    """The file's settings, each checked; problems as one line each ("key: what")."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as e:
        return Loaded(path, {}, [f"cannot read it: {e.strerror or e}"])
    except UnicodeDecodeError:
        return Loaded(path, {}, ["is not UTF-8 text"])
    except tomllib.TOMLDecodeError as e:
        return Loaded(path, {}, [f"not TOML: {e}"])
    values, problems = {}, []
    for key_path, v in _flatten(raw).items():
        section = key_path.split(".")[0]
        if section == "thresholds":
            try:
                values[key_path] = _check_threshold(key_path, v)
            except KeyError:
                problems.append(f"{key_path}: unknown threshold (known: see docs/performance_guide.md, "
                                f"e.g. thresholds.host.cpu_pct)")
            except ValueError as e:
                problems.append(f"{key_path}: {e}")
            continue
        key = BY_PATH.get(key_path)
        if key is None:
            known = [k.path.split(".", 1)[1] for k in KEYS if k.path.startswith(section + ".")]
            where = (f"known in [{section}]: {', '.join(known)}" if known
                     else f"sections: {', '.join(SECTIONS)}")
            problems.append(f"{key_path}: unknown key ({where})")
            continue
        try:
            values[key_path] = key.check(v)
        except ValueError as e:
            problems.append(f"{key_path}: {e}")
    return Loaded(path, values, problems)


def chosen_path(args) -> Path | None:
    """--config, else PYPERF_CONFIG, else /etc/pyperf/pyperf.toml when it exists and
    this user may read it (it is root's, 0600: a local user's `pyperf sql` or
    `pyperf report` goes through the running agent and needs none of it)."""
    given = getattr(args, "config", None) or os.environ.get("PYPERF_CONFIG")
    if given:
        return Path(given)
    return DEFAULT_PATH if DEFAULT_PATH.is_file() and os.access(DEFAULT_PATH, os.R_OK) else None


def load(args) -> Loaded:
    path = chosen_path(args)
    if path is None:
        return Loaded(None, {}, [])
    loaded = read(path)
    if loaded.problems:
        more = f" (and {len(loaded.problems) - 1} more: pyperf config check {path})" if len(loaded.problems) > 1 else ""
        raise ConfigError(f"{path}: {loaded.problems[0]}{more}")
    return loaded


def resolve(args, loaded: Loaded, environ=os.environ) -> dict[str, str]:
    """Put the file's and the environment's values into `args` where no flag was
    typed (file < environment < flag); returns each key's source."""
    given = getattr(args, "given", set())
    sources = {}
    for key in KEYS:
        if not hasattr(args, key.dest):
            continue
        if key.flag in given:
            sources[key.path] = f"flag {key.flag}"
        elif environ.get(key.env):
            try:
                setattr(args, key.dest, key.check(environ[key.env]))
            except ValueError as e:
                raise ConfigError(f"environment {key.env}: {e}") from None
            sources[key.path] = f"env {key.env}"
        elif key.path in loaded.values:
            setattr(args, key.dest, loaded.values[key.path])
            sources[key.path] = f"file {loaded.path}"
        else:
            sources[key.path] = "default"
    return sources


def thresholds_of(loaded: Loaded) -> dict[str, float]:
    """{"host.cpu_pct": 90.0, ...}: the file's thresholds, as `report --threshold` paths."""
    return {k.removeprefix("thresholds."): v for k, v in loaded.values.items() if k.startswith("thresholds.")}


def _threshold_defaults() -> dict[str, float]:
    from pyperf.analysis import thresholds
    return {f"{group}.{name}": v for group, table in (("host", thresholds.HOST), ("container", thresholds.CONTAINER),
                                                      ("findings", thresholds.FINDINGS)) for name, v in table.items()}


DEFAULT_THRESHOLDS = _threshold_defaults()     # as shipped: what a threshold taken out of the file returns to


def apply_thresholds(values: dict[str, float]) -> None:
    from pyperf.analysis import thresholds
    for path, v in values.items():
        group, name = path.split(".", 1)
        {"host": thresholds.HOST, "container": thresholds.CONTAINER, "findings": thresholds.FINDINGS}[group][name] = v


def reference() -> str:
    """The keys as a Markdown table (docs/configuration.md keeps it; a test checks)."""
    lines = ["| key | flag | environment | on SIGHUP |", "|---|---|---|---|"]
    for k in KEYS:
        lines.append(f"| `{k.path}` | `{k.flag}` | `{k.env}` | {'applied' if k.live else 'needs a restart'} |")
    lines.append("| `thresholds.GROUP.NAME` | `pyperf report --threshold GROUP.NAME=V` (per report) | - | applied |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
