"""After the probes are loaded the agent gives back the compiler's pages (clang
and LLVM code, read-only data, freed heap); the probes keep working and a later
compile still works (the pages come back from the page cache)."""

import time

from conftest import require_root

from pyperf.kernel.resident import clean_mappings
from pyperf.probes.bpf_loader import COMPILER_LIBRARIES, release_compiler_memory
from pyperf.probes.faults import FaultsProbe
from pyperf.probes.sched import SchedProbe


def compiler_rss_kb() -> int:
    return sum(rss for _, _, rss in clean_mappings(COMPILER_LIBRARIES))


def test_compiler_pages_are_released_and_compiling_again_works():
    require_root()
    sched = SchedProbe()
    sched.attach()
    faults = None
    try:
        before = compiler_rss_kb()
        assert before > 10_000                     # clang/LLVM pages touched by the compile
        dropped = release_compiler_memory()
        assert dropped >= before * 0.9
        assert compiler_rss_kb() < before * 0.1
        time.sleep(0.2)
        assert sum(sched.drain(time.time())["sched_cpu"]["context_switches"]) > 0   # still counting
        faults = FaultsProbe()
        faults.attach()                            # the compiler runs again from the page cache
        assert compiler_rss_kb() > 10_000
        faults.drain(time.time())
    finally:
        sched.detach()
        if faults is not None:
            faults.detach()


def test_a_probe_switched_on_later_gives_the_compilers_pages_back_too():
    require_root()
    from pyperf.pipeline.collector import Collector

    collector = Collector([SchedProbe()], writer=None)
    collector.attach()
    try:
        release_compiler_memory()
        sched = collector.probes[0]
        collector.switch_off(sched)
        collector.switch_on(sched)           # Settings or the governor: a compile while running
        assert sched in collector.probes
        assert compiler_rss_kb() < 10_000
    finally:
        collector.detach()
