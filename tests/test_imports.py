"""Every module imports on its own, first, in a fresh interpreter: an import
cycle (a module that is only importable after another one) fails here rather
than in whichever test or command happens to import it first."""

import pkgutil
import subprocess
import sys

import pyperf


def test_every_module_imports_first_in_a_fresh_interpreter():
    modules = sorted(m.name for m in pkgutil.walk_packages(pyperf.__path__, "pyperf.")
                     if m.name != "pyperf.__main__")      # runs the command line
    assert "pyperf.containers.source" in modules and "pyperf.probes.registry" in modules
    # one interpreter per module, all running at once: a cycle shows only when its
    # module is the first one imported
    procs = {m: subprocess.Popen([sys.executable, "-c", f"import {m}"], stderr=subprocess.PIPE, text=True)
             for m in modules}
    failed = {m: p.communicate()[1].strip().splitlines()[-1:] for m, p in procs.items() if p.wait() != 0}
    assert not failed, failed
