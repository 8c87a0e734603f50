"""Running pyperf like a service: the config file read at start and again on
SIGHUP by a real `pyperf up` (what changes live, what needs a restart), and
no secret in any line it logs."""

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import PyperfProcess, require_root, run_pyperf
from pyperf.web.auth import token_path
from pyperf.store.dsn import parse_dsn

CONFIG = """
[agent]
interval = "1s"
probes = ["system"]

[web]
listen = "127.0.0.1:{port}"

[alerts]
webhooks = ["http://127.0.0.1:9/hook?token=hook-secret-123456"]

[thresholds.host]
cpu_pct = 80
"""


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=10) as r:
        return json.loads(r.read())


def settings_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/settings", timeout=10) as r:
        return r.read().decode()


def test_sighup_reloads_the_config_file_on_a_running_agent(tmp_path, store_dsn, free_port):
    require_root()
    path = tmp_path / "pyperf.toml"
    path.write_text(CONFIG.format(port=free_port))
    up = PyperfProcess("--config", str(path), "up", "--cpu-budget", "5", store=store_dsn)
    try:
        up.wait_for("web UI on")
        assert status(free_port)["interval_s"] == 1.0 and 'name="host_cpu_pct"' in settings_page(free_port)
        assert 'value="80"' in settings_page(free_port)
        # interval and threshold change live; the listen address needs a restart; a flag still wins
        path.write_text(CONFIG.format(port=free_port + 1).replace('"1s"', '"2s"').replace("cpu_pct = 80", "cpu_pct = 95")
                        + '\n[spool]\nmax_mb = 64\n')
        path.write_text(path.read_text().replace("[agent]", "[agent]\ncpu_budget = 50"))
        up.proc.send_signal(signal.SIGHUP)
        up.wait_for("config reloaded from")
        line = next(x for x in up.stderr_lines if "config reloaded from" in x)
        assert "applied agent.interval, thresholds.host.cpu_pct" in line, line
        assert "needs a restart: spool.max_mb, web.listen" in line, line
        assert status(free_port)["interval_s"] == 2.0 and 'value="95"' in settings_page(free_port)
        assert status(free_port)["governor"]["budget_pct"] == 5.0        # --cpu-budget typed at start wins
        # a broken file changes nothing and says why in one line
        path.write_text("[agent]\ninterval = \"soon\"\n")
        up.proc.send_signal(signal.SIGHUP)
        up.wait_for("config not reloaded (nothing changed)")
        assert status(free_port)["interval_s"] == 2.0
    finally:
        code, _, stderr = up.stop()
    assert code == 0, stderr
    token = token_path(parse_dsn(store_dsn)).read_text().strip()
    assert token and token not in stderr and "hook-secret-123456" not in stderr


UNIT = Path(__file__).resolve().parent.parent / "packaging" / "pyperf.service"


def unit_capabilities() -> list[str]:
    line = next(x for x in UNIT.read_text().splitlines() if x.startswith("CapabilityBoundingSet="))
    return line.split("=", 1)[1].split()


def with_capabilities(caps: list[str]) -> list[str]:
    """setpriv: root with only these capabilities and no new privileges, as the unit leaves it (its
    filesystem protections need systemd, which these machines do not boot)."""
    names = ",".join(f"+{c.removeprefix('CAP_').lower()}" for c in caps)
    return ["setpriv", "--no-new-privs", f"--bounding-set=-all,{names}", "--"]


def test_the_unit_installs_and_passes_systemd_analyze_verify(tmp_path):
    """These machines do not boot systemd (PID 1 is not systemd): the unit is
    checked offline, and install says it started nothing."""
    require_root()
    out = run_pyperf("service", "install", "--unit-dir", str(tmp_path / "units"), "--config-dir",
                     str(tmp_path / "etc"), check=True)
    assert "systemd is not running here" in out.stdout
    unit = tmp_path / "units" / "pyperf.service"
    exec_start = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    assert exec_start == f"ExecStart={Path(sys.executable).parent / 'pyperf'} --config {tmp_path}/etc/pyperf.toml up"
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stderr == "" and verify.stdout == "", verify.stderr
    config_file = tmp_path / "etc" / "pyperf.toml"
    assert config_file.stat().st_mode & 0o777 == 0o600
    run_pyperf("config", "check", str(config_file), check=True)
    again = run_pyperf("service", "install", "--unit-dir", str(tmp_path / "units"), "--config-dir",
                       str(tmp_path / "etc"), check=True)
    assert f"kept {config_file}" in again.stdout            # a config someone edited is never replaced
    assert "not running here" in run_pyperf("service", "status", "--unit-dir", str(tmp_path / "units")).stdout
    run_pyperf("service", "uninstall", "--unit-dir", str(tmp_path / "units"), "--config-dir",
               str(tmp_path / "etc"), check=True)
    assert not unit.exists() and config_file.exists()
    # a unit with a typo is not quiet under the same check
    broken = tmp_path / "broken.service"
    broken.write_text(UNIT.read_text().replace("ProtectSystem=", "ProtectSystm=").replace(
        "/usr/local/bin/pyperf", str(Path(sys.executable).parent / "pyperf")))
    assert "Unknown key 'ProtectSystm'" in subprocess.run(["systemd-analyze", "verify", str(broken)],
                                                          capture_output=True, text=True).stderr


def test_every_probe_runs_with_the_units_capabilities_and_doctor_names_what_is_missing(store_dsn):
    require_root()
    caps = unit_capabilities()
    assert "CAP_SYS_ADMIN" not in caps and {"CAP_BPF", "CAP_PERFMON"} <= set(caps)
    pyperf = [sys.executable, "-m", "pyperf", "--store", store_dsn]
    cmd = with_capabilities(caps) + pyperf
    recorded = subprocess.run(cmd + ["record", "--duration", "3s", "--json"], capture_output=True, text=True,
                              timeout=300)
    assert recorded.returncode == 0, recorded.stderr
    summary = json.loads(recorded.stdout)
    assert "failed_probes" not in summary and len(summary["probes"]) == 9, summary
    assert summary["rows"].get("sched_process", 0) > 0 and summary["rows"].get("system_cpu", 0) > 0
    doctor = json.loads(subprocess.run(cmd + ["doctor", "--json"], capture_output=True, text=True,
                                       timeout=300).stdout)
    about_capabilities = [c for c in doctor["checks"] if c["name"] == "capabilities" or c["name"].startswith("probe ")]
    assert [c for c in about_capabilities if c["status"] != "ok"] == [] and doctor["usable_probes"] == 9
    # without CAP_BPF: every BPF probe says what it lacks; the /proc and cgroup sources still run
    without = with_capabilities([c for c in caps if c != "CAP_BPF"]) + pyperf
    doctor = json.loads(subprocess.run(without + ["doctor", "--json"], capture_output=True, text=True,
                                       timeout=300).stdout)
    by_name = {c["name"]: c for c in doctor["checks"]}
    assert by_name["probe disk"]["detail"] == "lacks CAP_BPF" and by_name["probe system"]["status"] == "ok"
    assert doctor["usable_probes"] == 2
    refused = subprocess.run(without + ["record", "--probes", "disk", "--duration", "1s"], capture_output=True,
                             text=True, timeout=300)
    assert refused.returncode != 0 and "loading BPF needs CAP_BPF" in refused.stderr
