"""Where the run-time data folders (bpf/, sql/, web/) are: next to the package
in a checkout, or inside it (pyperf/_data/) when installed from a wheel."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pyperf data folder '{name}' is missing from the installation")
