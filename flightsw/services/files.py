"""File management (PUS service 23 subset): files uplinked in segments to the NV store.

For what is too big for one TC: a job list, a table, a command sequence. The ground
creates a file with its final size and CRC-32, sends it in segments at explicit offsets
(a resent segment is harmless: the same bytes at the same offset), and the file becomes
readable by apps once every byte has arrived and the CRC matches. Files live on the
HAL's non-volatile store as ``file.<name>``; the total size is bounded.

TCs: (23,1) create: name (u8 length + ASCII), size u32, crc32 u32; (23,2) delete: name;
(23,130) write segment: name, offset u32, data; (23,12) report: name -> TM(23,13) =
name, size u32, received u32, complete u8.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from flightsw import layouts as L
from flightsw.app import (
    App,
    EventDef,
    FailureCode,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.errors import CommandError
from flightsw.ports import Device
from hal.interfaces import NonVolatileStore

_U32 = struct.Struct(">I")
PREFIX = "file."
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")
NAME = L.Struct("name" / L.text())
CREATE = L.Struct("name" / L.text(), "size" / L.U32, "crc" / L.U32)
WRITE = L.Struct("name" / L.text(), "offset" / L.U32, "chunk" / L.REST)
FILE_STATUS = L.Struct("name" / L.text(), "size" / L.U32, "received" / L.U32, "complete" / L.U8)


@dataclass
class FileEntry:
    size: int
    crc: int
    received: bytearray  # a bitmap of 256-octet blocks would do; a byte per octet is plain
    complete: bool = False


def read_complete_file(nv: Any, name: str) -> bytes | None:
    """A file's contents once it has fully arrived and checked (None otherwise)."""
    if nv is None:
        return None
    data = nv.read(PREFIX + name)
    marker = nv.read(PREFIX + name + ".ok")
    return data if data is not None and marker == b"1" else None


class FileService(App):
    """PUS 23 subset: create, write in segments, check, report, delete."""

    DEFAULT_RATE_HZ = 1.0
    nv = Device(NonVolatileStore)  # where the files are kept
    REPORTS = (ReportDef(23, 13, "file_status", FILE_STATUS, "answer to TC(23,12)"),)
    PARAMETERS = (
        ParameterDef(1, "max_total_bytes", "u32", 16 << 20, 1024, 1 << 31),
        ParameterDef(2, "max_files", "u16", 64, 1, 4096),
    )
    TELEMETRY = (
        TelemetryDef("files", "u16"),
        TelemetryDef("bytes", "u32"),
        TelemetryDef("complete_files", "u16"),
    )
    EVENTS = (
        EventDef(1, "FILE_COMPLETE", Severity.INFO, text="a file arrived whole and checked"),
        EventDef(2, "FILE_CRC_MISMATCH", Severity.MEDIUM, text="a file arrived but its CRC fails"),
    )

    def init(self) -> None:
        self.files: dict[str, FileEntry] = {}

    def step(self, now_ns: int) -> None:
        self.tlm.update(
            files=len(self.files),
            bytes=sum(f.size for f in self.files.values()) & 0xFFFFFFFF,
            complete_files=sum(f.complete for f in self.files.values()),
        )

    # --- parsing ----------------------------------------------------------------------
    @staticmethod
    def _name(data: bytes, offset: int = 0) -> tuple[str, int]:
        if len(data) <= offset:
            raise CommandError(FailureCode.BAD_LENGTH, "missing file name")
        n = data[offset]
        raw = data[offset + 1 : offset + 1 + n]
        if len(raw) != n or not 1 <= n <= 64:
            raise CommandError(FailureCode.BAD_LENGTH, "file name length")
        name = raw.decode("ascii", errors="replace")
        if not set(name) <= NAME_CHARS:
            raise CommandError(FailureCode.BAD_APP_DATA, f"bad file name {name!r}")
        return name, offset + 1 + n

    def _parse_create(self, data: bytes) -> dict[str, Any]:
        name, off = self._name(data)
        if len(data) != off + 8:
            raise CommandError(FailureCode.BAD_LENGTH, "create: name, size u32, crc32 u32")
        size, crc = struct.unpack_from(">II", data, off)
        return {"name": name, "size": size, "crc": crc}

    def _parse_name(self, data: bytes) -> dict[str, Any]:
        name, off = self._name(data)
        if len(data) != off:
            raise CommandError(FailureCode.BAD_LENGTH, "extra octets after the name")
        return {"name": name}

    def _parse_write(self, data: bytes) -> dict[str, Any]:
        name, off = self._name(data)
        if len(data) < off + 4:
            raise CommandError(FailureCode.BAD_LENGTH, "write: name, offset u32, data")
        (offset,) = _U32.unpack_from(data, off)
        return {"name": name, "offset": offset, "chunk": data[off + 4 :]}

    def _entry(self, name: str) -> FileEntry:
        entry = self.files.get(name)
        if entry is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no file {name!r}")
        return entry

    # --- commands ---------------------------------------------------------------------
    @command(service=23, subservice=1, parser="_parse_create", layout=CREATE, name="create_file")
    def cmd_create(self, name: str, size: int, crc: int) -> None:
        """Create a file of ``size`` octets whose CRC-32 will be ``crc``."""
        if name in self.files:
            raise CommandError(FailureCode.INVALID_STATE, f"{name!r} exists")
        if len(self.files) >= int(self.param("max_files")):
            raise CommandError(FailureCode.QUEUE_FULL, "too many files")
        used = sum(f.size for f in self.files.values())
        if used + size > int(self.param("max_total_bytes")):
            raise CommandError(FailureCode.QUEUE_FULL, "file store full")
        self.files[name] = FileEntry(size, crc, bytearray(size))
        self.nv.write(PREFIX + name, bytes(size))
        self.nv.write(PREFIX + name + ".ok", b"0")

    @command(service=23, subservice=2, parser="_parse_name", layout=NAME, name="delete_file")
    def cmd_delete(self, name: str) -> None:
        """Delete a file."""
        self._entry(name)
        del self.files[name]
        self.nv.write(PREFIX + name, b"")
        self.nv.write(PREFIX + name + ".ok", b"0")

    @command(service=23, subservice=130, parser="_parse_write", layout=WRITE, name="write_file")
    def cmd_write(self, name: str, offset: int, chunk: bytes) -> None:
        """Write one segment at ``offset``; the file completes when every octet arrived."""
        entry = self._entry(name)
        if offset + len(chunk) > entry.size:
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, "segment past the end of the file")
        data = bytearray(self.nv.read(PREFIX + name) or bytes(entry.size))
        data[offset : offset + len(chunk)] = chunk
        entry.received[offset : offset + len(chunk)] = b"\x01" * len(chunk)
        self.nv.write(PREFIX + name, bytes(data))
        if not entry.complete and all(entry.received):
            if zlib.crc32(data) == entry.crc:
                entry.complete = True
                self.nv.write(PREFIX + name + ".ok", b"1")
                self.emit("FILE_COMPLETE")
            else:
                self.emit("FILE_CRC_MISMATCH")

    @command(service=23, subservice=12, parser="_parse_name", layout=NAME, name="report_file")
    def cmd_report(self, name: str) -> None:
        """TM(23,13): name, size, octets received, complete."""
        entry = self._entry(name)
        raw = name.encode()
        body = bytes([len(raw)]) + raw
        body += struct.pack(">IIB", entry.size, sum(entry.received), int(entry.complete))
        self.send_tm(23, 13, body)
