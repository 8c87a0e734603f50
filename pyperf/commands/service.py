"""`pyperf service install|uninstall|status`: pyperf as a systemd service.

install writes packaging/pyperf.service (hardened, the narrowest capability
set that loads every probe: docs/service.md) with the path of the pyperf it
runs from, and the example config when none exists; then, where systemd runs,
reloads it and enables and starts the unit. uninstall stops and removes the
unit and keeps the config and the store. Where PID 1 is not systemd (containers,
these CI machines) the files are written and it says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pyperf.errors import PyperfError, UsageError
from pyperf.files import write_atomically
from pyperf.resources import data_dir

UNIT = "pyperf.service"
SHIPPED_EXEC = "/usr/local/bin/pyperf"


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


def executable() -> str:
    """The pyperf command this one runs from (its venv's, or the one on PATH)."""
    beside = Path(sys.executable).parent / "pyperf"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("pyperf")
    if not found:
        raise UsageError("cannot find the pyperf command to start (install pyperf, or run this through it)")
    return os.path.abspath(found)


def render(exec_path: str, config_path: Path) -> str:
    text = (data_dir("packaging") / UNIT).read_text()
    if any(c.isspace() or c in "\"'\\%$" for c in exec_path + str(config_path)):
        raise UsageError(f"paths with spaces or quotes cannot go into a unit: {exec_path} / {config_path}")
    return text.replace(f"ExecStart={SHIPPED_EXEC} --config /etc/pyperf/pyperf.toml up",
                        f"ExecStart={exec_path} --config {config_path} up")


def _systemctl(*args: str) -> None:
    out = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise PyperfError(f"systemctl {' '.join(args)} failed: {' '.join(out.stderr.split())[:300]}")


def install(args) -> int:
    unit = Path(args.unit_dir) / UNIT
    config = Path(args.config_dir) / "pyperf.toml"
    try:
        write_atomically(unit, render(executable(), config), 0o644)
        print(f"wrote {unit}")
        if config.exists():
            print(f"kept {config}")
        else:
            # root-only: it may name a store password file or carry webhook tokens
            write_atomically(config, (data_dir("packaging") / "pyperf.toml").read_text(), 0o600)
            print(f"wrote {config} (check it: pyperf config check {config})")
    except OSError as e:
        raise PyperfError(f"cannot write {e.filename}: {e.strerror}") from None
    if not systemd_running():
        print("systemd is not running here (PID 1 is not systemd): nothing started; under systemd: "
              "systemctl daemon-reload && systemctl enable --now pyperf")
        return 0
    _systemctl("daemon-reload")
    _systemctl("enable", "--now", UNIT)
    print("enabled and started: journalctl -u pyperf -f")
    return 0


def uninstall(args) -> int:
    unit = Path(args.unit_dir) / UNIT
    if systemd_running():
        subprocess.run(["systemctl", "disable", "--now", UNIT], capture_output=True, timeout=120)
    if unit.exists():
        unit.unlink()
        print(f"removed {unit} (kept {args.config_dir}/pyperf.toml and the store)")
    else:
        print(f"no unit at {unit}")
    if systemd_running():
        _systemctl("daemon-reload")
    return 0


def status(args) -> int:
    unit = Path(args.unit_dir) / UNIT
    print(f"unit: {unit if unit.exists() else 'not installed (' + str(unit) + ')'}")
    if not systemd_running():
        print("systemd: not running here")
        return 0 if unit.exists() else 3
    out = subprocess.run(["systemctl", "is-active", UNIT], capture_output=True, text=True, timeout=60)
    print(f"service: {out.stdout.strip() or 'unknown'}")
    return 0 if out.returncode == 0 else 3


def run(args) -> int:
    if args.service_verb is None:
        raise UsageError("service: install, uninstall or status (see --help)")
    if args.service_verb != "status" and os.geteuid() != 0:
        raise UsageError(f"service {args.service_verb} writes system files and needs root: run it with sudo")
    return {"install": install, "uninstall": uninstall, "status": status}[args.service_verb](args)
