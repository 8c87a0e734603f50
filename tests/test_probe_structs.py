"""Every struct shared between a BPF program and user space has the same layout
on both sides: bcc builds a ctypes type from the C definition of a map's key
or value, and it must match the ctypes mirror the Python side declares."""

import ctypes

import pytest
from conftest import require_root

from pyperf.containers.watcher import NewNamespace
from pyperf.probes.disk import DiskContainerKey, DiskKey, SlowIOEvent
from pyperf.probes.faults import ProcessFaults
from pyperf.probes.layers import FileAccess, FileKey
from pyperf.probes.profile import SampleKey
from pyperf.probes.response import ResponseKey, ResponseStats
from pyperf.probes.sched import CpuSched, OffcpuKey, ProcessSched
from pyperf.probes.tcp import TcpCounters, TcpEvent, TcpProcess

CASES = [
    ("disk.h", "disk_slow_event", SlowIOEvent),
    ("disk.h", "disk_key", DiskKey),
    ("disk.h", "disk_container_key", DiskContainerKey),
    ("sched.h", "sched_process", ProcessSched),
    ("sched.h", "sched_cpu", CpuSched),
    ("sched.h", "offcpu_key", OffcpuKey),
    ("faults.h", "process_faults", ProcessFaults),
    ("tcp.h", "tcp_event", TcpEvent),
    ("tcp.h", "tcp_counters", TcpCounters),
    ("tcp.h", "tcp_process", TcpProcess),
    ("profile.h", "sample_key", SampleKey),
    ("response.h", "response_key", ResponseKey),
    ("response.h", "response_stats", ResponseStats),
    ("layers.h", "file_key", FileKey),
    ("layers.h", "file_access", FileAccess),
    ("containers.h", "new_namespace", NewNamespace),
]


@pytest.mark.parametrize("header, c_struct, py_type", CASES, ids=[c[1] for c in CASES])
def test_layout_matches_the_c_side(header, c_struct, py_type):
    require_root()
    from bcc import BPF

    from pyperf.resources import data_dir

    bpf = BPF(text=f'#include "{header}"\nBPF_ARRAY(probe_struct, struct {c_struct}, 1);'.encode(),
              cflags=[f"-I{data_dir('bpf')}"])
    try:
        c_type = bpf[b"probe_struct"].Leaf
    finally:
        bpf.cleanup()
    assert ctypes.sizeof(c_type) == ctypes.sizeof(py_type)
    for name, _ in py_type._fields_:
        assert getattr(c_type, name).offset == getattr(py_type, name).offset, name
