"""The bench serial protocol: frames, a streaming frame decoder, and the message payloads.

A hardware-in-the-loop bench talks to the flight computer over one serial line (UART,
USB CDC, a pty or a TCP bridge). Every exchange is a request frame from the flight side
and exactly one response frame (or a NAK) from the bench device. ``FRAME`` and the
``*_SCHEMA`` constructs are the declarations (mirrored in docs/serial-protocol.md); the
hot path packs and unpacks with ``struct`` and numpy, and the tests prove both agree.

Frame: ``A5 5A | length u16 | type u8 | seq u8 | payload | CRC-16/CCITT-FALSE u16``, all
integers big-endian, the CRC covering length..payload.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, ClassVar, Self

import numpy as np
from construct import (
    Array,
    BitStruct,
    Bytes,
    Checksum,
    Const,
    Construct,
    Flag,
    Float32b,
    Float64b,
    Int8ub,
    Int16ub,
    Int32ub,
    Padding,
    PascalString,
    RawCopy,
    Struct,
    this,
)
from numpy.typing import NDArray

from flightsw.crc import crc16
from flightsw.errors import DecodeError, EncodeError

SYNC = b"\xa5\x5a"
HEADER_LEN = 6  # sync, length, type, seq
CRC_LEN = 2
OVERHEAD = HEADER_LEN + CRC_LEN
MAX_PAYLOAD = 4096
MAX_FRAME_LEN = OVERHEAD + MAX_PAYLOAD
PROTOCOL_VERSION = 1

FRAME_BODY = Struct(
    "length" / Int16ub,
    "type" / Int8ub,
    "seq" / Int8ub,
    "payload" / Bytes(this.length),
)
FRAME = Struct(
    "sync" / Const(SYNC),
    "body" / RawCopy(FRAME_BODY),
    "crc" / Checksum(Int16ub, lambda data: crc16(data), this.body.data),
)

_HDR = struct.Struct(">2sHBB")
_CRC = struct.Struct(">H")


class MsgType(IntEnum):
    """Request types; the response to request ``t`` has type ``t | RESPONSE_BIT``."""

    PING = 0x01
    LIST_NAMES = 0x02
    READ_SWITCHES = 0x03
    SET_SWITCH = 0x04
    RESET_TRIP = 0x05
    READ_BATTERY = 0x06
    READ_SOLAR_ARRAY = 0x07
    READ_TEMPERATURES = 0x08
    SET_HEATER = 0x09
    READ_HEATERS = 0x0A
    READ_BOARDS = 0x0B
    SET_BOARD_POWER = 0x0C
    SET_UTILIZATION = 0x0D
    SET_POWER_CAP = 0x0E
    RESET_BOARDS = 0x0F
    SCRUB_MEMORY = 0x10
    KICK_WATCHDOG = 0x11


RESPONSE_BIT = 0x80
NAK_TYPE = 0xFF


class NakCode(IntEnum):
    """Why a device refused a request."""

    UNKNOWN_TYPE = 1
    BAD_PAYLOAD = 2
    BUSY = 3
    BAD_INDEX = 4


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: its type, sequence number and raw payload."""

    type: int
    seq: int
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(self.type, self.seq, self.payload)


def _check_u8(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFF:
        raise EncodeError(name, f"{value!r} is not an integer in 0..255")


def encode_frame(msg_type: int, seq: int, payload: bytes = b"") -> bytes:
    """SYNC, header, payload and CRC; fields are range-checked."""
    _check_u8("type", msg_type)
    _check_u8("seq", seq)
    if len(payload) > MAX_PAYLOAD:
        raise EncodeError("payload", f"{len(payload)} octets, at most {MAX_PAYLOAD}")
    head = _HDR.pack(SYNC, len(payload), msg_type, seq)
    crc = crc16(payload, crc16(head[2:]))
    return head + bytes(payload) + _CRC.pack(crc)


def decode_frame(buf: bytes | bytearray | memoryview) -> Frame:
    """Exactly one frame filling ``buf``; anything else raises :class:`DecodeError`."""
    if len(buf) < OVERHEAD:
        raise DecodeError("header", 0, f"{len(buf)} octets, a frame needs at least {OVERHEAD}")
    sync, length, msg_type, seq = _HDR.unpack_from(buf, 0)
    if sync != SYNC:
        raise DecodeError("sync", 0, f"{bytes(sync).hex()} is not a5 5a")
    if length > MAX_PAYLOAD:
        raise DecodeError("length", 2, f"{length} payload octets, at most {MAX_PAYLOAD}")
    if len(buf) != OVERHEAD + length:
        raise DecodeError(
            "length", 2, f"header says {length} payload octets, buffer holds {len(buf) - OVERHEAD}"
        )
    end = HEADER_LEN + length
    (crc,) = _CRC.unpack_from(buf, end)
    computed = crc16(bytes(buf[2:end]))
    if crc != computed:
        raise DecodeError("crc", end, f"frame says {crc:04x}, computed {computed:04x}")
    return Frame(msg_type, seq, bytes(buf[HEADER_LEN:end]))


class FrameDecoder:
    """Turns arbitrary chunks of a byte stream into complete, CRC-checked frames.

    Octets before a SYNC are garbage; a candidate frame with an oversized length or a
    bad CRC is abandoned by skipping one octet and searching for the next SYNC, so a
    frame hidden behind a corrupted header is still found. Between calls the buffer
    holds at most one partial frame (fewer than ``MAX_FRAME_LEN`` octets).
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        if not 0 <= max_payload <= 0xFFFF:
            raise EncodeError("max_payload", f"{max_payload} is not in 0..65535")
        self.max_payload = max_payload
        self._buf = bytearray()
        self.frames = 0
        self.crc_errors = 0
        self.garbage_octets = 0
        self.oversize = 0
        self.abandoned = 0  # partial candidates given up by :meth:`resync`

    @property
    def pending(self) -> int:
        """Octets held back waiting for the rest of a frame."""
        return len(self._buf)

    def pending_header(self) -> tuple[int, int] | None:
        """(type, seq) of the partial frame being collected, once its header is in."""
        if len(self._buf) < HEADER_LEN:
            return None
        return self._buf[4], self._buf[5]

    def counters(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "crc_errors": self.crc_errors,
            "garbage_octets": self.garbage_octets,
            "oversize": self.oversize,
            "abandoned": self.abandoned,
        }

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Append ``data`` and return every frame it completes, oldest first."""
        self._buf += data
        return self._scan()

    def resync(self) -> list[Frame]:
        """Give up the partial frame at the head of the buffer and rescan what follows.

        Used when a request times out: a corrupted length can make the decoder wait for
        octets that never come, and the frames queued behind it must not be lost.
        """
        frames: list[Frame] = []
        while self._buf:
            self.abandoned += 1
            self._skip(1)
            frames += self._scan()
        return frames

    def _skip(self, n: int) -> None:
        self.garbage_octets += n
        del self._buf[:n]

    def _scan(self) -> list[Frame]:
        buf = self._buf
        out: list[Frame] = []
        while True:
            start = buf.find(SYNC)
            if start < 0:
                # Keep a trailing first SYNC octet: it may start the next frame.
                keep = 1 if buf[-1:] == SYNC[:1] else 0
                self._skip(len(buf) - keep)
                return out
            if start:
                self._skip(start)
            if len(buf) < HEADER_LEN:
                return out
            length = (buf[2] << 8) | buf[3]
            if length > self.max_payload:
                self.oversize += 1
                self._skip(1)
                continue
            total = OVERHEAD + length
            if len(buf) < total:
                return out
            end = HEADER_LEN + length
            crc = (buf[end] << 8) | buf[end + 1]
            if crc != crc16(bytes(buf[2:end])):
                self.crc_errors += 1
                self._skip(1)
                continue
            out.append(Frame(buf[4], buf[5], bytes(buf[HEADER_LEN:end])))
            self.frames += 1
            del buf[:total]


# --- message payloads ----------------------------------------------------------------

MAX_NAME_LEN = 32
BOARD_RECORD_LEN = 33  # powered u8, 3 x f32, 3 x u32, f64
MAX_BOARDS_PER_PAGE = 120  # 6 + 120 * 33 = 3966 octets, under MAX_PAYLOAD
MAX_INDICES = 682  # (MAX_PAYLOAD - 2) // 6: indices plus one f32 each still fit


class NameKind(IntEnum):
    """Which name list a LIST_NAMES request asks for."""

    SWITCHES = 0
    SENSORS = 1
    HEATERS = 2


class _Reader:
    """Reads a payload front to back; every shortfall is a DecodeError at its offset."""

    __slots__ = ("buf", "msg", "pos")

    def __init__(self, buf: bytes | bytearray | memoryview, msg: str) -> None:
        self.buf = bytes(buf)
        self.msg = msg
        self.pos = 0

    def _take(self, field: str, n: int) -> int:
        left = len(self.buf) - self.pos
        if left < n:
            raise DecodeError(f"{self.msg}.{field}", self.pos, f"needs {n} octets, {left} left")
        pos = self.pos
        self.pos += n
        return pos

    def u8(self, field: str) -> int:
        return self.buf[self._take(field, 1)]

    def u16(self, field: str) -> int:
        pos = self._take(field, 2)
        return (self.buf[pos] << 8) | self.buf[pos + 1]

    def u32(self, field: str) -> int:
        return int.from_bytes(self.buf[self._take(field, 4) : self.pos], "big")

    def f32(self, field: str) -> float:
        return float(struct.unpack_from(">f", self.buf, self._take(field, 4))[0])

    def flag(self, field: str) -> bool:
        pos = self.pos
        value = self.u8(field)
        if value > 1:
            raise DecodeError(f"{self.msg}.{field}", pos, f"{value} is not a boolean (0 or 1)")
        return value == 1

    def array(self, field: str, dtype: str, count: int) -> NDArray[Any]:
        dt = np.dtype(dtype)
        pos = self._take(field, dt.itemsize * count)
        return np.frombuffer(self.buf, dtype=dt, count=count, offset=pos)

    def flags(self, field: str, count: int) -> NDArray[np.bool_]:
        pos = self.pos
        raw = self.array(field, "u1", count)
        bad = np.flatnonzero(raw > 1)
        if bad.size:
            i = int(bad[0])
            raise DecodeError(f"{self.msg}.{field}", pos + i, f"{raw[i]} is not a boolean")
        return raw.astype(np.bool_)

    def indices(self, field: str, limit: int = MAX_INDICES) -> NDArray[np.intp]:
        pos = self.pos
        count = self.u16(f"{field}.count")
        if count > limit:
            raise DecodeError(f"{self.msg}.{field}.count", pos, f"{count} indices, at most {limit}")
        return self.array(field, ">u2", count).astype(np.intp)

    def finite(self, field: str, values: NDArray[Any], start: int) -> None:
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise DecodeError(f"{self.msg}.{field}", start + 4 * i, "not a finite number")

    def done(self) -> None:
        if self.pos != len(self.buf):
            left = len(self.buf) - self.pos
            raise DecodeError(self.msg, self.pos, f"{left} trailing octets")


def _u(name: str, value: int, bits: int) -> int:
    limit = (1 << bits) - 1
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or not 0 <= value <= limit:
        raise EncodeError(name, f"{value!r} is not an integer in 0..{limit}")
    return int(value)


def _index_array(name: str, idx: NDArray[Any] | Sequence[int], limit: int = MAX_INDICES) -> bytes:
    arr = np.asarray(idx)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise EncodeError(name, "indices must be a 1-D integer array")
    if arr.size > limit:
        raise EncodeError(name, f"{arr.size} indices, at most {limit} per frame")
    if arr.size and (arr.min() < 0 or arr.max() > 0xFFFF):
        raise EncodeError(name, "indices must be in 0..65535")
    return struct.pack(">H", arr.size) + arr.astype(">u2").tobytes()


def _value_array(name: str, values: NDArray[Any] | Sequence[float], count: int) -> bytes:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (count,):
        raise EncodeError(name, f"{arr.shape} values for {count} indices")
    with np.errstate(over="ignore", invalid="ignore"):
        wire = arr.astype(">f4")
    if not np.all(np.isfinite(wire)):
        raise EncodeError(name, "values must be finite and fit a 32-bit float")
    return wire.tobytes()


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and bool(np.all((x == y) | ((x != x) & (y != y))))
    return a == b


class Message:
    """A request or response payload. Requests carry their wire ``TYPE``."""

    __slots__ = ()
    TYPE: ClassVar[int] = -1
    SCHEMA: ClassVar[Construct]

    def encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _same(getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)  # type: ignore[arg-type]
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True, eq=False)
class _Empty(Message):
    SCHEMA = Struct()

    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        _Reader(payload, cls.__name__).done()
        return cls()


# --- requests --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Ping(Message):
    """Liveness check; the reply also describes the device's inventory."""

    nonce: int = 0
    TYPE = MsgType.PING
    SCHEMA = Struct("nonce" / Int32ub)

    def encode(self) -> bytes:
        return struct.pack(">I", _u("nonce", self.nonce, 32))

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(r.u32("nonce"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True, eq=False)
class ListNames(Message):
    which: NameKind = NameKind.SWITCHES
    TYPE = MsgType.LIST_NAMES
    SCHEMA = Struct("which" / Int8ub)

    def encode(self) -> bytes:
        return bytes([_kind("which", self.which)])

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(_read_kind(r))
        r.done()
        return msg


@dataclass(frozen=True, slots=True, eq=False)
class ReadSwitches(_Empty):
    TYPE = MsgType.READ_SWITCHES


@dataclass(frozen=True, slots=True, eq=False)
class _IndexOn(Message):
    """Switch something with an index on or off (a PCDU switch, a heater)."""

    index: int
    on: bool
    SCHEMA = Struct("index" / Int8ub, "on" / Flag)

    def encode(self) -> bytes:
        return bytes([_u("index", self.index, 8), 1 if self.on else 0])

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(r.u8("index"), r.flag("on"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True, eq=False)
class SetSwitch(_IndexOn):
    TYPE = MsgType.SET_SWITCH


@dataclass(frozen=True, slots=True, eq=False)
class ResetTrip(Message):
    index: int
    TYPE = MsgType.RESET_TRIP
    SCHEMA = Struct("index" / Int8ub)

    def encode(self) -> bytes:
        return bytes([_u("index", self.index, 8)])

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(r.u8("index"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True, eq=False)
class ReadBattery(_Empty):
    TYPE = MsgType.READ_BATTERY


@dataclass(frozen=True, slots=True, eq=False)
class ReadSolarArray(_Empty):
    TYPE = MsgType.READ_SOLAR_ARRAY


@dataclass(frozen=True, slots=True, eq=False)
class ReadTemperatures(_Empty):
    TYPE = MsgType.READ_TEMPERATURES


@dataclass(frozen=True, slots=True, eq=False)
class SetHeater(_IndexOn):
    TYPE = MsgType.SET_HEATER


@dataclass(frozen=True, slots=True, eq=False)
class ReadHeaters(_Empty):
    TYPE = MsgType.READ_HEATERS


@dataclass(frozen=True, slots=True, eq=False)
class ReadBoards(Message):
    """One page of board telemetry: boards ``start .. start + count - 1``."""

    start: int = 0
    count: int = MAX_BOARDS_PER_PAGE
    TYPE = MsgType.READ_BOARDS
    SCHEMA = Struct("start" / Int16ub, "count" / Int16ub)

    def encode(self) -> bytes:
        if not 0 <= self.count <= MAX_BOARDS_PER_PAGE:
            raise EncodeError("count", f"{self.count} boards, at most {MAX_BOARDS_PER_PAGE}")
        return struct.pack(">HH", _u("start", self.start, 16), _u("count", self.count, 16))

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        start = r.u16("start")
        count = r.u16("count")
        if count > MAX_BOARDS_PER_PAGE:
            raise DecodeError(f"{cls.__name__}.count", 2, f"{count} > {MAX_BOARDS_PER_PAGE}")
        r.done()
        return cls(start, count)


@dataclass(frozen=True, slots=True, eq=False)
class SetBoardPower(Message):
    on: bool
    indices: NDArray[np.intp]
    TYPE = MsgType.SET_BOARD_POWER
    SCHEMA = Struct("on" / Flag, "count" / Int16ub, "indices" / Array(this.count, Int16ub))

    def encode(self) -> bytes:
        return (b"\x01" if self.on else b"\x00") + _index_array("indices", self.indices)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(r.flag("on"), r.indices("indices"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True, eq=False)
class _BoardValues(Message):
    indices: NDArray[np.intp]
    values: NDArray[np.float64]
    SCHEMA = Struct(
        "count" / Int16ub,
        "indices" / Array(this.count, Int16ub),
        "values" / Array(this.count, Float32b),
    )

    def encode(self) -> bytes:
        head = _index_array("indices", self.indices)
        return head + _value_array("values", self.values, len(head) // 2 - 1)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        idx = r.indices("indices")
        start = r.pos
        values = r.array("values", ">f4", idx.size).astype(np.float64)
        r.finite("values", values, start)
        r.done()
        return cls(idx, values)


@dataclass(frozen=True, slots=True, eq=False)
class SetUtilization(_BoardValues):
    """Fraction of full load, 0..1 (the device clips)."""

    TYPE = MsgType.SET_UTILIZATION


@dataclass(frozen=True, slots=True, eq=False)
class SetPowerCap(_BoardValues):
    """Power limit in watts per board."""

    TYPE = MsgType.SET_POWER_CAP


@dataclass(frozen=True, slots=True, eq=False)
class _BoardIndices(Message):
    indices: NDArray[np.intp]
    SCHEMA = Struct("count" / Int16ub, "indices" / Array(this.count, Int16ub))

    def encode(self) -> bytes:
        return _index_array("indices", self.indices)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(r.indices("indices"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True, eq=False)
class ResetBoards(_BoardIndices):
    TYPE = MsgType.RESET_BOARDS


@dataclass(frozen=True, slots=True, eq=False)
class ScrubMemory(_BoardIndices):
    TYPE = MsgType.SCRUB_MEMORY


@dataclass(frozen=True, slots=True, eq=False)
class KickWatchdog(_Empty):
    TYPE = MsgType.KICK_WATCHDOG


# --- responses -------------------------------------------------------------------------


def _kind(name: str, value: int) -> int:
    if value not in NameKind._value2member_map_:
        raise EncodeError(name, f"{value!r} is not a NameKind")
    return int(value)


def _read_kind(r: _Reader) -> NameKind:
    pos = r.pos
    value = r.u8("which")
    if value not in NameKind._value2member_map_:
        raise DecodeError(f"{r.msg}.which", pos, f"{value} is not a name list kind")
    return NameKind(value)


def _f32(name: str, value: float) -> bytes:
    try:
        return struct.pack(">f", value)
    except (struct.error, OverflowError, TypeError) as exc:
        raise EncodeError(name, f"{value!r} does not fit a 32-bit float") from exc


def _count(name: str, n: int, limit: int = 0xFF) -> int:
    if n > limit:
        raise EncodeError(name, f"{n} entries, at most {limit}")
    return n


@dataclass(frozen=True, slots=True, eq=False)
class Ack(_Empty):
    """The empty response to a command that was carried out."""


@dataclass(frozen=True, slots=True, eq=False)
class PingReply(Message):
    nonce: int
    version: int
    n_switches: int
    n_sensors: int
    n_heaters: int
    n_boards: int
    watchdog_timeout_ms: int
    SCHEMA = Struct(
        "nonce" / Int32ub,
        "version" / Int8ub,
        "n_switches" / Int8ub,
        "n_sensors" / Int8ub,
        "n_heaters" / Int8ub,
        "n_boards" / Int16ub,
        "watchdog_timeout_ms" / Int32ub,
    )
    _S: ClassVar[struct.Struct] = struct.Struct(">IBBBBHI")

    def encode(self) -> bytes:
        return self._S.pack(
            _u("nonce", self.nonce, 32),
            _u("version", self.version, 8),
            _u("n_switches", self.n_switches, 8),
            _u("n_sensors", self.n_sensors, 8),
            _u("n_heaters", self.n_heaters, 8),
            _u("n_boards", self.n_boards, 16),
            _u("watchdog_timeout_ms", self.watchdog_timeout_ms, 32),
        )

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        if len(payload) != cls._S.size:
            raise DecodeError(cls.__name__, 0, f"{len(payload)} octets, expected {cls._S.size}")
        return cls(*cls._S.unpack(bytes(payload)))


@dataclass(frozen=True, slots=True, eq=False)
class NameList(Message):
    """Names of switches, sensors or heaters, in index order (printable ASCII, unique)."""

    which: NameKind
    names: tuple[str, ...]
    SCHEMA = Struct(
        "which" / Int8ub,
        "count" / Int8ub,
        "names" / Array(this.count, PascalString(Int8ub, "ascii")),
    )

    def encode(self) -> bytes:
        out = bytearray([_kind("which", self.which), _count("names", len(self.names))])
        for i, name in enumerate(self.names):
            raw = name.encode("ascii", "replace") if isinstance(name, str) else b""
            if not _valid_name(raw) or raw.decode() != name:
                raise EncodeError(f"names[{i}]", f"{name!r} is not 1..32 printable ASCII")
            out += bytes([len(raw)]) + raw
        if len(set(self.names)) != len(self.names):
            raise EncodeError("names", "names must be unique")
        return bytes(out)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        which = _read_kind(r)
        count = r.u8("count")
        names: list[str] = []
        for i in range(count):
            pos = r.pos
            n = r.u8(f"names[{i}].length")
            raw = r.buf[r._take(f"names[{i}]", n) : r.pos]
            if not _valid_name(raw):
                raise DecodeError(f"{cls.__name__}.names[{i}]", pos, "not 1..32 printable ASCII")
            name = raw.decode("ascii")
            if name in names:
                raise DecodeError(f"{cls.__name__}.names[{i}]", pos, f"duplicate name {name!r}")
            names.append(name)
        r.done()
        return cls(which, tuple(names))


def _valid_name(raw: bytes) -> bool:
    return 1 <= len(raw) <= MAX_NAME_LEN and all(0x21 <= c <= 0x7E for c in raw)


SWITCH_ON = 0x01
SWITCH_TRIPPED = 0x02


@dataclass(frozen=True, slots=True, eq=False)
class SwitchStates(Message):
    """Per switch: on, tripped (flag bits 0 and 1) and the sensed current in amperes."""

    on: tuple[bool, ...]
    tripped: tuple[bool, ...]
    current_a: tuple[float, ...]
    SCHEMA = Struct(
        "count" / Int8ub,
        "flags" / Array(this.count, BitStruct(Padding(6), "tripped" / Flag, "on" / Flag)),
        "current_a" / Array(this.count, Float32b),
    )

    def encode(self) -> bytes:
        n = _count("on", len(self.on))
        if len(self.tripped) != n or len(self.current_a) != n:
            raise EncodeError("switches", "on, tripped and current_a differ in length")
        flags = bytes(
            (SWITCH_ON if on else 0) | (SWITCH_TRIPPED if tr else 0)
            for on, tr in zip(self.on, self.tripped, strict=True)
        )
        return bytes([n]) + flags + b"".join(_f32("current_a", c) for c in self.current_a)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        n = r.u8("count")
        pos = r.pos
        flags = r.array("flags", "u1", n)
        bad = np.flatnonzero(flags & ~np.uint8(SWITCH_ON | SWITCH_TRIPPED))
        if bad.size:
            raise DecodeError(f"{cls.__name__}.flags", pos + int(bad[0]), "undefined flag bits")
        current = r.array("current_a", ">f4", n)
        r.done()
        return cls(
            tuple(bool(f & SWITCH_ON) for f in flags),
            tuple(bool(f & SWITCH_TRIPPED) for f in flags),
            tuple(float(c) for c in current),
        )


@dataclass(frozen=True, slots=True, eq=False)
class _ThreeFloats(Message):
    _S: ClassVar[struct.Struct] = struct.Struct(">fff")

    def _values(self) -> tuple[float, float, float]:
        raise NotImplementedError

    def encode(self) -> bytes:
        return b"".join(_f32(f.name, v) for f, v in zip(fields(self), self._values(), strict=True))

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        if len(payload) != 12:
            raise DecodeError(cls.__name__, 0, f"{len(payload)} octets, expected 12")
        a, b, c = cls._S.unpack(bytes(payload))
        return cls(float(a), float(b), float(c))  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True, eq=False)
class BatteryReading(_ThreeFloats):
    voltage_v: float
    current_a: float  # > 0 is charging
    temperature_c: float
    SCHEMA = Struct("voltage_v" / Float32b, "current_a" / Float32b, "temperature_c" / Float32b)

    def _values(self) -> tuple[float, float, float]:
        return (self.voltage_v, self.current_a, self.temperature_c)


@dataclass(frozen=True, slots=True, eq=False)
class SolarReading(_ThreeFloats):
    voltage_v: float
    current_a: float
    sun_sensor: float
    SCHEMA = Struct("voltage_v" / Float32b, "current_a" / Float32b, "sun_sensor" / Float32b)

    def _values(self) -> tuple[float, float, float]:
        return (self.voltage_v, self.current_a, self.sun_sensor)


@dataclass(frozen=True, slots=True, eq=False)
class Temperatures(Message):
    values_c: tuple[float, ...]
    SCHEMA = Struct("count" / Int8ub, "values_c" / Array(this.count, Float32b))

    def encode(self) -> bytes:
        n = _count("values_c", len(self.values_c))
        return bytes([n]) + b"".join(_f32("values_c", v) for v in self.values_c)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        values = r.array("values_c", ">f4", r.u8("count"))
        r.done()
        return cls(tuple(float(v) for v in values))


@dataclass(frozen=True, slots=True, eq=False)
class HeaterStates(Message):
    on: tuple[bool, ...]
    SCHEMA = Struct("count" / Int8ub, "on" / Array(this.count, Flag))

    def encode(self) -> bytes:
        return bytes([_count("on", len(self.on))]) + bytes(1 if v else 0 for v in self.on)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        on = r.flags("on", r.u8("count"))
        r.done()
        return cls(tuple(bool(v) for v in on))


BOARD_FIELDS: tuple[tuple[str, str], ...] = (
    ("powered", "u1"),
    ("current_a", ">f4"),
    ("power_w", ">f4"),
    ("temperature_c", ">f4"),
    ("ecc_corrected", ">u4"),
    ("ecc_uncorrectable", ">u4"),
    ("heartbeat", ">u4"),
    ("work_done", ">f8"),
)


@dataclass(frozen=True, slots=True, eq=False)
class BoardPage(Message):
    """Telemetry of boards ``start .. start + len - 1`` out of ``total``, one array per field.

    Counters travel as u32 and wrap at 2**32; floats as f32 except ``work_done`` (f64).
    """

    total: int
    start: int
    powered: NDArray[np.bool_]
    current_a: NDArray[np.float64]
    power_w: NDArray[np.float64]
    temperature_c: NDArray[np.float64]
    ecc_corrected: NDArray[np.int64]
    ecc_uncorrectable: NDArray[np.int64]
    heartbeat: NDArray[np.int64]
    work_done: NDArray[np.float64]
    SCHEMA = Struct(
        "total" / Int16ub,
        "start" / Int16ub,
        "count" / Int16ub,
        "powered" / Array(this.count, Flag),
        "current_a" / Array(this.count, Float32b),
        "power_w" / Array(this.count, Float32b),
        "temperature_c" / Array(this.count, Float32b),
        "ecc_corrected" / Array(this.count, Int32ub),
        "ecc_uncorrectable" / Array(this.count, Int32ub),
        "heartbeat" / Array(this.count, Int32ub),
        "work_done" / Array(this.count, Float64b),
    )

    @property
    def count(self) -> int:
        return int(np.asarray(self.powered).size)

    def encode(self) -> bytes:
        n = self.count
        if n > MAX_BOARDS_PER_PAGE:
            raise EncodeError("count", f"{n} boards, at most {MAX_BOARDS_PER_PAGE} per page")
        total = _u("total", self.total, 16)
        start = _u("start", self.start, 16)
        if start + n > total:
            raise EncodeError("start", f"boards {start}..{start + n - 1} past total {total}")
        out = [struct.pack(">HHH", total, start, n)]
        for name, dtype in BOARD_FIELDS:
            arr = np.asarray(getattr(self, name))
            if arr.shape != (n,):
                raise EncodeError(name, f"shape {arr.shape}, expected ({n},)")
            if dtype == ">u4":
                arr = arr.astype(np.int64) & 0xFFFFFFFF  # counters wrap on the wire
            out.append(arr.astype(dtype).tobytes())
        return b"".join(out)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        total = r.u16("total")
        start = r.u16("start")
        n = r.u16("count")
        if n > MAX_BOARDS_PER_PAGE or start + n > total:
            raise DecodeError(f"{cls.__name__}.count", 4, f"{n} boards from {start} of {total}")
        arrays: dict[str, NDArray[Any]] = {}
        for name, dtype in BOARD_FIELDS:
            if dtype == "u1":
                arrays[name] = r.flags(name, n)
            elif dtype == ">u4":
                arrays[name] = r.array(name, dtype, n).astype(np.int64)
            else:
                arrays[name] = r.array(name, dtype, n).astype(np.float64)
        r.done()
        return cls(total, start, **arrays)


@dataclass(frozen=True, slots=True, eq=False)
class Nak(Message):
    """A refused request: which type, and why (a :class:`NakCode`, unknown codes kept)."""

    request_type: int
    code: int
    SCHEMA = Struct("request_type" / Int8ub, "code" / Int8ub)

    def encode(self) -> bytes:
        return bytes([_u("request_type", self.request_type, 8), _u("code", self.code, 8)])

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        r = _Reader(payload, cls.__name__)
        msg = cls(r.u8("request_type"), r.u8("code"))
        r.done()
        return msg


REQUESTS: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Ping,
        ListNames,
        ReadSwitches,
        SetSwitch,
        ResetTrip,
        ReadBattery,
        ReadSolarArray,
        ReadTemperatures,
        SetHeater,
        ReadHeaters,
        ReadBoards,
        SetBoardPower,
        SetUtilization,
        SetPowerCap,
        ResetBoards,
        ScrubMemory,
        KickWatchdog,
    )
}

RESPONSES: dict[int, type[Message]] = {
    MsgType.PING: PingReply,
    MsgType.LIST_NAMES: NameList,
    MsgType.READ_SWITCHES: SwitchStates,
    MsgType.SET_SWITCH: Ack,
    MsgType.RESET_TRIP: Ack,
    MsgType.READ_BATTERY: BatteryReading,
    MsgType.READ_SOLAR_ARRAY: SolarReading,
    MsgType.READ_TEMPERATURES: Temperatures,
    MsgType.SET_HEATER: Ack,
    MsgType.READ_HEATERS: HeaterStates,
    MsgType.READ_BOARDS: BoardPage,
    MsgType.SET_BOARD_POWER: Ack,
    MsgType.SET_UTILIZATION: Ack,
    MsgType.SET_POWER_CAP: Ack,
    MsgType.RESET_BOARDS: Ack,
    MsgType.SCRUB_MEMORY: Ack,
    MsgType.KICK_WATCHDOG: Ack,
}
"""Response payload class of each request type; its wire type is ``request | 0x80``."""


def decode_request(frame: Frame) -> Message:
    """The request a frame carries; unknown types and bad payloads raise DecodeError."""
    cls = REQUESTS.get(frame.type)
    if cls is None:
        raise DecodeError("type", 4, f"0x{frame.type:02x} is not a request type")
    return cls.decode(frame.payload)


def decode_response(frame: Frame) -> Message:
    """The response (or :class:`Nak`) a frame carries."""
    if frame.type == NAK_TYPE:
        return Nak.decode(frame.payload)
    cls = RESPONSES.get(frame.type & ~RESPONSE_BIT) if frame.type & RESPONSE_BIT else None
    if cls is None:
        raise DecodeError("type", 4, f"0x{frame.type:02x} is not a response type")
    return cls.decode(frame.payload)


def response_type(request_type: int) -> int:
    return request_type | RESPONSE_BIT
