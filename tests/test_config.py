"""The config file: precedence (file < environment < flag), one line per bad key
or value with the key's path, `config show` and `config check`, and log lines
(text or JSON) that never carry a secret. Pure and subprocess tests, no root."""

import json
import logging
import time

import pytest

from conftest import run_pyperf
from pyperf import config, logs
from pyperf.cli import build_parser

GOOD = """
[store]
dsn = "http://ops:s3cretpw@127.0.0.1:1/pyperf"

[agent]
interval = "2s"
probes = ["disk", "sched"]
retention = { raw = 7, "1m" = 60 }

[alerts]
webhooks = ["http://127.0.0.1:9/hook?token=abcdef123456"]
for = "45s"
auto_apply = ["container_cpu_throttled"]

[thresholds.host]
cpu_pct = 90
"""

BAD = """
[agent]
intervall = "2s"
interval = "fast"
probes = ["disk", "nope"]
cpu_budget = true
[web]
listen = "localhost"
[alerts]
webhooks = ["file:///etc/shadow"]
[thresholds.host]
cpu_percent = 3
[thresholds.findings]
disk_p99_us = -1
[nosuch]
x = 1
"""


def resolved(tmp_path, text: str, argv=(), environ=None):
    path = tmp_path / "pyperf.toml"
    path.write_text(text)
    args = build_parser().parse_args(["--config", str(path), "up", *argv])
    args.given = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
    sources = config.resolve(args, config.load(args), environ or {})
    return args, sources


def test_the_file_then_the_environment_then_the_flag(tmp_path):
    args, sources = resolved(tmp_path, GOOD)
    assert (args.interval, args.probes, args.alert_for) == (2.0, ["disk", "sched"], 45.0)
    assert args.retention == {"raw": 7, "1m": 60, "1h": 365} and args.auto_apply == ["container_cpu_throttled"]
    assert sources["agent.interval"].startswith("file ") and sources["agent.cpu_budget"] == "default"
    args, sources = resolved(tmp_path, GOOD, environ={"PYPERF_AGENT_INTERVAL": "3s", "PYPERF_STORE": "chdb:///x"})
    assert (args.interval, args.store) == (3.0, "chdb:///x") and sources["agent.interval"] == "env PYPERF_AGENT_INTERVAL"
    args, sources = resolved(tmp_path, GOOD, argv=("--interval", "500ms"), environ={"PYPERF_AGENT_INTERVAL": "3s"})
    assert args.interval == 0.5 and sources["agent.interval"] == "flag --interval"
    with pytest.raises(config.ConfigError, match="environment PYPERF_AGENT_INTERVAL: 'soon' is not a duration"):
        resolved(tmp_path, GOOD, environ={"PYPERF_AGENT_INTERVAL": "soon"})


def test_every_bad_key_and_value_is_one_line_with_its_path(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    out = run_pyperf("config", "check", str(path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = [line.removeprefix(f"{path}: ") for line in out.stdout.splitlines()]
    assert lines == [
        "agent.intervall: unknown key (known in [agent]: probes, interval, process_interval, flush_interval, "
        "cpu_budget, governor_period, slow_io_ms, profile_hz, offcpu_stacks, offcpu_min_ms, retention)",
        "agent.interval: 'fast' is not a duration (examples: 10s, 100ms, 2m)",
        "agent.probes: 'nope' is not one of containers, disk, faults, layers, profile, response, sched, system, tcp",
        "agent.cpu_budget: True is not a number",
        "web.listen: 'localhost' is not HOST:PORT (e.g. \"127.0.0.1:8080\")",
        "alerts.webhooks: needs http(s) URLs",
        "thresholds.host.cpu_percent: unknown threshold (known: see docs/performance_guide.md, e.g. "
        "thresholds.host.cpu_pct)",
        "thresholds.findings.disk_p99_us: -1 is outside 0..inf",
        "nosuch.x: unknown key (sections: agent, alerts, log, spool, store, thresholds, web)",
    ]
    (tmp_path / "syntax.toml").write_text("[agent\ninterval = 1")
    broken = run_pyperf("config", "check", str(tmp_path / "syntax.toml"))
    assert broken.returncode == 2 and broken.stdout.count("\n") == 1 and "not TOML" in broken.stdout
    ok = tmp_path / "good.toml"
    ok.write_text(GOOD)
    assert run_pyperf("config", "check", str(ok), check=True).stdout.endswith("ok (8 setting(s))\n")
    # any other command refuses to run on a bad file, in one line
    refused = run_pyperf("--config", str(path), "status")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "agent.intervall: unknown key" in refused.stderr and "and 8 more: pyperf config check" in refused.stderr
    missing = run_pyperf("--config", str(tmp_path / "none.toml"), "status")
    assert missing.returncode == 2 and "cannot read it: No such file or directory" in missing.stderr


def test_config_show_names_each_source_and_hides_secrets(tmp_path):
    path = tmp_path / "pyperf.toml"
    path.write_text(GOOD)
    out = run_pyperf("--config", str(path), "config", "show", "--json", check=True,
                     env={"PYPERF_AGENT_CPU_BUDGET": "2.5"})
    shown = {r["key"]: r for r in json.loads(out.stdout)["settings"]}
    assert shown["agent.interval"] == {"key": "agent.interval", "value": 2.0, "source": f"file {path}",
                                       "reload": "SIGHUP"}
    assert shown["agent.cpu_budget"]["value"] == 2.5 and shown["agent.cpu_budget"]["source"] == "env PYPERF_AGENT_CPU_BUDGET"
    assert shown["web.listen"]["source"] == "default" and shown["web.listen"]["reload"] == "restart"
    assert shown["thresholds.host.cpu_pct"]["value"] == 90
    text = run_pyperf("--config", str(path), "config", "show", check=True).stdout
    assert "s3cretpw" not in out.stdout + text and "abcdef123456" not in out.stdout + text
    assert "http://ops:***@127.0.0.1:1/pyperf" in text


def test_log_lines_mask_secrets_in_text_and_json(capsys):
    logs.secret("tok-0123456789")
    logs.setup(verbose=False, fmt="json")
    try:
        log = logging.getLogger("pyperf.test")
        log.warning("store http://ops:pw%s@db:8123/x, hook https://h/x?token=%s, header Bearer %s",
                    "secret", "abc", "tok-0123456789")
        try:
            raise RuntimeError("failed for tok-0123456789")
        except RuntimeError:
            log.exception("with a traceback")
        lines = capsys.readouterr().err.strip().splitlines()
        first, second = (json.loads(line) for line in lines)
        assert first["level"] == "warning" and first["logger"] == "pyperf.test"
        assert first["msg"] == "store http://ops:***@db:8123/x, hook https://h/x?*** header Bearer ***"   # to the next space
        assert "tok-0123456789" not in second["error"] and "RuntimeError" in second["error"]
        logs.setup(verbose=False, fmt="text")
        log.info("again tok-0123456789")
        assert capsys.readouterr().err.strip().endswith("INFO pyperf.test: again ***")
    finally:
        logs.setup(verbose=False, fmt="text")


def test_the_service_guide_lists_every_key_as_declared():
    from pathlib import Path
    guide = (Path(__file__).resolve().parent.parent / "docs" / "service.md").read_text()
    assert config.reference() in guide, "run: python -m pyperf.config, and paste it into docs/service.md"


def test_a_store_of_the_previous_schema_is_reported_then_upgraded_with_its_rows(tmp_path):
    from pyperf.commands.doctor import check_store
    from pyperf.store import migrations
    from pyperf.store.dsn import parse_dsn
    from pyperf.store.store import Store

    latest = max(m.version for m in migrations.available())
    dsn = f"chdb://{tmp_path}/store"
    old = Store(parse_dsn(dsn)).open(upto=latest - 1)
    now = time.time()      # recent: the raw tables keep 3 days
    old.insert("system_cpu", {"ts": [now - 2, now - 1], "interval_ms": [1000, 1000], "cpu": [-1, -1],
                              "busy_pct": [10.0, 20.0], "idle_pct": [90.0, 80.0]})
    old.close()
    before = check_store(dsn)
    assert before.status == "ok" and f"schema version {latest - 1}; this pyperf migrates it to {latest}" in before.detail
    new = Store(parse_dsn(dsn)).open()
    try:
        assert new.query("SELECT count(), sum(busy_pct) FROM system_cpu").rows[0] == (2, 30.0)
    finally:
        new.close()
    after = check_store(dsn)
    assert after.detail.endswith(f"schema version {latest})")


def test_a_store_password_never_reaches_the_output(tmp_path, free_port):
    password_file = tmp_path / "password"
    password_file.write_text("file-secret-0451\n")
    for args, env in ((("--store", f"http://ops:dsn-secret-0451@127.0.0.1:{free_port}/db"), {}),
                      (("--store", f"http://ops@127.0.0.1:{free_port}/db"),
                       {"PYPERF_STORE_PASSWORD_FILE": str(password_file)})):
        for fmt in ("text", "json"):
            out = run_pyperf(*args, "-v", "--log-format", fmt, "status", env=env)
            assert out.returncode == 3 and "connection refused" in out.stderr, out.stderr
            assert "secret-0451" not in out.stdout + out.stderr


def test_the_default_file_is_read_when_present_and_readable(tmp_path, monkeypatch):
    path = tmp_path / "pyperf.toml"
    args = build_parser().parse_args(["status"])
    monkeypatch.setattr(config, "DEFAULT_PATH", path)
    monkeypatch.delenv("PYPERF_CONFIG", raising=False)
    assert config.chosen_path(args) is None                       # none installed: defaults
    path.write_text(GOOD)
    assert config.chosen_path(args) == path
    # root's 0600 file, seen by a local user running `pyperf sql`: not theirs to read, not an error
    monkeypatch.setattr(config.os, "access", lambda p, mode: False)
    assert config.chosen_path(args) is None
    monkeypatch.setenv("PYPERF_CONFIG", str(tmp_path / "other.toml"))
    assert config.chosen_path(args) == tmp_path / "other.toml"    # named: read, and an error if it cannot be
