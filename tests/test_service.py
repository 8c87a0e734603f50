"""Running pyperf like a service: the config file read at start and again on
SIGHUP by a real `pyperf up` (what changes live, what needs a restart), and
no secret in any line it logs."""

import json
import signal
import urllib.request

from conftest import PyperfProcess, require_root
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
