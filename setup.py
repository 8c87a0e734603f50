"""Copies the run-time data folders (bpf/, sql/, web/) into the wheel as
pyperf/_data/, so an installed pyperf finds them without a checkout."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
DATA = {"bpf": None, "sql": None, "web": ("node_modules", "package-lock.json"), "packaging": None}


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "pyperf" / "_data"
        for folder, ignored in DATA.items():
            dest = target / folder
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(ROOT / folder, dest, ignore=shutil.ignore_patterns(*(ignored or ())))


setup(cmdclass={"build_py": BuildPyWithData})
