"""Shared fixtures. Under CI=true a skip (a capability missing on the host)
becomes a failure, so nothing silently stops being tested."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import subprocess
import sys
from pathlib import Path

import pytest

from pyperf.errors import StoreError

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (missing capability is a failure here): {reason}"


# What needs root, the kernel's BPF, Docker or Chromium; modules that use none of it
# form the fast tier scripts/test.sh runs first (pure and chDB tests, seconds).
KERNEL_TIER_NAMES = ("require_root", "require_docker", "playwright")
KERNEL_TIER_FIXTURES = {"docker", "root_only"}


def pytest_collection_modifyitems(config, items):
    sources: dict[str, bool] = {}
    for item in items:
        path = str(item.path)
        if path not in sources:
            text = Path(path).read_text()
            sources[path] = any(name in text for name in KERNEL_TIER_NAMES)
        if sources[path] or KERNEL_TIER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kernel)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900):
    """(page, errors): a page in headless Chromium and the script errors it raised."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (scripts/install.sh --test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, errors
        finally:
            browser.close()


def require_root():
    if os.geteuid() != 0:
        pytest.skip("needs root to load BPF programs")


def require_docker():
    """Root and a running Docker daemon (scripts/test.sh starts dockerd)."""
    from docker_env import docker_available

    require_root()
    if not docker_available():
        pytest.skip("no Docker daemon (scripts/test.sh starts dockerd)")


@pytest.fixture
def docker():
    require_docker()


@pytest.fixture
def root_only():
    require_root()


def run_pyperf(*args, store: str | None = None, timeout: float = 180, env=None, check=False,
               user: str | None = None) -> subprocess.CompletedProcess:
    """Run the real `pyperf` command line in a subprocess."""
    cmd = [sys.executable, "-m", "pyperf"]
    if store:
        cmd += ["--store", store]
    cmd += list(args)
    if user:
        # An unprivileged user that can still read (not write) every file, so the
        # checkout and its venv are reachable wherever CI cloned them.
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
               "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search"] + cmd
    full_env = dict(os.environ)
    full_env.pop("PYPERF_STORE", None)
    full_env.update(env or {})
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"pyperf {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


class PyperfProcess:
    """A running `pyperf` whose stderr is followed line by line."""

    def __init__(self, *args, store: str | None = None, command: list[str] | None = None, cwd=ROOT):
        cmd = (command or [sys.executable, "-m", "pyperf"]) + (["--store", store] if store else []) + list(args)
        env = dict(os.environ)
        env.pop("PYPERF_STORE", None)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=cwd, env=env)
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.stderr_lines):
                return
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise AssertionError(f"pyperf exited {self.proc.returncode} before '{text}':\n"
                                     + "".join(self.stderr_lines))
            time.sleep(0.05)
        raise AssertionError(f"no '{text}' from pyperf within {timeout}s:\n" + "".join(self.stderr_lines))

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        # not communicate(): the reader thread owns stderr
        stdout = self.proc.stdout.read()
        self.proc.wait(timeout)
        self._reader.join(5)
        return self.proc.returncode, stdout, "".join(self.stderr_lines)

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.finish(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def store_dsn(tmp_path) -> str:
    return f"chdb://{tmp_path}/store"


def merges_run(store) -> bool:
    """Whether the embedded engine merges now: a merge of a scratch table's two
    parts either runs or is cancelled by a hold (Store.merges_held)."""
    store.command("CREATE TABLE IF NOT EXISTS merge_probe (k UInt8) ENGINE = MergeTree ORDER BY k")
    store.command("INSERT INTO merge_probe VALUES (1)")
    store.command("INSERT INTO merge_probe VALUES (2)")
    try:
        store.command("OPTIMIZE TABLE merge_probe FINAL")
        return True
    except StoreError as e:
        assert "Cancelled merging parts" in str(e)
        return False


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    return unused_port()


class ClickHouseTestServer:
    """tests/ch_http_server.py in its own process, stoppable and restartable on the
    same port and data folder (a store that goes down and comes back)."""

    def __init__(self, folder: Path, port: int, password: str = "secret", create_database: bool = True,
                 tls: tuple[Path, Path] | None = None):
        self.folder, self.port, self.password = folder, port, password
        self.create_database = create_database
        self.tls = tls
        self.proc = None

    @property
    def dsn(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://default:{self.password}@127.0.0.1:{self.port}/pyperf"

    def start(self) -> "ClickHouseTestServer":
        cmd = [sys.executable, str(Path(__file__).parent / "ch_http_server.py"), "--port", str(self.port),
               "--path", str(self.folder), "--password", self.password]
        if not self.create_database:
            cmd.append("--no-create-database")
        if self.tls:
            cmd += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise AssertionError(f"test ClickHouse server did not start: {line!r}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None


@pytest.fixture
def ch_server(tmp_path, free_port):
    server = ClickHouseTestServer(tmp_path / "server-data", free_port).start()
    yield server
    server.stop()


@pytest.fixture
def webhook():
    """(url, bodies): a local HTTP receiver keeping every JSON body POSTed to it
    (alert webhooks); the URL carries a token in its query, as real ones do."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: list = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=secret", bodies
    server.shutdown()
