"""One process at a time may open an embedded store: this lock says who has it."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from pyperf.errors import StoreBusyError, StoreError


def lock_path(store_path: str) -> Path:
    return Path(store_path + ".lock")


def holder(store_path: str) -> dict | None:
    """Who holds the store ({pid, command, listen}), or None when it is free."""
    path = lock_path(store_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return json.loads(path.read_text() or "{}")
            except (OSError, ValueError):
                return {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class StoreLock:
    def __init__(self, store_path: str, command: str, listen: str | None = None):
        self.path = lock_path(store_path)
        self.store_path = store_path
        self.info = {"pid": os.getpid(), "command": command, "listen": listen}
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StoreError(f"cannot use store {self.store_path}: {e.strerror} ({e.filename})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            other = holder(self.store_path) or {}
            who = f"pyperf {other.get('command', '?')} (pid {other.get('pid', '?')})"
            where = f", serving http://{other['listen']}" if other.get("listen") else ""
            raise StoreBusyError(
                f"store {self.store_path} is already open by {who}{where}; "
                "stop it first or use another --store"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(self.info).encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
