"""The faults probe against the kernel's own per-process fault counters
(/proc/<pid>/stat minflt and majflt)."""

import mmap
import os
import time

import pytest
from conftest import require_root
from workloads import Child, drop_caches, fault_counts

from pyperf.pipeline.collector import Collector
from pyperf.probes.faults import FaultsProbe
from pyperf.probes.sched import SchedProbe

PAGE = mmap.PAGESIZE


@pytest.fixture(params=["alone", "riding on sched"])
def faults_probe(request):
    """The probe with its own switch and exit programs, and with the sched probe's
    settling its counters (as `pyperf up` runs them)."""
    require_root()
    if request.param == "alone":
        probe = FaultsProbe()
        probe.attach()
        yield probe
        probe.detach()
        return
    collector = Collector([SchedProbe(), FaultsProbe()], writer=None)
    collector.attach()
    sched, probe = collector.probes
    assert probe.riding and sched.hosting == ("faults",)
    yield probe
    collector.detach()


def measure(probe, work):
    child = Child(work)
    try:
        time.sleep(0.1)
        probe.drain(time.time())
        before = fault_counts(child.pid)
        child.run()
        time.sleep(0.1)
        after = fault_counts(child.pid)
        batch = probe.drain(time.time())
    finally:
        child.close()
    rows = batch.get("faults_process", {})
    mine = [i for i, p in enumerate(rows.get("pid", [])) if p == child.pid]
    ours = {k: sum(rows[k][i] for i in mine) for k in ("minor_faults", "major_faults",
                                                       "cache_lookups", "cache_added")}
    return ours, (after[0] - before[0], after[1] - before[1])


def test_minor_faults_of_fresh_anonymous_pages(faults_probe):
    pages = 20000

    def touch():
        region = mmap.mmap(-1, pages * PAGE)
        for i in range(pages):
            region[i * PAGE] = 1
    ours, (kernel_minor, kernel_major) = measure(faults_probe, touch)
    assert kernel_minor >= pages
    assert ours["minor_faults"] == pytest.approx(kernel_minor, rel=0.01)
    assert ours["major_faults"] == kernel_major


def test_major_faults_reading_an_mmapped_file_after_dropping_caches(faults_probe, tmp_path):
    path = "/var/tmp/pyperf-major-fault-test"          # a real disk, not tmpfs
    with open(path, "wb") as f:
        f.write(os.urandom(32 << 20))
        os.fsync(f.fileno())
    try:
        drop_caches()

        def read_mapped():
            with open(path, "rb") as f:
                region = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
                region.madvise(mmap.MADV_RANDOM)       # no readahead: one major fault per page read
                total = 0
                for i in range(0, len(region), PAGE * 4):
                    total += region[i]
        ours, (kernel_minor, kernel_major) = measure(faults_probe, read_mapped)
    finally:
        os.unlink(path)
    assert kernel_major >= 1000
    assert ours["major_faults"] == pytest.approx(kernel_major, rel=0.01)
    assert ours["minor_faults"] == pytest.approx(kernel_minor, rel=0.01, abs=5)
    assert ours["cache_added"] >= kernel_major          # every major fault brought a page in


def test_page_cache_lookups_and_hits(faults_probe):
    path = "/var/tmp/pyperf-page-cache-test"
    size = 16 << 20
    with open(path, "wb") as f:
        f.write(os.urandom(size))
        os.fsync(f.fileno())

    def read_all():
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    try:
        drop_caches()
        cold, _ = measure(faults_probe, read_all)
        warm, _ = measure(faults_probe, read_all)
    finally:
        os.unlink(path)
    pages = size // PAGE
    assert cold["cache_added"] >= pages * 0.95           # a cold read brings the file in
    assert warm["cache_lookups"] >= pages
    assert warm["cache_added"] <= pages * 0.01           # a warm read finds it all cached
    assert 1 - warm["cache_added"] / warm["cache_lookups"] > 0.99


def test_the_counting_moves_with_the_sched_probe_switched_off_and_on():
    """Faults settled in sched's program; sched switched off (Settings): the faults
    probe takes its own programs again; sched back on: back into sched's. Exact
    against the kernel's counts in each state, and one settling program per
    switch while both run."""
    require_root()
    collector = Collector([SchedProbe(), FaultsProbe()], writer=None)
    collector.attach()
    sched, faults = collector.probes
    pages = 5000

    def touch():
        region = mmap.mmap(-1, pages * PAGE)
        for i in range(pages):
            region[i * PAGE] = 1
    try:
        switch_programs = lambda p: sum(1 for name in p.bpf.funcs if b"sched_switch" in name)  # noqa: E731
        assert faults.riding and switch_programs(sched) == 1 and switch_programs(faults) == 0
        for state in ("sched off", "sched on again"):
            if state == "sched off":
                collector.switch_off(sched)
                assert not faults.riding and switch_programs(faults) == 1
            else:
                collector.switch_on(sched)
                assert faults.riding and switch_programs(faults) == 0 and sched.hosting == ("faults",)
            assert faults in collector.probes
            ours, (kernel_minor, _) = measure(faults, touch)
            assert kernel_minor >= pages, state
            assert ours["minor_faults"] == pytest.approx(kernel_minor, rel=0.01), state
    finally:
        collector.detach()
