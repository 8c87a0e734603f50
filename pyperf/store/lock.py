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
    return holder_of(lock_path(store_path))


def holder_of(path: Path) -> dict | None:
    """Who holds the lock file `path` ({pid, command, listen}), or None when it is free."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
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


class FileLock:
    """One process at a time: an exclusive flock on `path`, which names its holder.
    Busy: "<what> is <taken> pyperf <command> (pid N)[, serving ...]; <hint>"."""

    def __init__(self, path: Path, what: str, taken: str, hint: str, info: dict):
        self.path, self.what, self.taken, self.hint, self.info = path, what, taken, hint, info
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # close-on-exec: a child that outlives us (a compiler, docker) must not keep the lock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise StoreError(f"cannot use {self.what}: {e.strerror} ({e.filename})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            other = holder_of(self.path) or {}
            who = f"pyperf {other.get('command', '?')} (pid {other.get('pid', '?')})"
            where = f", serving http://{other['listen']}" if other.get("listen") else ""
            raise StoreBusyError(f"{self.what} is {self.taken} {who}{where}; {self.hint}") from None
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


class StoreLock(FileLock):
    def __init__(self, store_path: str, command: str, listen: str | None = None):
        super().__init__(lock_path(store_path), f"store {store_path}", "already open by",
                         "stop it first or use another --store",
                         {"pid": os.getpid(), "command": command, "listen": listen})
        self.store_path = store_path
