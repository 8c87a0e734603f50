"""Compiles a bpf/<name>.bpf.c file with bcc, turning every failure into a
ProbeError that says how to fix it."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from pyperf.errors import ProbeError
from pyperf.kernel import host
from pyperf.resources import data_dir


def bpf_path(name: str) -> Path:
    return data_dir("bpf") / f"{name}.bpf.c"


def full_cflags(cflags: list[str]) -> list[str]:
    # Warnings from the mismatched distribution headers are noise, not news.
    return [f"-I{data_dir('bpf')}", "-Wno-macro-redefined", "-Wno-unused-function", *cflags]


def require_bpf_privileges(name: str) -> None:
    if os.geteuid() != 0:
        raise ProbeError(f"probe {name}: loading BPF needs root (run with sudo)")


def compile_bpf(name: str, cflags: list[str]):
    """A loaded bcc.BPF object for bpf/<name>.bpf.c."""
    require_bpf_privileges(name)
    try:
        from bcc import BPF
    except ImportError:
        raise ProbeError(
            "bcc is not importable: run scripts/install.sh (it installs python3-bpfcc "
            "and exposes it to the virtualenv)"
        ) from None
    host.ensure_tracefs()
    source = bpf_path(name)
    stderr = io.StringIO()
    try:
        # bcc prints compiler diagnostics on fd 2 itself; keep ours tidy.
        with contextlib.redirect_stderr(stderr):
            return BPF(src_file=str(source).encode(), cflags=full_cflags(cflags))
    except Exception as e:  # bcc raises plain Exception for compile/load errors
        detail = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        hint = ""
        if not host.headers_dir():
            hint = "; no kernel headers found: run scripts/install.sh"
        raise ProbeError(f"probe {name}: BPF compile/load failed: {detail}{hint}") from None
