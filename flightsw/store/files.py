"""On-board files: one namespace on the HAL's non-volatile store, one quota.

Files reach the node two ways, by PUS-23 segments (small files) and by CFDP (anything
bigger); both write here, so the readers (sequencer, tables, payload job lists) take a
file whichever way it came. A file ``NAME`` is the NV record ``file.NAME``; beside it
``file.NAME.ok`` is ``b"1"`` once every octet arrived and its checksum held (anything
else: not readable yet). The quota (total octets, number of files) is counted from the
store itself, not from what one app remembers, so it holds across restarts and between
the two ways in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import FlightswError

PREFIX = "file."
MARKER = ".ok"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")
MAX_NAME = 64


class FileStoreError(FlightswError):
    """A file name that is not allowed, or a file that would exceed the quota."""


def check_name(name: str) -> str:
    """``name`` if it is a legal on-board file name (FileStoreError otherwise)."""
    if not 1 <= len(name) <= MAX_NAME or not set(name) <= NAME_CHARS or name.endswith(MARKER):
        raise FileStoreError(f"bad file name {name!r}")
    if name in (".", "..") or name.startswith("."):
        raise FileStoreError(f"bad file name {name!r}")
    return name


@dataclass(frozen=True)
class FileInfo:
    """One line of a directory listing."""

    name: str
    size: int
    complete: bool


class OnboardFiles:
    """The ``file.`` namespace of a NV store, with a quota checked against the store."""

    def __init__(self, nv: Any, max_bytes: int, max_files: int) -> None:
        self.nv = nv
        self.max_bytes = max_bytes
        self.max_files = max_files

    def names(self) -> list[str]:
        return [
            n[len(PREFIX) :]
            for n in self.nv.names(PREFIX)
            if not n.endswith(MARKER) and not n.endswith(".tmp")
        ]

    def exists(self, name: str) -> bool:
        return bool(self.nv.read(PREFIX + name + MARKER) is not None)

    def size(self, name: str) -> int:
        return int(self.nv.size(PREFIX + name))

    def usage(self) -> tuple[int, int]:
        """(files, octets) now on the store."""
        names = self.names()
        return len(names), sum(self.size(n) for n in names)

    def listing(self) -> list[FileInfo]:
        return [FileInfo(n, self.size(n), self.complete(n)) for n in self.names()]

    def complete(self, name: str) -> bool:
        return bool(self.nv.read(PREFIX + name + MARKER) == b"1")

    def check_room(self, name: str, size: int) -> None:
        """FileStoreError unless a file ``name`` of ``size`` octets fits the quota (a file
        that replaces one of the same name gives its room back first)."""
        check_name(name)
        files, used = self.usage()
        if self.exists(name):
            files -= 1
            used -= self.size(name)
        if files + 1 > self.max_files:
            raise FileStoreError(f"{name}: {self.max_files} files already")
        if used + size > self.max_bytes:
            raise FileStoreError(f"{name}: {size} octets do not fit ({used} of {self.max_bytes})")

    def create(self, name: str, size: int = 0) -> None:
        """An empty (or zero-filled) file, not complete; replaces one of the same name."""
        self.check_room(name, size)
        self.nv.write(PREFIX + name + MARKER, b"0")
        self.nv.write(PREFIX + name, bytes(size))

    def write_at(self, name: str, offset: int, data: bytes) -> None:
        """Write a segment in place, within the quota."""
        end = offset + len(data)
        grow = end - self.size(name)
        if grow > 0:
            _, used = self.usage()
            if used + grow > self.max_bytes:
                raise FileStoreError(f"{name}: the file store is full ({used} octets)")
        write_at = getattr(self.nv, "write_at", None)
        if write_at is not None:
            write_at(PREFIX + name, offset, data)
            return
        buf = bytearray(self.nv.read(PREFIX + name) or b"")  # a store without write_at
        if len(buf) < offset:
            buf.extend(bytes(offset - len(buf)))
        buf[offset:end] = data
        self.nv.write(PREFIX + name, bytes(buf))

    def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        if length is None:
            return (self.nv.read(PREFIX + name) or b"")[offset:]
        return bytes(self.nv.read_range(PREFIX + name, offset, length))

    def truncate(self, name: str) -> None:
        self.nv.write(PREFIX + name, b"")

    def mark_complete(self, name: str, complete: bool = True) -> None:
        self.nv.write(PREFIX + name + MARKER, b"1" if complete else b"0")

    def delete(self, name: str) -> None:
        for record in (PREFIX + name, PREFIX + name + MARKER):
            delete = getattr(self.nv, "delete", None)
            if delete is not None:
                delete(record)
            else:
                self.nv.write(record, b"")


def read_complete_file(nv: Any, name: str) -> bytes | None:
    """A file's contents once it has fully arrived and checked (None otherwise)."""
    if nv is None:
        return None
    data = nv.read(PREFIX + name)
    marker = nv.read(PREFIX + name + MARKER)
    return data if data is not None and marker == b"1" else None
