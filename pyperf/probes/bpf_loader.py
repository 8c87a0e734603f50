"""Compiles a bpf/<name>.bpf.c file with bcc, turning every failure into a
ProbeError that says how to fix it."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from pyperf.errors import ProbeError
from pyperf.kernel import host
from pyperf.kernel.btf import release_kernel_btf
from pyperf.kernel.resident import release_library_pages, trim_heap
from pyperf.kernel.tracepoints import mismatches
from pyperf.resources import data_dir


def bpf_path(name: str) -> Path:
    return data_dir("bpf") / f"{name}.bpf.c"


def bpf_text(name: str, parts=()) -> str:
    """What bcc compiles for bpf/<name>.bpf.c: the file after the parts it is built
    with (bpf/<part>.part.c). Code shared between programs (a rider's in its host,
    pyperf/probes/base.py) is joined as text, not #included: bcc rewrites map
    operations only in the text it compiles."""
    return "".join(f"{(data_dir('bpf') / f'{part}.part.c').read_text()}\n" for part in parts) + \
        bpf_path(name).read_text()


def full_cflags(cflags: list[str]) -> list[str]:
    # Warnings from the mismatched distribution headers are noise, not news.
    return [f"-I{data_dir('bpf')}", "-Wno-macro-redefined", "-Wno-unused-function",
            f"-DHASH_FLAGS={host.hash_map_flags()}", *cflags]


def require_bpf_privileges(name: str) -> None:
    missing = host.missing_capabilities(host.BPF_CAPABILITIES)
    if missing:
        raise ProbeError(f"probe {name}: loading BPF needs {' and '.join(missing)} (or CAP_SYS_ADMIN), which "
                         "this process lacks: run it as root, or add them to the service's CapabilityBoundingSet")


def compile_bpf(name: str, cflags: list[str], parts=()):
    """A loaded bcc.BPF object for bpf/<name>.bpf.c (after `parts`, see bpf_text)."""
    require_bpf_privileges(name)
    try:
        from bcc import BPF
    except ImportError:
        raise ProbeError(
            "bcc is not importable: run scripts/install.sh (it installs python3-bpfcc "
            "and exposes it to the virtualenv)"
        ) from None
    host.ensure_tracefs()
    text = bpf_text(name, parts)
    with captured_fd2() as diagnostics:
        try:
            bpf = BPF(text=text.encode(), cflags=full_cflags(cflags))
        except Exception as e:  # bcc raises plain Exception for compile/load errors
            failure = e
        else:
            return _arguments_checked(name, bpf)
    detail = first_error(diagnostics.getvalue()) or str(failure).strip().splitlines()[-1]
    hint = "" if host.headers_dir() else "; no kernel headers found: run scripts/install.sh"
    raise ProbeError(f"probe {name}: BPF compile/load failed: {detail}{hint}") from None


def _arguments_checked(name: str, bpf):
    """`bpf`, once its raw tracepoints' arguments in this kernel are those its
    programs read (kernel/tracepoints.py); else detached, and why."""
    problems = mismatches(tp.decode() for tp in bpf.raw_tracepoint_fds)
    if problems:
        bpf.cleanup()
        raise ProbeError(f"probe {name}: {problems[0]}")
    return bpf


def first_error(diagnostics: str) -> str:
    """The line that says what went wrong in clang's or the verifier's output."""
    lines = diagnostics.splitlines()
    for line in lines:
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    for marker in ("R", "invalid", "unknown", "Permission"):
        for line in reversed(lines):
            if line.startswith(marker) and ("expected" in line or "invalid" in line or "denied" in line):
                return line.strip()
    return ""


@contextlib.contextmanager
def captured_fd2():
    """libbcc writes compiler and verifier messages to file descriptor 2 itself."""
    out = io.StringIO()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            out.write(sink.read())


COMPILER_LIBRARIES = ("libLLVM", "libclang-cpp", "libclang.so")


def release_compiler_memory() -> int:
    """After every probe is loaded, give back what bcc's compiler (clang/LLVM) holds
    and will not use again until the next compile: the heap it left free (glibc
    keeps freed heap otherwise: ~70 MB) and its libraries' pages (~80 MB), which
    a later compile faults back in from the page cache; and the parsed kernel
    BTF the compiles' offsets came from. Returns the kB of library pages released."""
    release_kernel_btf()
    trim_heap()
    return release_library_pages(COMPILER_LIBRARIES)
