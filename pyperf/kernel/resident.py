"""Give back the resident pages of libraries whose code ran at start-up and will
not run again soon: bcc's compiler after the probes are loaded, the parts of
chDB's 555 MB library that only its initialisation touched.

Only unmodified file pages are dropped (MADV_DONTNEED on mappings that are not
writable and hold no anonymous, copied-on-write page): what runs again is
faulted back in from the page cache, a minor fault per page, so correctness
never depends on it; RSS then follows what the process really uses."""

from __future__ import annotations

import ctypes
import os

MADV_DONTNEED = 4


def trim_heap() -> None:
    """Give back the C heap's free pages (glibc keeps what was freed for reuse:
    the compiler's ~70 MB after loading, a minute's columns after a flush)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass     # not glibc: nothing to trim this way


def release_library_pages(libraries: tuple[str, ...], smaps_path: str = "/proc/self/smaps") -> int:
    """Drop this process's resident pages of the named libraries' read-only
    mappings (a name matches when it is part of the file name); returns kB."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end, rss_kb in clean_mappings(libraries, smaps_path):
        if madvise(start, end - start, MADV_DONTNEED) == 0:
            released += rss_kb
    return released


def clean_mappings(libraries: tuple[str, ...], smaps_path: str = "/proc/self/smaps"):
    """(start, end, resident kB) of the libraries' mappings that are not writable
    and hold no anonymous page."""
    current = None
    with open(smaps_path) as f:
        for line in f:
            head = line.split(maxsplit=5)
            if not head:
                continue
            if not head[0].endswith(":") and "-" in head[0] and len(head) >= 5:
                name = os.path.basename(head[5].strip()) if len(head) > 5 else ""
                wanted = "w" not in head[1] and name and any(lib in name for lib in libraries)
                start, end = (int(x, 16) for x in head[0].split("-"))
                current = {"range": (start, end), "rss": 0} if wanted else None
            elif current is not None and head[0] == "Rss:":
                current["rss"] = int(head[1])
            elif current is not None and head[0] == "Anonymous:":
                if int(head[1]) == 0 and current["rss"]:
                    yield (*current["range"], current["rss"])
                current = None
