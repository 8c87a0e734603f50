"""The disk probe's count of completions it did not see, against a /proc/diskstats
fixture (the same comparison runs against the real kernel in test_disk_probe.py)."""

from pyperf.probes.disk import DiskProbe
from pyperf.system.procfs import ProcFS


def diskstats_line(major: int, minor: int, name: str, reads: int, writes: int) -> str:
    # major minor name reads merged sectors ms writes merged sectors ms in_flight io_ms weighted_ms ...
    return f"{major:4d} {minor:7d} {name} {reads} 0 0 0 {writes} 0 0 0 0 0 0 0 0 0 0 0 0\n"


def test_unseen_completions_are_counted_per_device_the_programs_see(tmp_path):
    probe = DiskProbe()
    probe._proc = ProcFS(str(tmp_path))
    stats = tmp_path / "diskstats"

    stats.write_text(diskstats_line(7, 0, "loop0", 100, 50) + diskstats_line(253, 0, "dm-0", 10, 10))
    probe._start_comparing()                                # as attach() does
    # 40 reads and 20 writes later the programs saw 57 of the 60; device mapper's
    # I/O (bio-based: no request the programs could see) is not counted as unseen
    stats.write_text(diskstats_line(7, 0, "loop0", 140, 70) + diskstats_line(253, 0, "dm-0", 500, 10)
                     + diskstats_line(7, 1, "loop1", 3, 0))
    probe._seen.update({"loop0": 57, "loop1": 3})
    probe._count_unseen(probe._kernel_completions())
    assert probe._unseen == {"loop0": 3, "loop1": 0}          # loop1 appeared after attach: from zero
    assert probe.totals()["unseen_ios"] == 3

    # a device whose counters went back (detached and attached again) reports none, not a negative count
    stats.write_text(diskstats_line(7, 0, "loop0", 1, 0))
    probe._count_unseen(probe._kernel_completions())
    assert probe._unseen["loop0"] == 0 and probe.totals()["unseen_ios"] == 0

    # the probe switched off and on: compared from the new attachment, the total keeps what was counted
    stats.write_text(diskstats_line(7, 0, "loop0", 140, 70))
    probe._count_unseen(probe._kernel_completions())
    probe._start_comparing()
    stats.write_text(diskstats_line(7, 0, "loop0", 150, 70))
    probe._seen.update({"loop0": 8})
    probe._count_unseen(probe._kernel_completions())
    assert probe._unseen == {"loop0": 2} and probe.totals()["unseen_ios"] == 3 + 2
    probe._proc.close()


def test_without_a_readable_diskstats_nothing_is_called_unseen(tmp_path):
    probe = DiskProbe()
    probe._proc = ProcFS(str(tmp_path))                 # no diskstats here
    probe._seen.update({"vda": 10})
    probe._count_unseen(probe._kernel_completions())
    assert probe._unseen == {} and probe.totals()["unseen_ios"] == 0
