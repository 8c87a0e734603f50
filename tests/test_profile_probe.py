"""The profile probe: a process spinning in one known function shows it in
its samples; flame graphs come back out of the store."""

import datetime
import json
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import PyperfProcess, chromium_page, require_root, run_pyperf

from pyperf.probes.base import ProbeOptions
from pyperf.probes.profile import ProfileProbe

SPIN_C = Path(__file__).parent / "programs" / "spin.c"


@pytest.fixture(scope="module")
def spin_binary(tmp_path_factory):
    out = tmp_path_factory.mktemp("bin") / "pyperf-spin"
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", str(out), str(SPIN_C)], check=True)
    return str(out)


def test_spinning_function_dominates_its_samples(spin_binary):
    require_root()
    probe = ProfileProbe(ProbeOptions(extra={"profile.hz": "199"}))
    probe.attach()
    try:
        spinner = subprocess.Popen(["taskset", "-c", "1", spin_binary, "3.0"])
        time.sleep(2.0)
        batch = probe.drain(time.time())   # while it runs: user stacks need its /proc/<pid>/maps
        spinner.wait()
    finally:
        probe.detach()
    rows = batch["profile_stack"]
    mine = [i for i, pid in enumerate(rows["pid"]) if pid == spinner.pid]
    total = sum(rows["samples"][i] for i in mine)
    in_spin = sum(rows["samples"][i] for i in mine if "pyperf_spin_here" in rows["folded"][i].split(";"))
    assert total >= 199 * 2 * 0.7                  # ~2 s at 199 Hz
    assert in_spin / total >= 0.9
    assert all(rows["comm"][i] == "pyperf-spin" for i in mine)
    main_first = [rows["folded"][i].split(";") for i in mine if "pyperf_spin_here" in rows["folded"][i].split(";")]
    assert all(s.index("main") < s.index("pyperf_spin_here") for s in main_first if "main" in s)


def test_export_folded_and_speedscope_from_the_store(spin_binary, store_dsn, tmp_path):
    require_root()
    rec = PyperfProcess("record", "--probes", "profile", "--profile-hz", "99", "--duration", "4s",
                        store=store_dsn)
    try:
        rec.wait_for("probe profile attached")
        spinner = subprocess.Popen(["taskset", "-c", "1", spin_binary, "2.0"])
        spinner.wait()
        code, _, stderr = rec.finish()
    finally:
        rec.kill()
    assert code == 0, stderr
    folded = run_pyperf("export", "--pid", str(spinner.pid), store=store_dsn, check=True).stdout
    lines = [line.rsplit(" ", 1) for line in folded.splitlines()]
    total = sum(int(n) for _, n in lines)
    assert total > 100
    assert sum(int(n) for s, n in lines if "pyperf_spin_here" in s.split(";")) / total >= 0.9

    out = tmp_path / "profile.speedscope.json"
    run_pyperf("export", "--pid", str(spinner.pid), "--format", "speedscope", "-o", str(out),
               store=store_dsn, check=True)
    doc = json.loads(out.read_text())
    profile = doc["profiles"][0]
    assert profile["type"] == "sampled" and sum(profile["weights"]) == total
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert "pyperf_spin_here" in names
    assert all(0 <= i < len(names) for sample in profile["samples"] for i in sample)

    nothing = run_pyperf("export", "--pid", "1", "--last", "1s", store=store_dsn)
    assert nothing.returncode == 2 and "no oncpu stacks match" in nothing.stderr


def test_flame_graph_page_shows_the_spinning_function(spin_binary, store_dsn, free_port):
    """`pyperf up`, a process spinning in a known function: the Flame graphs page
    for its pid draws it with d3-flame-graph and tops the bottleneck summary."""
    require_root()
    up = PyperfProcess("up", "--listen", f"127.0.0.1:{free_port}", "--probes", "profile", "--profile-hz", "199",
                       "--flush-interval", "2s", "--cpu-budget", "0", store=store_dsn)
    try:
        up.wait_for("web UI on")
        time.sleep(2)                    # a baseline without the spinner for the diff
        started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        spinner = subprocess.Popen(["taskset", "-c", "1", spin_binary, "3.0"])
        time.sleep(3.5)                  # its samples drained and flushed (every 2 s) before it exits
        spinner.wait()
        time.sleep(2.5)
        with chromium_page() as (page, errors):
            page.goto(f"http://127.0.0.1:{free_port}/flame?range=5m&pid={spinner.pid}")
            page.wait_for_selector("#flame .d3-flame-graph-label", state="attached", timeout=30000)
            labels = page.eval_on_selector_all("#flame .d3-flame-graph-label", "els => els.map(e => e.textContent)")
            assert any("pyperf_spin_here" in label for label in labels), labels[:20]
            first = page.locator("table.top-functions tbody tr").first.locator("td.function").inner_text()
            assert first == "pyperf_spin_here"
            page.fill("#flame-search", "pyperf_spin")            # search highlights, no error
            page.click("#flame-reset")
            # the host's graph against the seconds before the spinner: its function is the change
            base = urlencode({"base": "custom", "base_from": (started - datetime.timedelta(minutes=2)).isoformat(),
                              "base_to": started.isoformat(), "range": "custom", "from": started.isoformat(),
                              "to": (started + datetime.timedelta(minutes=1)).isoformat()})
            page.goto(f"http://127.0.0.1:{free_port}/flame?{base}")
            page.wait_for_selector("#flame[data-diff='1'] .d3-flame-graph-label", state="attached", timeout=30000)
            first = page.locator("table.top-functions.diff tbody tr").first
            assert first.locator("td.function").inner_text() == "pyperf_spin_here"
            assert float(first.locator("td").nth(3).inner_text()) > 50          # self share, points more
            assert page.locator(".flame-legend .swatch").count() == 3
            assert not errors, errors
    finally:
        up.kill()
