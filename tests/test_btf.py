"""Struct offsets from BTF, proven by a BPF program that reads through them."""

import os
import struct
from pathlib import Path

import pytest
from conftest import require_root

from pyperf.kernel.btf import BTF, BTFError, kernel_btf, offset_cflags, release_kernel_btf


def test_bpf_reads_own_pid_tgid_and_mount_namespace_through_btf_offsets():
    require_root()
    from bcc import BPF

    cflags = offset_cflags({
        "OFF_TASK_PID": ("task_struct", "pid"),
        "OFF_TASK_TGID": ("task_struct", "tgid"),
        "OFF_TASK_NSPROXY": ("task_struct", "nsproxy"),
        "OFF_NSPROXY_MNT_NS": ("nsproxy", "mnt_ns"),
        "OFF_MNT_NS_INUM": ("mnt_namespace", "ns.inum"),   # nested member
    }) + [f"-DTARGET_TGID={os.getpid()}", "-Wno-macro-redefined"]
    bpf = BPF(src_file=str(Path(__file__).parent / "bpf" / "task_ids.bpf.c").encode(), cflags=cflags)
    try:
        os.getppid()
        ids = bpf[b"result"][0]
    finally:
        bpf.cleanup()
    assert ids.seen == 1
    # pytest runs tests in the main thread, whose tid is the process id
    assert ids.pid == os.getpid()
    assert ids.tgid == os.getpid()
    assert ids.mnt_ns_inum == os.stat("/proc/self/ns/mnt").st_ino


def test_the_task_key_read_through_btf_is_the_kernels_in_a_cgroup_of_its_own():
    """bpf/common.h's cgroup_id_of() reads what bpf_get_current_cgroup_id() returns
    (the probes use it for that helper's ~24 ns a call): a child moved into a new
    cgroup v2 group sees that group's id (its directory's inode) both ways, and its
    mount namespace."""
    require_root()
    from bcc import BPF

    from pyperf.containers.resolver import cgroup2_mount
    from pyperf.probes.bpf_loader import full_cflags
    from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS

    root = cgroup2_mount()
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    group = Path(root) / f"pyperf-test-{os.getpid()}"
    group.mkdir()
    inode = group.stat().st_ino
    read, write = os.pipe()
    go_r, go_w = os.pipe()
    child = os.fork()
    if child == 0:                        # moves itself, waits for the program, makes one syscall
        try:
            (group / "cgroup.procs").write_text(str(os.getpid()))
            os.write(write, b"1")
            os.read(go_r, 1)
            os.getppid()
        finally:
            os._exit(0)
    try:
        assert os.read(read, 1) == b"1"
        cflags = full_cflags(offset_cflags(TASK_KEY_OFFSETS) + [f"-DTARGET_TGID={child}"])
        bpf = BPF(src_file=str(Path(__file__).parent / "bpf" / "task_key.bpf.c").encode(), cflags=cflags)
        try:
            os.write(go_w, b"1")
            os.waitpid(child, 0)
            child = 0
            key = bpf[b"result"][0]
        finally:
            bpf.cleanup()
    finally:
        if child:
            os.kill(child, 9)
            os.waitpid(child, 0)
        group.rmdir()
    assert key.seen == 1
    assert (key.cgroup_id, key.helper_cgroup_id) == (inode, inode)
    assert key.mnt_ns == os.stat("/proc/self/ns/mnt").st_ino


def test_missing_struct_and_member_give_clear_errors():
    btf = kernel_btf()
    with pytest.raises(BTFError, match="struct no_such_struct not found"):
        btf.offsetof("no_such_struct", "x")
    with pytest.raises(BTFError, match="struct task_struct has no member 'no_such_member'"):
        btf.offsetof("task_struct", "no_such_member")
    with pytest.raises(BTFError, match=r"struct mnt_namespace.ns has no member 'nope'"):
        btf.offsetof("mnt_namespace", "ns.nope")


def test_unreadable_or_malformed_btf(tmp_path):
    with pytest.raises(BTFError, match="CONFIG_DEBUG_INFO_BTF"):
        BTF.from_file(str(tmp_path / "missing"))
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(BTFError, match="bad BTF magic"):
        BTF.from_file(str(bad))


def _btf_blob(types: list[bytes], strings: bytes) -> bytes:
    type_sec = b"".join(types)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(type_sec), len(type_sec), len(strings))
    return header + type_sec + strings


def test_anonymous_unions_nested_structs_and_typedefs_from_a_handmade_blob():
    # struct inner { int a; int b; };  typedef struct inner inner_t;
    # struct outer { long x; union { int u1; const inner_t in; }; inner_t named; };
    strings = b"\0int\0inner\0a\0b\0inner_t\0outer\0x\0u1\0in\0named\0long\0"
    off = {name: strings.index(name.encode() + b"\0") for name in
           ("int", "inner", "a", "b", "inner_t", "outer", "x", "u1", "in", "named", "long")}

    def t(name, kind, vlen, size_or_type, kind_flag=0):
        return struct.pack("<III", off[name] if name else 0, kind << 24 | vlen | kind_flag << 31, size_or_type)

    def m(name, type_id, bits):
        return struct.pack("<III", off[name], type_id, bits)

    types = [
        t("int", 1, 0, 4) + struct.pack("<I", 32),                        # 1 int
        t("inner", 4, 2, 8) + m("a", 1, 0) + m("b", 1, 32),               # 2 struct inner
        t("inner_t", 8, 0, 2),                                            # 3 typedef
        t(None, 10, 0, 3),                                                # 4 const inner_t
        t(None, 5, 2, 8) + m("u1", 1, 0) + m("in", 4, 0),                 # 5 anonymous union
        t("long", 1, 0, 8) + struct.pack("<I", 64),                       # 6 long
        t("outer", 4, 3, 24) + m("x", 6, 0) + struct.pack("<III", 0, 5, 64) + m("named", 3, 128),  # 7
    ]
    btf = BTF(_btf_blob(types, strings))
    assert btf.offsetof("outer", "x") == 0
    assert btf.offsetof("outer", "u1") == 8            # found through the anonymous union
    assert btf.offsetof("outer", "in.b") == 12         # anonymous union -> const typedef -> struct
    assert btf.offsetof("outer", "named.b") == 20
    assert btf.struct_size("outer") == 24
    assert not btf.has_member("outer", "named.c")


def test_offsets_survive_the_release_of_the_parsed_btf():
    fields = {"OFF_TASK_TGID": ("task_struct", "tgid"), "OFF_MNT_NS_INUM": ("mnt_namespace", "ns.inum")}
    before = offset_cflags(fields)
    parsed = kernel_btf()
    release_kernel_btf()
    assert offset_cflags(fields) == before          # remembered, no parse
    assert kernel_btf() is not parsed               # anything else reads the file again
    assert kernel_btf().offsetof("task_struct", "tgid") == parsed.offsetof("task_struct", "tgid")


def _raw_tracepoints_in_bpf() -> dict[str, int]:
    """{raw tracepoint: arguments its programs read, up to the last} over bpf/."""
    import re

    read: dict[str, int] = {}
    for source in sorted((Path(__file__).resolve().parent.parent / "bpf").glob("*.c")):
        text = source.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"RAW_TRACEPOINT_PROBE\((\w+)\)", text)]
        for i, (start, name) in enumerate(starts):
            body = text[start:starts[i + 1][0] if i + 1 < len(starts) else len(text)]
            used = [int(n) + 1 for n in re.findall(r"ctx->args\[(\d+)\]", body)]
            read[name] = max(read.get(name, 0), max(used, default=0))
    return read


def test_every_raw_tracepoint_in_bpf_is_listed_with_the_arguments_it_reads():
    from pyperf.kernel.tracepoints import RAW_TRACEPOINT_ARGS

    in_bpf = _raw_tracepoints_in_bpf()
    assert "sched_switch" in in_bpf and in_bpf["block_rq_complete"] == 3     # the parse finds them
    assert in_bpf == {name: len(args) for name, args in RAW_TRACEPOINT_ARGS.items()}


def test_the_running_kernel_passes_the_arguments_bpf_reads():
    require_root()          # (the kernel tier: where the probes load)
    from pyperf.kernel.btf import kernel_tracepoint_args
    from pyperf.kernel.tracepoints import RAW_TRACEPOINT_ARGS, mismatches

    assert kernel_tracepoint_args("sched_switch") == (
        "bool", "struct task_struct *", "struct task_struct *", "unsigned int")
    assert kernel_tracepoint_args("no_such_tracepoint") is None
    assert mismatches(RAW_TRACEPOINT_ARGS) == []


def test_a_program_whose_tracepoint_arguments_moved_is_refused_and_detached(monkeypatch):
    """As a kernel that moved an argument would look: the list says the program
    reads another type there. The load fails with one line naming both
    prototypes, and nothing stays attached."""
    require_root()
    from pyperf.containers.watcher import cgroup_cflags
    from pyperf.errors import ProbeError
    from pyperf.kernel import tracepoints
    from pyperf.probes.bpf_loader import compile_bpf

    cflags = cgroup_cflags()
    compile_bpf("containers", cflags).cleanup()          # as listed: loads
    fds = len(os.listdir("/proc/self/fd"))
    monkeypatch.setitem(tracepoints.RAW_TRACEPOINT_ARGS, "sched_process_exec", ("int",))
    with pytest.raises(ProbeError, match=r"^probe containers: this kernel's tracepoint sched_process_exec takes "
                                         r"\(struct task_struct \*, pid_t, struct linux_binprm \*\), the program "
                                         r"reads \(int\)"):
        compile_bpf("containers", cflags)
    assert len(os.listdir("/proc/self/fd")) == fds
    monkeypatch.delitem(tracepoints.RAW_TRACEPOINT_ARGS, "sched_process_exec")
    with pytest.raises(ProbeError, match="raw tracepoint sched_process_exec is not in pyperf/kernel/tracepoints.py"):
        compile_bpf("containers", cflags)
