"""Kernel struct member offsets read from BTF (/sys/kernel/btf/vmlinux).

Distribution headers rarely match the running kernel, so probes never
dereference kernel structs through header types. They take every offset from
here and receive it as a `-D` constant. Only the parts of the BTF format that
offsets need are decoded: struct/union members and the type modifiers that sit
between a member and its struct (typedef, const, volatile, restrict, type tags).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"

BTF_MAGIC = 0xEB9F

# BTF_KIND_* values from include/uapi/linux/btf.h
KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM = 1, 2, 3, 4, 5, 6
KIND_FWD, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT = 7, 8, 9, 10, 11
KIND_FUNC, KIND_FUNC_PROTO, KIND_VAR, KIND_DATASEC, KIND_FLOAT = 12, 13, 14, 15, 16
KIND_DECL_TAG, KIND_TYPE_TAG, KIND_ENUM64 = 17, 18, 19

_MODIFIERS = {KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG}

# Bytes that follow the common 12-byte btf_type header, per kind: (fixed, per vlen item).
_TRAILER = {
    KIND_INT: (4, 0),
    KIND_ARRAY: (12, 0),
    KIND_STRUCT: (0, 12),
    KIND_UNION: (0, 12),
    KIND_ENUM: (0, 8),
    KIND_FUNC_PROTO: (0, 8),
    KIND_VAR: (4, 0),
    KIND_DATASEC: (0, 12),
    KIND_DECL_TAG: (4, 0),
    KIND_ENUM64: (0, 12),
}


class BTFError(Exception):
    """BTF is missing, malformed, or lacks the struct or member asked for."""


@dataclass(frozen=True)
class Member:
    name: str
    type_id: int
    bit_offset: int
    bitfield_size: int


@dataclass(frozen=True)
class BTFType:
    kind: int
    name: str
    size_or_type: int
    members: tuple[Member, ...] = ()


class BTF:
    """Parsed type section of one BTF blob."""

    def __init__(self, blob: bytes, source: str = "<bytes>"):
        self.source = source
        # Raw (kind, name_off, size_or_type, trailer_pos, vlen, kind_flag) per type id;
        # members are decoded only for the structs a probe asks about.
        self._records: list[tuple[int, int, int, int, int, int] | None] = [None]  # id 0 is void
        self._structs: dict[str, int] = {}
        self._trace_typedefs: dict[str, int] | None = None    # tracepoint -> btf_trace_<name> id, when asked
        self._blob = blob
        self._parse(blob)

    @classmethod
    def from_file(cls, path: str = VMLINUX_BTF) -> "BTF":
        try:
            with open(path, "rb") as f:
                return cls(f.read(), path)
        except OSError as e:
            raise BTFError(
                f"cannot read kernel BTF at {path}: {e.strerror}; "
                "pyperf needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
            ) from None

    def _parse(self, blob: bytes) -> None:
        if len(blob) < 24:
            raise BTFError(f"{self.source}: too short to be BTF")
        magic, _version, _flags, hdr_len = struct.unpack_from("<HBBI", blob, 0)
        if magic != BTF_MAGIC:
            raise BTFError(f"{self.source}: bad BTF magic {magic:#x}")
        type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", blob, 8)
        types_start = hdr_len + type_off
        strings = blob[hdr_len + str_off : hdr_len + str_off + str_len]

        self._strings = strings
        name_at = self._name_at

        pos, end = types_start, types_start + type_len
        unpack_hdr = struct.Struct("<III").unpack_from
        trailer = _TRAILER
        records = self._records
        while pos < end:
            name_off, info, size_or_type = unpack_hdr(blob, pos)
            pos += 12
            kind = (info >> 24) & 0x1F
            vlen = info & 0xFFFF
            records.append((kind, name_off, size_or_type, pos, vlen, info >> 31))
            fixed, per_item = trailer.get(kind, (0, 0))
            pos += fixed + per_item * vlen
            if (kind == KIND_STRUCT or kind == KIND_UNION) and name_off:
                self._structs.setdefault(name_at(name_off), len(records) - 1)
        if pos != end:
            raise BTFError(f"{self.source}: type section does not parse cleanly (unknown kind?)")

    def _name_at(self, off: int) -> str:
        end = self._strings.find(b"\0", off)
        return self._strings[off:end].decode("ascii", "replace")

    def type(self, type_id: int) -> BTFType:
        rec = self._records[type_id]
        if rec is None:
            raise BTFError(f"type {type_id} is void")
        kind, name_off, size_or_type, pos, vlen, kind_flag = rec
        members: tuple[Member, ...] = ()
        if kind in (KIND_STRUCT, KIND_UNION):
            items = []
            for i in range(vlen):
                m_name, m_type, m_off = struct.unpack_from("<III", self._blob, pos + 12 * i)
                name = self._name_at(m_name) if m_name else ""
                if kind_flag:
                    items.append(Member(name, m_type, m_off & 0xFFFFFF, m_off >> 24))
                else:
                    items.append(Member(name, m_type, m_off, 0))
            members = tuple(items)
        return BTFType(kind, self._name_at(name_off) if name_off else "", size_or_type, members)

    def _resolve(self, type_id: int) -> BTFType:
        t = self.type(type_id)
        while t.kind in _MODIFIERS:
            t = self.type(t.size_or_type)
        return t

    def struct_size(self, struct_name: str) -> int:
        return self._struct(struct_name).size_or_type

    def _struct(self, struct_name: str) -> BTFType:
        type_id = self._structs.get(struct_name)
        if type_id is None:
            raise BTFError(f"struct {struct_name} not found in {self.source}")
        return self.type(type_id)

    def has_member(self, struct_name: str, member_path: str) -> bool:
        try:
            self.offsetof(struct_name, member_path)
            return True
        except BTFError:
            return False

    def offsetof(self, struct_name: str, member_path: str) -> int:
        """Byte offset of `member_path` ("ns.inum", "pid") inside `struct_name`.

        Dots walk into embedded structs and unions; members of anonymous
        structs and unions are found as if they belonged to the parent, as in C.
        """
        current = self._struct(struct_name)
        bit_offset = 0
        walked = struct_name
        for part in member_path.split("."):
            found = self._find_member(current, part)
            if found is None:
                raise BTFError(f"struct {walked} has no member '{part}' in {self.source}")
            member_bits, member_type = found
            bit_offset += member_bits
            walked = f"{walked}.{part}"
            current = self._resolve(member_type)
        if bit_offset % 8:
            raise BTFError(f"{struct_name}.{member_path} is a bitfield, not byte addressable")
        return bit_offset // 8

    def tracepoint_args(self, tracepoint: str) -> tuple[str, ...] | None:
        """The C types of a tracepoint's arguments, as its raw tracepoint program gets
        them in ctx->args (the prototype of its btf_trace_<name> typedef, after the
        leading `void *`); None when this BTF has no such tracepoint."""
        if self._trace_typedefs is None:
            self._trace_typedefs = {}
            for type_id, rec in enumerate(self._records):
                if rec is not None and rec[0] == KIND_TYPEDEF and rec[1]:
                    name = self._name_at(rec[1])
                    if name.startswith("btf_trace_"):
                        self._trace_typedefs[name[len("btf_trace_"):]] = type_id
        type_id = self._trace_typedefs.get(tracepoint)
        if type_id is None:
            return None
        proto_id = self.type(self.type(type_id).size_or_type).size_or_type     # typedef -> pointer -> prototype
        kind, _name, _ret, pos, vlen, _flag = self._records[proto_id]
        if kind != KIND_FUNC_PROTO:
            raise BTFError(f"btf_trace_{tracepoint} is not a pointer to a function in {self.source}")
        params = [struct.unpack_from("<II", self._blob, pos + 8 * i)[1] for i in range(vlen)]
        return tuple(self.c_type(t) for t in params[1:])

    def c_type(self, type_id: int) -> str:
        """How C spells a type: "struct sock *", "unsigned int", "bool" (typedefs by name)."""
        if type_id == 0:
            return "void"
        t = self.type(type_id)
        if t.kind == KIND_PTR:
            return self.c_type(t.size_or_type) + " *"
        if t.kind in _MODIFIERS - {KIND_TYPEDEF}:
            return self.c_type(t.size_or_type)      # qualifiers change no argument's meaning
        if t.kind in (KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_ENUM64, KIND_FWD):
            tag = {KIND_UNION: "union", KIND_ENUM: "enum", KIND_ENUM64: "enum"}.get(t.kind, "struct")
            if t.kind == KIND_FWD and self._records[type_id][5]:
                tag = "union"
            return f"{tag} {t.name}"
        return t.name or f"<kind {t.kind}>"

    def _find_member(self, container: BTFType, name: str) -> tuple[int, int] | None:
        if container.kind not in (KIND_STRUCT, KIND_UNION):
            return None
        for m in container.members:
            if m.name == name:
                return m.bit_offset, m.type_id
        for m in container.members:
            if m.name:
                continue
            inner = self._resolve(m.type_id)
            found = self._find_member(inner, name)
            if found is not None:
                return m.bit_offset + found[0], found[1]
        return None


@lru_cache(maxsize=1)
def kernel_btf() -> BTF:
    return BTF.from_file(VMLINUX_BTF)


@lru_cache(maxsize=None)
def kernel_offset(struct_name: str, member_path: str) -> int:
    """`offsetof` in the running kernel, remembered: a probe switched back on
    later compiles again without the kernel's BTF parsed again."""
    return kernel_btf().offsetof(struct_name, member_path)


@lru_cache(maxsize=None)
def kernel_tracepoint_args(tracepoint: str) -> tuple[str, ...] | None:
    """`tracepoint_args` in the running kernel, remembered like kernel_offset."""
    return kernel_btf().tracepoint_args(tracepoint)


def release_kernel_btf() -> None:
    """Drop the parsed kernel BTF once start-up has read its offsets: its type
    records are ~28 MB of Python objects the agent never reads again."""
    kernel_btf.cache_clear()


def offset_cflags(fields: dict[str, tuple[str, str]], btf: BTF | None = None) -> list[str]:
    """`-D NAME=offset` flags for {NAME: (struct, member_path)}."""
    offsetof = btf.offsetof if btf is not None else kernel_offset
    return [f"-D{macro}={offsetof(s, m)}" for macro, (s, m) in sorted(fields.items())]
