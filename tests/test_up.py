"""`pyperf up`: API, metrics, a second instance refused, a clean stop, and the
page in a real headless Chromium whose charts move between two refreshes."""

import json
import os
import re
import shutil
import signal
import threading
import time
import urllib.request

import pytest
from conftest import PyperfProcess, chromium_page, require_root, run_pyperf
from workloads import direct_io, loop_device

def get(url: str, timeout: float = 10) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


@pytest.fixture
def running_up(tmp_path, store_dsn, free_port):
    """`pyperf up` on a loop device kept busy in the background."""
    require_root()
    stop = threading.Event()
    with loop_device(tmp_path) as dev:
        up = PyperfProcess("up", "--listen", f"127.0.0.1:{free_port}", "--slow-io-ms", "0.5",
                           store=store_dsn)

        def busy():
            while not stop.is_set():
                direct_io(dev, 50, 50)
                time.sleep(0.05)
        worker = threading.Thread(target=busy, daemon=True)
        try:
            up.wait_for("web UI on")
            worker.start()
            yield {"up": up, "base": f"http://127.0.0.1:{free_port}", "store": store_dsn,
                   "device": os.path.basename(dev), "port": free_port}
        finally:
            stop.set()
            if worker.is_alive():
                worker.join()
            up.kill()


def test_api_metrics_sql_and_clean_stop(running_up):
    base, device = running_up["base"], running_up["device"]
    time.sleep(2.5)
    status, body = get(f"{base}/api/status")
    info = json.loads(body)
    assert info["probes"]["disk"]["attached"] is True
    assert info["intervals"] >= 1

    _, series = get(f"{base}/api/disk/series?seconds=60")
    series = json.loads(series)
    assert device in series["devices"]
    assert max(v or 0 for v in series["devices"][device]["iops"]) > 0

    _, metrics = get(f"{base}/metrics")
    assert f'pyperf_disk_io_ios_total{{device="{device}",op="read"}}' in metrics
    assert f'pyperf_disk_io_latency_seconds_bucket{{device="{device}",le="+Inf",op="read"}}' in metrics
    # families generated from the column spec, one per exported table
    assert float(re.search(r"^pyperf_system_host_mem_total_bytes (\S+)$", metrics, re.M)[1]) > 0
    assert re.search(r'^pyperf_sched_cpu_context_switches_total\{cpu="0"\} [1-9]', metrics, re.M)
    assert re.search(r'^pyperf_system_host_tcp_states\{state="ESTABLISHED"\} \d', metrics, re.M)
    assert 'pyperf_probe_up{probe="disk"} 1.0' in metrics
    assert re.search(r'^pyperf_probe_missed_runs_total\{probe="disk"\} \d', metrics, re.M)
    assert re.search(r'^pyperf_probe_unseen_ios_total\{probe="disk"\} \d', metrics, re.M)
    assert re.search(r'^pyperf_probe_lost_starts_total\{probe="disk"\} 0', metrics, re.M)

    # `pyperf sql` reaches the store through the running instance
    out = run_pyperf("sql", f"SELECT sum(ios) FROM disk_io WHERE device = '{device}'",
                     "--format", "csv", store=running_up["store"], check=True)
    assert int(out.stdout.splitlines()[1]) > 0
    refused = run_pyperf("sql", "DROP TABLE disk_io", store=running_up["store"])
    assert refused.returncode == 3 and "query refused" in refused.stderr

    # a second `pyperf up` on the same store says clearly that one is running
    second = run_pyperf("up", "--listen", "127.0.0.1:1", store=running_up["store"])
    assert second.returncode == 4
    assert "already open by pyperf up" in second.stderr and "Traceback" not in second.stderr

    code, _, stderr = running_up["up"].stop(signal.SIGTERM)
    assert code == 0, stderr
    assert "flushing" in stderr
    # what was collected up to the stop is in the store
    after = run_pyperf("sql", "SELECT count() FROM disk_io", "--format", "csv",
                       store=running_up["store"], check=True)
    assert int(after.stdout.splitlines()[1]) > 0


def test_page_renders_and_charts_change_between_refreshes(running_up, tmp_path):
    with chromium_page() as (page, errors):
        page.goto(running_up["base"] + "/disk")
        assert page.title().startswith("Disk")
        chart = page.locator("#chart-iops")
        page.wait_for_function("document.querySelector('#chart-iops').dataset.lastTs", timeout=20000)
        # the tables of a live page are sent again after a flush or when 30 s old
        page.wait_for_selector(f"tr[data-device='{running_up['device']}']", timeout=45000)
        first_ts = chart.get_attribute("data-last-ts")
        first_data = page.evaluate("JSON.stringify(window.pyperfCharts.iops.data)")
        page.wait_for_function(
            f"document.querySelector('#chart-iops').dataset.lastTs !== '{first_ts}'", timeout=20000)
        second_data = page.evaluate("JSON.stringify(window.pyperfCharts.iops.data)")
        assert second_data != first_data
        assert page.locator("canvas").count() >= 5      # uPlot drew all five charts
        page.wait_for_function("Number(document.querySelector('#chart-latency').dataset.cells || 0) > 0",
                               timeout=20000)           # the latency heatmap has cells
        assert page.locator("table.slow tbody tr").count() >= 1
        page.screenshot(path=str(tmp_path / "dashboard.png"))
        shutil.copy(tmp_path / "dashboard.png", "/tmp/pyperf-dashboard.png")
        assert not errors, errors


def test_pages_draw_and_keep_the_range_in_the_url(running_up):
    with chromium_page() as (page, errors):
        page.goto(running_up["base"] + "/")                      # the landing page: Overview
        page.wait_for_url("**/overview")
        page.wait_for_function("(document.querySelector('[data-tile=CPU]') || {dataset: {}}).dataset.level"
                               " in {ok: 1, warn: 1, over: 1}", timeout=30000)
        assert page.locator(".tiles .tile").count() == 5          # the performance score, then the four resources
        assert page.locator(".tiles .tile").first.get_attribute("data-tile") == "Performance score"
        page.goto(running_up["base"] + "/cpu")                   # live: refreshed every second
        assert page.title().startswith("CPU")
        assert page.locator("nav.pages a[aria-current=page]").inner_text() == "CPU & scheduler"
        # the heatmap has cells once real scheduler rows are in the agent's window
        page.wait_for_function("Number(document.querySelector('#chart-runq').dataset.cells || 0) > 0",
                               timeout=30000)
        page.wait_for_selector("table.waiters tbody tr", timeout=30000)   # stored rows: may lag a minute
        asked = []
        page.on("request", lambda r: asked.append(r.url) if "/cpu/data" in r.url else None)
        first = page.locator("#chart-switches").get_attribute("data-last-ts")
        page.wait_for_function(
            f"document.querySelector('#chart-switches').dataset.lastTs !== '{first}'", timeout=20000)
        # refreshes ask only for what is newer, and the chart keeps what it had
        assert any("since=1" in url for url in asked), asked
        held = int(page.locator("#chart-switches").get_attribute("data-points"))
        page.wait_for_timeout(2500)
        assert int(page.locator("#chart-switches").get_attribute("data-points")) > held
        assert page.locator("#chart-busy canvas").count() == 1
        # a range is a link: the URL carries it, a reload keeps it, the navigation passes it on
        page.click(".range-picker a:text-is('1h')")
        page.wait_for_url("**/cpu?*range=1h*")
        page.reload()
        page.wait_for_function("Number(document.querySelector('#chart-runq').dataset.cells || 0) > 0",
                               timeout=30000)
        assert "range=1h" in page.locator("nav.pages a:text-is('Disk')").get_attribute("href")
        page.click("nav.pages a:text-is('Memory')")                 # the next page, same range
        page.wait_for_url("**/memory?*range=1h*")
        page.wait_for_function("document.querySelector('#chart-memory').dataset.lastTs", timeout=30000)
        assert page.locator(".charts canvas").count() == 4
        # the units come from the column spec (memory in bytes, faults a count per second)
        shown = page.evaluate("[window.pyperfCharts.memory.series[1].value(null, 3 * 1024 ** 3),"
                              " window.pyperfCharts.faults.series[1].value(null, 250)]")
        assert shown == ["3.0 GB", "250/s"]
        page.click("nav.pages a:text-is('Network')")
        page.wait_for_url("**/network?*range=1h*")
        page.wait_for_function("document.querySelector('#chart-retransmits').dataset.lastTs", timeout=30000)
        assert page.locator("table.peers").count() == 1
        page.click("nav.pages a:text-is('Response time')")
        page.wait_for_url("**/response?*range=1h*")
        page.wait_for_selector("table.servers tbody tr", timeout=30000)
        assert page.locator("#chart-p99 canvas").count() == 1
        page.click("nav.pages a:text-is('SQL')")
        page.fill("#sql-text", "SELECT count() AS n FROM system.tables WHERE database = currentDatabase()")
        page.click("#sql-run")
        page.wait_for_selector("table.sql-result td", timeout=20000)
        assert int(page.locator("table.sql-result td").first.inner_text()) > 10
        # keyboard: the first Tab offers to skip the navigation, the next ones reach its links
        page.goto(running_up["base"] + "/cpu?range=1h")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('nav.pages') !== null")
        page.keyboard.press("Enter")                            # the focused link (the second: Disk) is followed
        page.wait_for_url("**/disk?*range=1h*")
        page.go_back()
        page.emulate_media(color_scheme="dark")                 # the system's dark setting is followed
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 24, 39)"
        page.emulate_media(color_scheme="light")
        page.set_viewport_size({"width": 380, "height": 800})   # a phone's width: no overflow
        page.wait_for_timeout(300)                              # charts follow the resize
        wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e =>
            e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('table'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide
        assert not errors, errors


def test_live_views_do_not_make_the_store_write(tmp_path, store_dsn, free_port):
    """The dashboard's once-a-second refresh reads the live window: refreshes leave
    the writer's flush count alone and still show each new interval."""
    require_root()
    with loop_device(tmp_path) as dev:
        up = PyperfProcess("up", "--probes", "disk", "--listen", f"127.0.0.1:{free_port}", "--slow-io-ms", "0.001",
                           "--flush-interval", "10m", "--cpu-budget", "0", store=store_dsn)
        try:
            up.wait_for("web UI on")
            base = f"http://127.0.0.1:{free_port}"

            def intervals() -> int:
                return json.loads(get(f"{base}/api/status")[1])["intervals"]

            def next_interval(after: int) -> int:
                while (now := intervals()) <= after:
                    time.sleep(0.1)
                return now

            done = next_interval(0)
            flushes = json.loads(get(f"{base}/api/status")[1])["writer"]["flushes"]
            seen = []
            for _ in range(4):
                direct_io(dev, 20, 20)
                done = next_interval(next_interval(done))     # an interval that began after the I/O ended
                request = urllib.request.Request(f"{base}/disk/data?range=live", headers={"HX-Request": "true"})
                with urllib.request.urlopen(request, timeout=10) as r:
                    assert r.status == 200
                series = json.loads(get(f"{base}/api/disk/series?seconds=60")[1])
                seen.append(sum(v or 0 for v in series["devices"][os.path.basename(dev)]["iops"]))
            status = json.loads(get(f"{base}/api/status")[1])
            assert status["writer"]["flushes"] == flushes
            assert seen == sorted(seen) and seen[-1] > seen[0], seen     # new I/O shows up every refresh
            # the host's own disk is busy too: ask for the loop device's (the engine filters, not a page of 1000)
            slow = json.loads(get(f"{base}/api/disk/slow?limit=1000&device={os.path.basename(dev)}")[1])
            assert {r["device"] for r in slow} == {os.path.basename(dev)}
            assert len(slow) >= 4 * 40, len(slow)  # all slower than 1 µs
        finally:
            up.kill()


def test_settings_apply_now_and_at_the_next_start(store_dsn, free_port):
    """The Settings form changes the running agent (its status says so), and the
    next `pyperf up` on the store starts from it unless a flag says otherwise."""
    require_root()
    base = f"http://127.0.0.1:{free_port}"

    def status() -> dict:
        return json.loads(get(f"{base}/api/status")[1])

    def start(*flags):
        up = PyperfProcess("up", "--probes", "sched,disk", "--listen", f"127.0.0.1:{free_port}", *flags,
                           store=store_dsn)
        up.wait_for("web UI on")
        return up

    up = start()
    try:
        with chromium_page() as (page, errors):
            page.goto(f"{base}/settings")
            page.fill("input[name=interval_s]", "2")
            page.uncheck("input[name=probes][value=disk]")
            page.fill("input[name=host_cpu_pct]", "95")
            page.click("button[type=submit]")
            page.wait_for_selector("p.saved")
            assert "interval_s: applied" in page.inner_text("p.saved")
            assert page.input_value("input[name=host_cpu_pct]") == "95"
            assert not errors, errors
        info = status()
        assert info["interval_s"] == 2.0
        assert info["probes"]["sched"]["attached"] and "disk" not in info["probes"]
        assert up.stop()[0] == 0
        up = start()
        assert any("settings kept in the store" in line for line in up.stderr_lines)
        info = status()
        # the interval and threshold kept; --probes was given again, and a flag wins
        assert info["interval_s"] == 2.0 and info["probes"]["disk"]["attached"]
        assert 'value="95"' in get(f"{base}/settings")[1]
        assert up.stop()[0] == 0
        up = start("--interval", "1s")                  # a flag wins over what was kept
        assert status()["interval_s"] == 1.0
    finally:
        up.kill()
