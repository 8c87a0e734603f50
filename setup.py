"""Copies the run-time data folders (bpf/, sql/, web/, packaging/) into the
wheel as pyperf/_data/, so an installed pyperf finds them without a checkout;
the web UI's front-end assets are fetched first (scripts/vendor_assets.py:
npm, by the lockfile) when the tree does not have them yet."""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
DATA = {"bpf": None, "sql": None, "web": ("node_modules", "package-lock.json"), "packaging": None}


def _vendor_assets() -> None:
    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "scripts" / "vendor_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.vendor(ROOT)


class BuildPyWithData(build_py):
    def run(self):
        _vendor_assets()
        super().run()
        target = Path(self.build_lib) / "pyperf" / "_data"
        for folder, ignored in DATA.items():
            dest = target / folder
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(ROOT / folder, dest, ignore=shutil.ignore_patterns(*(ignored or ())))


setup(cmdclass={"build_py": BuildPyWithData})
