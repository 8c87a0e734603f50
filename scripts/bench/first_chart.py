"""Time from navigation to the first chart drawn, per dashboard page, in headless
Chromium against a running `pyperf up` (every default probe, idle host, the
live range). Baseline in the same run: the time to the browser's `load` event
of the same page (the HTML, CSS and vendored scripts, before any data); the
ratio shows what the data partial adds. Goal (issue 11): first chart < 1 s.

    sudo .venv/bin/python scripts/bench/first_chart.py [--settle 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from agent_idle import start_up
from common import stop

CHROMIUM = "/usr/bin/chromium"
PAGES = ("/overview", "/disk", "/cpu", "/memory", "/network", "/response")   # the pages with charts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settle", type=float, default=20.0, help="seconds of collection before measuring")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--port", type=int, default=18091)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        proc = start_up(f"chdb://{tmp}/store", args.port, "100")
        try:
            time.sleep(args.settle)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                print(f"{'page':<14}{'load ms':>9}{'first chart ms':>16}{'ratio':>7}{'of 1 s goal':>13}")
                for path in PAGES:
                    loads, charts = [], []
                    for _ in range(args.runs):
                        page.goto(f"http://127.0.0.1:{args.port}{path}")
                        page.wait_for_function("document.querySelector('.chart[data-last-ts]')", timeout=30000)
                        load, drawn = page.evaluate(
                            "[performance.getEntriesByType('navigation')[0].loadEventEnd,"
                            " performance.now()]")
                        loads.append(load)
                        charts.append(drawn)
                    load, drawn = statistics.median(loads), statistics.median(charts)
                    print(f"{path:<14}{load:>9.0f}{drawn:>16.0f}{drawn / load:>7.2f}{drawn / 1000:>13.2f}",
                          flush=True)
                browser.close()
        finally:
            stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
