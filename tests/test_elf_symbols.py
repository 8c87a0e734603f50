"""User frames are named from each mapped file's own symbols, read once per file:
the same names bcc gives (or an alias at the same address), C++ demangled,
symbol versions dropped, static functions from .symtab, libc's from its
separate debug file found by build id, the vDSO's from the agent's own copy."""

import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import require_root

from pyperf.probes.elf_symbols import ElfSymbols, demangle
from pyperf.probes.process_table import ExitScan
from pyperf.probes.stacks import VDSO, ProcessMaps, StackSymbolizer

SYMBOLS_CPP = Path(__file__).parent / "programs" / "symbols.cpp"


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    out = tmp_path_factory.mktemp("bin") / "pyperf-symbols"
    subprocess.run(["g++", "-O1", "-o", str(out), str(SYMBOLS_CPP)], check=True)
    return str(out)


def load_segments(path: str) -> list[tuple[int, int, int]]:
    """(file offset, address, size) of each PT_LOAD, from readelf."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True).stdout
    return [(int(m[1], 16), int(m[2], 16), int(m[3], 16))
            for m in re.finditer(r"LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)", out)]


def nm_functions(path: str, types: str = "tTi") -> dict[str, set[int]]:
    """name -> addresses of the defined functions nm sees in a file (one name, without
    its symbol version, can have several)."""
    args = ["nm", "--defined-only", "-C", path]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    names = {}
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in types:
            names.setdefault(parts[2].split("@")[0], set()).add(int(parts[0], 16))
    return names


def test_every_function_is_named_by_file_offset(binary):
    symbols = ElfSymbols(binary)
    segments = load_segments(binary)
    functions = nm_functions(binary)
    assert {"pyperf_ns::Widget::spin(long)", "pyperf_static_helper(long)", "pyperf_exported", "main"} <= set(functions)
    for name, (address,) in functions.items():
        offset = next(o + address - v for o, v, size in segments if v <= address < v + size)
        assert symbols.name_at(offset) == name
        assert symbols.name_at(offset + 1) in (name, None)      # one-byte functions end there


def test_names_are_shown_as_bcc_and_perf_show_them():
    assert demangle(b"_ZN9pyperf_ns6Widget4spinEl") == "pyperf_ns::Widget::spin(long)"
    assert demangle(b"memcpy@@GLIBC_2.14") == "memcpy"
    assert demangle(b"pthread_create@GLIBC_2.2.5") == "pthread_create"
    assert demangle(b"_Znot_a_mangled_name") == "_Znot_a_mangled_name"


def test_a_file_that_is_not_elf_is_refused(tmp_path):
    from pyperf.probes.elf_symbols import UnsupportedBinary

    junk = tmp_path / "junk"
    junk.write_bytes(b"#!/bin/sh\necho hostile\n" * 10)
    with pytest.raises(UnsupportedBinary):
        ElfSymbols(str(junk))


def test_agrees_with_bcc_in_a_running_process(binary):
    """Every address bcc names in the program and its libraries is named here too,
    by the same name or an alias at the same address (nm of the file and of its
    debug file)."""
    require_root()
    from bcc import BPF

    proc = subprocess.Popen([binary])
    try:
        time.sleep(0.3)
        symbolizer = StackSymbolizer(None, b"unused")
        checked, vdso_names = 0, set()
        for start, end, _offset, key in ProcessMaps(proc.pid).mappings:
            if key == VDSO:               # bcc does not name these; the vDSO's own symbols do
                vdso_names = {symbolizer._symbol(a, proc.pid) for a in range(start, end, 4)}
                continue
            path = Path(f"/proc/{proc.pid}/map_files/{start:x}-{end:x}").resolve()
            aliases = nm_functions(str(path), "tTiWV")      # weak aliases too: freelocale = __freelocale
            build_id = re.search(r"Build ID: ([0-9a-f]+)",
                                 subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True).stdout)
            if build_id:
                debug = Path(f"/usr/lib/debug/.build-id/{build_id[1][:2]}/{build_id[1][2:]}.debug")
                if debug.exists():
                    for name, addresses in nm_functions(str(debug), "tTiWV").items():
                        aliases.setdefault(name, set()).update(addresses)
            stride = 1 if str(path) == binary else 61
            for address in range(start, end, stride):
                raw = BPF.sym(address, proc.pid)
                if not raw or raw == b"[unknown]":
                    continue
                theirs, ours = raw.decode().split("@")[0], symbolizer._symbol(address, proc.pid)
                assert ours == theirs or aliases.get(ours, set()) & aliases.get(theirs, set()), \
                    (hex(address), ours, theirs)
                checked += 1
        assert checked > 1000
        assert {"__vdso_clock_gettime", "__vdso_gettimeofday"} & vdso_names
    finally:
        proc.kill()
        proc.wait()


def test_nothing_is_kept_for_processes_gone_before_their_maps_were_read(monkeypatch):
    """A process that exits before its first drain (a busy host starts hundreds a
    second) is named "[unknown]" without asking bcc (which would build a symbol
    cache for the pid only to find nothing), and leaves no state behind once
    forget_exited() looks (every ExitScan.EVERY drains on a host this quiet)."""
    import bcc

    asked = []
    monkeypatch.setattr(bcc.BPF, "sym", staticmethod(lambda address, pid, *a, **k: asked.append(pid)))
    proc = subprocess.Popen(["true"])
    proc.wait()                                   # gone: its /proc entry too
    symbolizer = StackSymbolizer(None, b"unused")
    assert symbolizer._symbol(0x401000, proc.pid) == "[unknown]" and asked == []
    for _ in range(ExitScan.EVERY - 1):
        symbolizer.forget_exited()
    assert proc.pid in symbolizer._reread_at          # not looked yet: /proc is listed every few drains
    symbolizer.forget_exited()
    assert not symbolizer._reread_at and not symbolizer._backoff and not symbolizer._maps


def test_a_host_starting_processes_fast_is_scanned_every_drain(monkeypatch):
    """Where more than ExitScan.GROWN new processes are seen in a drain, the dead
    are forgotten at that drain, not carried for ExitScan.EVERY."""
    import bcc

    monkeypatch.setattr(bcc.BPF, "sym", staticmethod(lambda *a, **k: None))
    symbolizer = StackSymbolizer(None, b"unused")
    never = range(1 << 22, (1 << 22) + ExitScan.GROWN)      # above any pid_max: no such process
    for pid in never:
        symbolizer._symbol(0x401000, pid)
    symbolizer.forget_exited()
    assert not symbolizer._reread_at and not symbolizer._maps
    symbolizer._symbol(0x401000, never[0])
    symbolizer.forget_exited()                                # one new: not looked at before its time
    assert list(symbolizer._reread_at) == [never[0]]


def test_a_file_is_not_written_off_because_its_process_exited_first(binary):
    """A process that exits between the read of its maps and the read of a file it
    maps (a short-lived process, a drain that runs late) leaves that file unnamed
    for this process only: the next process that maps it is named from it."""
    require_root()
    main_at = next(iter(nm_functions(binary)["main"]))
    symbolizer = StackSymbolizer(None, b"unused")

    def main_address(pid: int) -> int:
        maps = ProcessMaps(pid)
        symbolizer._maps[pid] = maps           # as a drain leaves them
        for start, _end, offset, _key in maps.mappings:
            for file_offset, vaddr, size in load_segments(binary):
                if file_offset == offset and vaddr <= main_at < vaddr + size:
                    return start + main_at - vaddr
        raise AssertionError("main is not in an executable mapping")

    gone = subprocess.Popen([binary])
    time.sleep(0.3)
    address = main_address(gone.pid)
    gone.kill()
    gone.wait()
    assert symbolizer._user_symbol(address, gone.pid) is None     # bcc's turn, as for any unread file
    alive = subprocess.Popen([binary])
    try:
        time.sleep(0.3)
        assert symbolizer._user_symbol(main_address(alive.pid), alive.pid) == "main"
    finally:
        alive.kill()
        alive.wait()
