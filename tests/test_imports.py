"""Every module imports on its own, first, in a fresh interpreter: an import
cycle (a module that is only importable after another one) fails here rather
than in whichever test or command happens to import it first."""

import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pyperf


def test_every_module_imports_first_in_a_fresh_interpreter():
    modules = sorted(m.name for m in pkgutil.walk_packages(pyperf.__path__, "pyperf.")
                     if m.name != "pyperf.__main__")      # runs the command line
    assert "pyperf.containers.source" in modules and "pyperf.probes.registry" in modules
    # one interpreter per module (a cycle shows only when its module is the first
    # one imported), a few at a time: each may load the engine and bcc
    def import_alone(module: str) -> tuple[str, subprocess.CompletedProcess]:
        return module, subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)

    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        failed = {m: done.stderr.strip().splitlines()[-1:] for m, done in pool.map(import_alone, modules)
                  if done.returncode != 0}
    assert not failed, failed
