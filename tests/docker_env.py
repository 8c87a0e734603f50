"""Offline test images for real Docker: a busybox-static root filesystem
imported as a base image, then `docker build` (classic builder, no network)
for anything layered on top. scripts/test.sh starts dockerd."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

BASE_IMAGE = "pyperf-test-base:1"
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "sleep", "cat", "ls", "dd", "head", "true", "mkdir", "rm", "wc")


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def busybox_path() -> str:
    for candidate in (BUSYBOX, "/usr/bin/busybox"):
        if Path(candidate).exists():
            return candidate
    raise FileNotFoundError("busybox-static is not installed (scripts/install.sh --test)")


def ensure_base_image() -> str:
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode == 0:
        return BASE_IMAGE
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(busybox_path(), arcname="bin/busybox")
            for applet in APPLETS:
                info = tarfile.TarInfo(f"bin/{applet}")
                info.type = tarfile.SYMTYPE
                info.linkname = "busybox"
                tar.addfile(info)
            for folder in ("tmp", "proc", "sys", "dev", "etc"):
                info = tarfile.TarInfo(folder)
                info.type = tarfile.DIRTYPE
                info.mode = 0o1777 if folder == "tmp" else 0o755
                tar.addfile(info)
        subprocess.run(["docker", "import", str(archive), BASE_IMAGE], check=True, capture_output=True)
    return BASE_IMAGE


def run_container(name: str, *command: str, extra: tuple[str, ...] = (), image: str | None = None) -> str:
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    return subprocess.run(["docker", "run", "-d", "--name", name, *extra, image or ensure_base_image(), *command],
                          check=True, capture_output=True, text=True).stdout.strip()


def container_pid(name: str) -> int:
    return int(subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", name],
                              check=True, capture_output=True, text=True).stdout.strip())


def remove(*names: str) -> None:
    subprocess.run(["docker", "rm", "-f", *names], capture_output=True)


def build_image(tag: str, context: Path, dockerfile: str) -> str:
    """`docker build` with the classic builder (no network needed)."""
    (context / "Dockerfile").write_text(dockerfile)
    subprocess.run(["docker", "build", "-q", "-t", tag, str(context)], check=True, capture_output=True,
                   env={**__import__("os").environ, "DOCKER_BUILDKIT": "0"})
    return tag
