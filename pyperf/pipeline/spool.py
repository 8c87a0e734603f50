"""On-disk spool for batches the store could not take: one file per (table,
batch), replayed oldest first, bounded in bytes (the oldest files go first
when it is full, and their rows are counted as dropped).

A file is named `<ordinal>_<table>_<rows>.chunk` so that dropping one needs no
read; its content is the insert's deduplication token and columns, pickled.
Only pyperf writes here (root, mode 0700), and loading goes through an
unpickler that accepts nothing but the value types rows carry.

One process owns a folder at a time (an flock on `.lock`, held while the
spool is open): two agents spooling for the same store would otherwise
replay each other's batches and remove each other's half-written files.
Readers that only look (tests, tools) use `pending_chunks`/`load_chunk`,
which change nothing."""

from __future__ import annotations

import datetime
import ipaddress
import io
import logging
import os
import pickle
import re
import threading
import time
from collections import Counter
from pathlib import Path

from pyperf.errors import StoreError
from pyperf.store.lock import FileLock

log = logging.getLogger("pyperf.spool")

CHUNK = re.compile(r"^(\d{20})_([a-z0-9_]+)_(\d+)\.chunk$")
SAFE_CLASSES = {
    ("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta"),
    ("ipaddress", "IPv4Address"), ("ipaddress", "IPv6Address"),
}


class _RowUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in SAFE_CLASSES:
            return {"datetime": datetime, "ipaddress": ipaddress}[module].__dict__[name]
        raise pickle.UnpicklingError(f"spool files hold no {module}.{name}")


def pending_chunks(folder: str | Path) -> list[Path]:
    """The folder's whole chunks, oldest first."""
    return sorted(p for p in Path(folder).iterdir() if CHUNK.match(p.name))


def load_chunk(path: Path) -> tuple[str, str, dict[str, list]]:
    """(table, deduplication token, columns) of one chunk."""
    doc = _RowUnpickler(io.BytesIO(path.read_bytes())).load()
    return doc["table"], doc["token"], doc["columns"]


class Spool:
    def __init__(self, folder: str | Path, max_bytes: int, command: str = ""):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.dropped_rows: Counter[str] = Counter()
        self.dropped_files = 0
        self._lock = threading.Lock()
        self._last = 0
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as e:
            raise StoreError(f"cannot create spool folder {self.folder}: {e.strerror}") from None
        self._owner = FileLock(self.folder / ".lock", f"spool folder {self.folder}",
                               "in use by another pyperf process,", "give this one its own --spool-dir",
                               {"pid": os.getpid(), "command": command})
        self._owner.acquire()
        # leftovers of a crash between write and rename (the folder is ours now)
        for partial in self.folder.glob("*.tmp"):
            partial.unlink(missing_ok=True)

    def close(self) -> None:
        """Give the folder up (its chunks stay for the next owner)."""
        self._owner.release()

    def _ordinal(self) -> int:
        # time-based so that files from before a restart sort first
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return self._last

    def append(self, table: str, columns: dict[str, list], token: str) -> Path | None:
        """Spool one batch; None when it alone is larger than the whole spool (dropped, counted)."""
        rows = len(next(iter(columns.values()))) if columns else 0
        path = self.folder / f"{self._ordinal():020d}_{table}_{rows}.chunk"
        data = pickle.dumps({"table": table, "token": token, "columns": columns}, protocol=5)
        if len(data) > self.max_bytes:
            self.dropped_rows[table] += rows
            log.warning("a %s batch of %d bytes is larger than the spool (%d bytes): dropped %d rows",
                        table, len(data), self.max_bytes, rows)
            return None
        self._make_room(len(data))
        tmp = path.with_suffix(".tmp")
        try:
            with open(tmp, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, path)   # a chunk is whole or absent
        except OSError as e:
            tmp.unlink(missing_ok=True)
            self.dropped_rows[table] += rows
            raise StoreError(f"cannot write spool file in {self.folder}: {e.strerror}") from None
        return path

    def pending(self) -> list[Path]:
        return pending_chunks(self.folder)

    def load(self, path: Path) -> tuple[str, str, dict[str, list]]:
        return load_chunk(path)

    @staticmethod
    def rows_of(path: Path) -> tuple[str, int]:
        m = CHUNK.match(path.name)
        return (m.group(2), int(m.group(3))) if m else ("?", 0)

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def discard(self, path: Path) -> None:
        """Drop a chunk that cannot be read or stored, counting its rows."""
        table, rows = self.rows_of(path)
        self.dropped_rows[table] += rows
        self.dropped_files += 1
        path.unlink(missing_ok=True)

    def size(self) -> int:
        total = 0
        for p in self.pending():
            try:
                total += p.stat().st_size
            except OSError:
                pass
        return total

    def pending_rows(self) -> Counter[str]:
        rows: Counter[str] = Counter()
        for p in self.pending():
            table, n = self.rows_of(p)
            rows[table] += n
        return rows

    def _make_room(self, incoming: int) -> None:
        files = self.pending()
        sizes = {}
        for p in files:
            try:
                sizes[p] = p.stat().st_size
            except OSError:
                sizes[p] = 0
        total = sum(sizes.values())
        for p in files:
            if total + incoming <= self.max_bytes:
                break
            total -= sizes[p]
            table, rows = self.rows_of(p)
            log.warning("spool full (%d bytes): dropped %d %s rows, the oldest", self.max_bytes, rows, table)
            self.discard(p)
