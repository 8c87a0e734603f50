"""Files of a layer directory with the identity the kernel reports for them
(device, inode), following overlay semantics: whiteouts (character devices
0:0) hide lower files, opaque directories (xattr trusted.overlay.opaque=y)
hide everything below them. Lower layers never change: they are indexed once
and cached; the writable layer is walked again on every request."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass


@dataclass(frozen=True)
class LayerFile:
    path: str         # path inside the container, starting with "/"
    kind: str         # "file", "whiteout" or "opaque"
    dev: int          # kernel dev_t (major << 20 | minor), as filemap tracepoints report it
    inode: int
    size: int


def kernel_dev(st_dev: int) -> int:
    return (os.major(st_dev) << 20) | os.minor(st_dev)


def is_opaque(path: str) -> bool:
    for attr in ("trusted.overlay.opaque", "user.overlay.opaque"):
        try:
            if os.getxattr(path, attr, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def index_layer(root: str) -> list[LayerFile]:
    files = []
    for directory, dirnames, filenames in os.walk(root):
        relative_dir = "/" + os.path.relpath(directory, root) if directory != root else ""
        if relative_dir and is_opaque(directory):
            st = os.lstat(directory)
            files.append(LayerFile(relative_dir, "opaque", kernel_dev(st.st_dev), st.st_ino, 0))
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            full = os.path.join(directory, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            path = f"{relative_dir}/{name}"
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                files.append(LayerFile(path, "whiteout", kernel_dev(st.st_dev), st.st_ino, 0))
            elif stat.S_ISREG(st.st_mode):
                files.append(LayerFile(path, "file", kernel_dev(st.st_dev), st.st_ino, st.st_size))
    return files


class LayerIndex:
    def __init__(self):
        self._lower: dict[str, list[LayerFile]] = {}

    def files(self, layer_path: str, writable: bool) -> list[LayerFile]:
        if writable:
            return index_layer(layer_path)
        cached = self._lower.get(layer_path)
        if cached is None:
            cached = self._lower[layer_path] = index_layer(layer_path)
        return cached
