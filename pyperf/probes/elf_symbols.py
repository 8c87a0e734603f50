"""Function symbols of one ELF file, read once per file and shared by every
process that maps it, looked up by file offset.

Why not bcc's per-process symbol cache: it re-reads the symbol tables of every
binary and library a process maps, for every new process (a python3 that lives
two seconds costs ~2 ms of CPU to symbolise). Here a new process costs one read
of /proc/<pid>/maps; its binaries are usually known already (same device and
inode).

Where the names come from, as bcc and perf do: the file's .symtab and .dynsym,
its MiniDebugInfo (.gnu_debugdata), and a separate debug file found by build id
(/usr/lib/debug/.build-id/xx/yyyy.debug) or by .gnu_debuglink. Only 64-bit
little-endian files are read here (what this tool runs on); others raise
UnsupportedBinary and the caller falls back to bcc."""

from __future__ import annotations

import io
import lzma
import os

import cxxfilt
import numpy as np
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

DEBUG_ROOT = "/usr/lib/debug"
STT_FUNC = 2
STT_GNU_IFUNC = 10

SYM_DTYPE = np.dtype([("name", "<u4"), ("info", "u1"), ("other", "u1"), ("shndx", "<u2"),
                      ("value", "<u8"), ("size", "<u8")])


class UnsupportedBinary(Exception):
    pass


def _function_symbols(elf: ELFFile) -> dict[int, tuple[int, bytes]]:
    """{address: (size, raw name)} of the defined functions in .symtab and .dynsym."""
    out: dict[int, tuple[int, bytes]] = {}
    for section_name in (".dynsym", ".symtab"):        # .symtab's names win
        section = elf.get_section_by_name(section_name)
        if section is None or section["sh_type"] == "SHT_NOBITS":
            continue
        symbols = np.frombuffer(section.data(), SYM_DTYPE)
        kind = symbols["info"] & 0xF
        keep = ((kind == STT_FUNC) | (kind == STT_GNU_IFUNC)) & (symbols["value"] != 0) & (symbols["shndx"] != 0)
        strings = elf.get_section(section["sh_link"]).data()
        for offset, address, size in zip(symbols["name"][keep].tolist(), symbols["value"][keep].tolist(),
                                         symbols["size"][keep].tolist()):
            end = strings.find(b"\0", offset)
            out[address] = (size, strings[offset:end if end >= 0 else len(strings)])
    return out


def _build_id(elf: ELFFile) -> str | None:
    section = elf.get_section_by_name(".note.gnu.build-id")
    if section is None:
        return None
    for note in section.iter_notes():
        if note["n_type"] == "NT_GNU_BUILD_ID":
            return note["n_desc"]
    return None


def _debug_files(elf: ELFFile, path: str) -> list[str]:
    """Where a separate debug file for `path` may be, in the order gdb looks."""
    candidates = []
    build_id = _build_id(elf)
    if build_id and len(build_id) > 2:
        candidates.append(f"{DEBUG_ROOT}/.build-id/{build_id[:2]}/{build_id[2:]}.debug")
    link = elf.get_section_by_name(".gnu_debuglink")
    if link is not None:
        name = os.path.basename(link.data().split(b"\0", 1)[0].decode("utf-8", "replace"))
        folder = os.path.dirname(os.path.realpath(path))
        if name:
            candidates += [f"{folder}/{name}", f"{folder}/.debug/{name}", f"{DEBUG_ROOT}{folder}/{name}"]
    return candidates


class ElfSymbols:
    def __init__(self, path: str | io.IOBase, debug_files: bool = True):
        """`path`: a file's path, or an open file or an image already in memory
        (the vDSO), closed here."""
        try:
            with (open(path, "rb") if isinstance(path, str) else path) as f:
                elf = ELFFile(f)
                if elf.elfclass != 64 or not elf.little_endian:
                    raise UnsupportedBinary(f"{getattr(path, 'name', path)}: not a 64-bit little-endian ELF file")
                self.segments = sorted((seg["p_offset"], seg["p_vaddr"], seg["p_filesz"])
                                       for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD")
                symbols = _function_symbols(elf)
                mini = elf.get_section_by_name(".gnu_debugdata")
                if mini is not None:
                    symbols = {**_function_symbols(ELFFile(io.BytesIO(lzma.decompress(mini.data())))), **symbols}
                if debug_files:
                    symbols = {**symbols, **self._from_debug_file(elf, f.name)}
        except (OSError, ELFError, lzma.LZMAError, ValueError) as e:
            raise UnsupportedBinary(f"{getattr(path, 'name', path)}: {e}") from e
        # kept as arrays and one blob of names: a host maps hundreds of files, and
        # Python lists of ints and bytes would cost ~5x the memory
        ordered = sorted(symbols.items())
        self.starts = np.fromiter((address for address, _ in ordered), np.uint64, len(ordered))
        self.ends = self.starts + np.fromiter((max(size, 1) for _, (size, _) in ordered), np.uint64, len(ordered))
        self._blob = b"".join(name for _, (_, name) in ordered)
        self._name_ends = np.cumsum(np.fromiter((len(name) for _, (_, name) in ordered), np.int64, len(ordered)))

    @staticmethod
    def _from_debug_file(elf: ELFFile, path: str) -> dict[int, tuple[int, bytes]]:
        for candidate in _debug_files(elf, path):
            if os.path.isfile(candidate):
                try:
                    with open(candidate, "rb") as f:
                        return _function_symbols(ELFFile(f))
                except (OSError, ELFError, ValueError):
                    continue
        return {}

    def __len__(self) -> int:
        return len(self.starts)

    def address_of(self, file_offset: int) -> int | None:
        """The link-time address of a byte of the file, through its loadable segments."""
        for offset, vaddr, size in self.segments:
            if offset <= file_offset < offset + size:
                return file_offset - offset + vaddr
        return None

    def name_at(self, file_offset: int) -> str | None:
        """The (demangled) function holding that byte of the file, or None."""
        address = self.address_of(file_offset)
        if address is None:
            return None
        i = int(np.searchsorted(self.starts, address, side="right")) - 1
        if i < 0 or address >= int(self.ends[i]):
            return None
        begin = int(self._name_ends[i - 1]) if i else 0
        return demangle(self._blob[begin:int(self._name_ends[i])])


def demangle(raw: bytes) -> str:
    """The name as bcc and perf show it: C++ demangled, without a symbol version
    (memcpy@GLIBC_2.2.5 or memcpy@@GLIBC_2.14 is memcpy)."""
    name = raw.split(b"@", 1)[0].decode("utf-8", "replace") if not raw.startswith(b"@") else raw.decode()
    if name.startswith("_Z"):
        try:
            return cxxfilt.demangle(name)
        except cxxfilt.Error:
            return name
    return name
