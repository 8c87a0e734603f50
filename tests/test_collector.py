"""A probe that cannot attach is reported and skipped; the others keep running."""


from conftest import require_root
from fake_probes import KernelFreeProbe

from pyperf.errors import ProbeError
from pyperf.pipeline.collector import Collector
from pyperf.probes.base import ProbeOptions
from pyperf.probes.bpf_loader import compile_bpf
from pyperf.probes.disk import DiskProbe
from workloads import direct_io


class BrokenProbe(KernelFreeProbe):
    """Real bcc compilation that fails: the disk program without its BTF offsets."""

    name = "broken"
    description = "always fails to compile"

    def attach(self):
        bpf = compile_bpf("disk", ["-DOFF_RQ_Q=0"])  # the other offsets are missing
        bpf.cleanup()

    def drain(self, now):
        raise AssertionError("never attached")


class RecordingWriter:
    def __init__(self):
        self.batches = []

    def submit(self, batch):
        self.batches.append(batch)


def test_failing_probe_is_reported_and_others_run(tmp_path):
    require_root()
    writer = RecordingWriter()
    collector = Collector([BrokenProbe(), DiskProbe(ProbeOptions())], writer, 0.2)
    attached = collector.attach()
    try:
        assert [p.name for p in attached] == ["disk"]
        assert "probe disk: BPF compile/load failed" in collector.attach_errors["broken"]
        target = tmp_path / "data"
        target.write_bytes(b"\0" * (1 << 20))
        direct_io(str(target), 100, 100)
        collector.drain_once()
    finally:
        collector.detach()
    assert any("disk_io" in b for b in writer.batches)
    assert collector.intervals == 1


def test_compile_errors_are_probe_errors():
    require_root()
    try:
        compile_bpf("disk", [])
    except ProbeError as e:
        assert "BPF compile/load failed" in str(e)
    else:
        raise AssertionError("compiling without the BTF offsets must fail")


def test_a_stop_before_the_first_interval_still_keeps_what_was_counted(tmp_path):
    """SIGTERM while later probes are still attaching: the run ends at once, with
    one drain of what the attached probes already counted."""
    import threading

    require_root()
    writer = RecordingWriter()
    collector = Collector([DiskProbe(ProbeOptions())], writer, 60.0)
    collector.attach()
    try:
        target = tmp_path / "data"
        target.write_bytes(b"\0" * (1 << 20))
        direct_io(str(target), 100, 100)
        stop = threading.Event()
        stop.set()
        collector.run(stop)
    finally:
        collector.detach()
    assert collector.intervals == 1
    ios = sum(sum(b["disk_io"]["ios"]) for b in writer.batches if "disk_io" in b)
    assert ios >= 100
