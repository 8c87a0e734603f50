#!/usr/bin/env python3
"""The web UI's front-end assets (htmx, uPlot, d3, d3-flame-graph): installed
from npm by the lockfile (web/package-lock.json) and copied into
web/static/vendor, which Flask serves; no request ever leaves the machine.
Run by scripts/install.sh and by the wheel build (setup.py), so a wheel carries
them. Standard library only: it runs before any virtualenv exists."""

import shutil
import subprocess
import sys
from pathlib import Path

FILES = (
    "htmx.org/dist/htmx.min.js",
    "uplot/dist/uPlot.iife.min.js",
    "uplot/dist/uPlot.min.css",
    "d3/dist/d3.min.js",
    "d3-flame-graph/dist/d3-flamegraph.umd.min.js",
    "d3-flame-graph/dist/d3-flamegraph.css",
)


def vendor(root: Path) -> bool:
    """Fill web/static/vendor when it is missing or older than the lockfile; True when it ran."""
    web = root / "web"
    target, stamp, lock = web / "static" / "vendor", web / "static" / "vendor" / ".stamp", web / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime and all(
            (target / Path(f).name).exists() for f in FILES):
        return False
    if shutil.which("npm") is None:
        raise SystemExit("vendor_assets: npm is needed to fetch the web UI's assets (apt-get install npm)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=web, check=True)
    target.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        shutil.copy2(web / "node_modules" / f, target / Path(f).name)
    stamp.touch()
    return True


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    if vendor(root):
        print("vendor_assets: installed the front-end assets with npm ci")
