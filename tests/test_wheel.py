"""A wheel that works on its own: built from a clean copy of the tracked files
(the build fetches the front-end assets itself), installed into a fresh venv
that sees only the distribution's bcc, started outside the checkout, and its
dashboard drawn in headless Chromium with htmx and uPlot from the wheel.
Also: with PyPI's unrelated "pyperf" imported instead, one clear line."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import PyperfProcess, chromium_page, require_root

ROOT = Path(__file__).resolve().parent.parent


def sh(*cmd, cwd=None, env=None) -> str:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{cmd}: {out.stderr[-2000:]}"
    return out.stdout


def test_a_wheel_in_a_fresh_venv_serves_the_dashboard(tmp_path, free_port):
    require_root()
    src = tmp_path / "src"
    for name in sh("git", "ls-files", cwd=ROOT).splitlines():
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((ROOT / name).read_bytes())
    assert not (src / "web" / "static" / "vendor").exists()       # the build must bring them
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist",
       src, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("pyperf_bpf-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"pyperf/_data/web/static/vendor/htmx.min.js", "pyperf/_data/web/static/vendor/uPlot.iife.min.js",
            "pyperf_bpf.py", "pyperf/_data/packaging/pyperf.service"} <= set(names)
    assert not [n for n in names if "node_modules" in n]

    venv = tmp_path / "venv"
    sh("/usr/bin/python3", "-m", "venv", venv)
    import bcc
    purelib = sh(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    (tmp_path / "bcc-site").mkdir()
    (tmp_path / "bcc-site" / "bcc").symlink_to(Path(bcc.__file__).parent)
    Path(purelib, "bcc.pth").write_text(str(tmp_path / "bcc-site") + "\n")
    sh(venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check", "-r", ROOT / "requirements" / "runtime.txt")
    sh(venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", wheel)

    store = f"chdb://{tmp_path}/store"
    up = PyperfProcess("up", "--listen", f"127.0.0.1:{free_port}", "--probes", "system,sched", store=store,
                       command=[str(venv / "bin" / "pyperf")], cwd=tmp_path)
    try:
        up.wait_for("web UI on")
        with chromium_page() as (page, errors):
            asked = []
            page.on("request", lambda r: asked.append(r.url))
            page.goto(f"http://127.0.0.1:{free_port}/overview")
            page.wait_for_function("window.htmx && window.uPlot && document.querySelector('.uplot canvas')",
                                   timeout=30000)
            assert errors == []
            assert all(u.startswith(f"http://127.0.0.1:{free_port}/") for u in asked), asked
    finally:
        code, _, stderr = up.stop()
    assert code == 0, stderr
    assert str(ROOT) not in stderr                                   # nothing came from the checkout

    # PyPI's "pyperf" shadowing ours: one line, no traceback
    fake = tmp_path / "fake" / "pyperf"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""a benchmark toolkit"""\n')
    out = subprocess.run([venv / "bin" / "pyperf", "status"], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(fake.parent)})
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "is not pyperf-bpf" in out.stderr
