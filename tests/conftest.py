"""Shared fixtures. Under CI=true a skip (a capability missing on the host)
becomes a failure, so nothing silently stops being tested."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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


def require_root():
    if os.geteuid() != 0:
        pytest.skip("needs root to load BPF programs")


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
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--inh-caps=-all"] + cmd
    full_env = dict(os.environ)
    full_env.pop("PYPERF_STORE", None)
    full_env.update(env or {})
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"pyperf {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


@pytest.fixture
def store_dsn(tmp_path) -> str:
    return f"chdb://{tmp_path}/store"


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
