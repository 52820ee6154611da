"""The bench serial protocol: frames, a streaming frame decoder, and the message payloads.

A hardware-in-the-loop bench talks to the flight computer over one serial line (UART,
USB CDC, a pty or a TCP bridge). Every exchange is a request frame from the flight side
and exactly one response frame (or a NAK) from the bench device.

``FRAME`` declares the frame (its fast codec here is tested equal to it). Each message
class declares its payload once, in ``SCHEMA``: its encode and decode are derived from
that declaration (:mod:`hal.serial.codec`), its decorator registers it in ``REQUESTS``
and ``RESPONSES``, and the message tables of docs/serial-protocol.md are generated from
it (``tools/serial_protocol_doc.py``; a test keeps the document equal).

Frame: ``A5 5A | length u16 | type u8 | seq u8 | payload | CRC-16/CCITT-FALSE u16``, all
integers big-endian, the CRC covering length..payload.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import ClassVar, Self, TypeVar, cast

import numpy as np
from construct import (
    Array,
    Bytes,
    Checksum,
    Const,
    Float32b,
    Float64b,
    Int8ub,
    Int16ub,
    Int32ub,
    RawCopy,
    Struct,
    this,
)
from numpy.typing import NDArray

from flightsw.base.crc import crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.base.stream import StreamReader
from hal.serial.codec import (
    AtMost,
    Bits8,
    Bool8,
    Codec,
    Enum8,
    Finite,
    Name,
    Rule,
    Unique,
    Wrapping,
)

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


NAK_MEANING = {
    NakCode.UNKNOWN_TYPE: "the device does not implement this request type",
    NakCode.BAD_PAYLOAD: "payload does not decode (length, flag value, NaN ...)",
    NakCode.BUSY: "try again; the flight side retries within its budget",
    NakCode.BAD_INDEX: "a switch, heater or board index the device does not have",
}


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


class FrameDecoder(StreamReader):
    """Turns arbitrary chunks of a byte stream into complete, CRC-checked frames.

    Octets before a SYNC are garbage; a candidate frame with an oversized length or a
    bad CRC is abandoned by skipping one octet and searching for the next SYNC, so a
    frame hidden behind a corrupted header is still found. Between calls the buffer
    holds at most one partial frame (fewer than ``MAX_FRAME_LEN`` octets).

    Bounded (:class:`flightsw.base.stream.StreamBuffer`): a chunk is taken in pieces of
    at most ``FEED_PIECE`` octets, each scanned before the next, so the buffer never holds
    more than one partial frame and a piece, and never has to drop an octet for room
    (``dropped_octets`` stays 0; the frames found do not depend on how the stream was cut).
    """

    FEED_PIECE = 64 * 1024

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        if not 0 <= max_payload <= 0xFFFF:
            raise EncodeError("max_payload", f"{max_payload} is not in 0..65535")
        self.max_payload = max_payload
        super().__init__(OVERHEAD + max_payload + self.FEED_PIECE)
        self._buf = self._stream.data  # parsed in place
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
        piece = self.FEED_PIECE
        if len(data) <= piece:
            self._stream.feed(data)
            return self._scan()
        out: list[Frame] = []
        view = memoryview(data)
        for start in range(0, len(view), piece):
            self._stream.feed(view[start : start + piece])
            out += self._scan()
        return out

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
#
# Each message is declared once, by its ``SCHEMA``; its encode and decode are derived
# from it (hal/serial/codec.py), its registration comes from its decorator, and
# docs/serial-protocol.md is generated from it (tools/serial_protocol_doc.py).

MAX_NAME_LEN = 32
BOARD_RECORD_LEN = 33  # powered u8, 3 x f32, 3 x u32, f64
MAX_BOARDS_PER_PAGE = 120  # 6 + 120 * 33 = 3966 octets, under MAX_PAYLOAD
MAX_INDICES = 682  # (MAX_PAYLOAD - 2) // 6: indices plus one f32 each still fit

SWITCH_ON = 0x01
SWITCH_TRIPPED = 0x02


class NameKind(IntEnum):
    """Which name list a LIST_NAMES request asks for."""

    SWITCHES = 0
    SENSORS = 1
    HEATERS = 2


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and bool(np.all((x == y) | ((x != x) & (y != y))))
    return a == b


class Message:
    """A request or response payload, declared by ``SCHEMA``; encode and decode follow it.

    Requests carry their wire ``TYPE`` and the class of their ``RESPONSE`` (set by
    :func:`request`); responses have ``TYPE`` -1.
    """

    __slots__ = ()
    TYPE: ClassVar[int] = -1
    RESPONSE: ClassVar[type[Message]]
    SCHEMA: ClassVar[Struct] = Struct()
    CODEC: ClassVar[Codec]

    def encode(self) -> bytes:
        """The payload octets; a value the declaration cannot carry is an EncodeError."""
        return self.CODEC.encode(self)

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        """Exactly one payload of this message; anything else raises DecodeError."""
        return cast(Self, cls.CODEC.decode(payload))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _same(getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)  # type: ignore[arg-type]
        )

    __hash__ = None  # type: ignore[assignment]


REQUESTS: dict[int, type[Message]] = {}
"""Request class of each request type."""
RESPONSES: dict[int, type[Message]] = {}
"""Response payload class of each request type; its wire type is ``request | 0x80``."""

M = TypeVar("M", bound=Message)


def message(cls: type[M]) -> type[M]:
    """Derive the codec of a message class from its ``SCHEMA`` (at import, so a declaration
    the codec cannot follow, or that disagrees with the class's fields, fails at once)."""
    cls.CODEC = Codec(cls, cls.SCHEMA)
    return cls


def request(msg_type: MsgType, response: type[Message]) -> Callable[[type[M]], type[M]]:
    """Declare a request class: its wire type and the class of the answer it gets."""

    def register(cls: type[M]) -> type[M]:
        if msg_type in REQUESTS:
            raise TypeError(f"{msg_type!r} declared twice")
        cls.TYPE = msg_type
        cls.RESPONSE = response
        REQUESTS[msg_type] = cls
        RESPONSES[msg_type] = response
        return message(cls)

    return register


# --- responses -------------------------------------------------------------------------


@message
@dataclass(frozen=True, slots=True, eq=False)
class Ack(Message):
    """The empty response to a command that was carried out."""


@message
@dataclass(frozen=True, slots=True, eq=False)
class PingReply(Message):
    """The device's protocol version and inventory."""

    nonce: int
    version: int
    n_switches: int
    n_sensors: int
    n_heaters: int
    n_boards: int
    watchdog_timeout_ms: int
    SCHEMA = Struct(
        "nonce" / Int32ub * "the request's nonce, echoed",
        "version" / Int8ub * f"protocol version ({PROTOCOL_VERSION})",
        "n_switches" / Int8ub * "PCDU switches",
        "n_sensors" / Int8ub * "thermistors",
        "n_heaters" / Int8ub * "heaters",
        "n_boards" / Int16ub * "accelerator boards",
        "watchdog_timeout_ms" / Int32ub * "hardware watchdog timeout",
    )


@message
@dataclass(frozen=True, slots=True, eq=False)
class NameList(Message):
    """Names of switches, sensors or heaters, in index order.

    The count must equal the matching count in the PING reply. Indices in SET_SWITCH,
    RESET_TRIP and SET_HEATER, and the order of values in READ_SWITCHES,
    READ_TEMPERATURES and READ_HEATERS, follow the order of these lists.
    """

    which: NameKind
    names: tuple[str, ...]
    SCHEMA = Struct(
        "which" / Enum8(NameKind) * "the list asked for",
        "count" / Int8ub,
        "names" / Unique(Array(this.count, Name(MAX_NAME_LEN))) * "in index order",
    )


@message
@dataclass(frozen=True, slots=True, eq=False)
class SwitchStates(Message):
    """Per switch: on, tripped and the sensed current.

    A tripped switch is off until RESET_TRIP; a reset leaves it off.
    """

    on: tuple[bool, ...]
    tripped: tuple[bool, ...]
    current_a: tuple[float, ...]
    SCHEMA = Struct(
        "count" / Int8ub,
        "flags" / Array(this.count, Bits8(on=SWITCH_ON, tripped=SWITCH_TRIPPED)) * "per switch",
        "current_a" / Array(this.count, Float32b) * "sensed current, amperes",
    )


@message
@dataclass(frozen=True, slots=True, eq=False)
class BatteryReading(Message):
    """The battery as the bench measures it."""

    voltage_v: float
    current_a: float
    temperature_c: float
    SCHEMA = Struct(
        "voltage_v" / Float32b * "volts",
        "current_a" / Float32b * "amperes, > 0 charging",
        "temperature_c" / Float32b * "°C",
    )


@message
@dataclass(frozen=True, slots=True, eq=False)
class SolarReading(Message):
    """The solar array as the bench measures it."""

    voltage_v: float
    current_a: float
    sun_sensor: float
    SCHEMA = Struct(
        "voltage_v" / Float32b * "volts",
        "current_a" / Float32b * "amperes",
        "sun_sensor" / Float32b * "cosine of the sun angle, 0 in eclipse",
    )


@message
@dataclass(frozen=True, slots=True, eq=False)
class Temperatures(Message):
    """Every thermistor, in the order of the sensors' name list."""

    values_c: tuple[float, ...]
    SCHEMA = Struct("count" / Int8ub, "values_c" / Array(this.count, Float32b) * "°C")


@message
@dataclass(frozen=True, slots=True, eq=False)
class HeaterStates(Message):
    """Every heater, in the order of the heaters' name list."""

    on: tuple[bool, ...]
    SCHEMA = Struct("count" / Int8ub, "on" / Array(this.count, Bool8()) * "1 on, 0 off")


@message
@dataclass(frozen=True, slots=True, eq=False)
class BoardPage(Message):
    """Telemetry of boards ``start .. start + count - 1`` out of ``total``.

    Arrays are packed field by field ("structure of arrays"), ``count`` elements each:
    33 octets per board, so a page of 120 boards is 3966 octets. The flight side reads
    ``ceil(n_boards / 120)`` pages per ``read_boards()``.
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
        "total" / Int16ub * "boards on the bench",
        "start" / Int16ub * "index of the first board in this page",
        "count" / AtMost(Int16ub, MAX_BOARDS_PER_PAGE) * "boards in this page",
        Rule("start", this.start + this.count <= this.total, "start + count ≤ total"),
        "powered" / Array(this.count, Bool8()) * "1 powered, 0 off",
        "current_a" / Array(this.count, Float32b) * "rail current, amperes",
        "power_w" / Array(this.count, Float32b) * "watts",
        "temperature_c" / Array(this.count, Float32b) * "°C",
        "ecc_corrected" / Array(this.count, Wrapping(Int32ub)) * "cumulative since power-on",
        "ecc_uncorrectable" / Array(this.count, Wrapping(Int32ub)) * "cumulative since power-on",
        "heartbeat" / Array(this.count, Wrapping(Int32ub)) * "advances while the board is alive",
        "work_done" / Array(this.count, Float64b) * "cumulative work units",
    )

    @property
    def count(self) -> int:
        return int(np.asarray(self.powered).size)


@message
@dataclass(frozen=True, slots=True, eq=False)
class Nak(Message):
    """A refused request (frame type 0xFF, the request's seq): which type, and why.

    A receiver keeps codes it does not know (newer firmware) and reports them as refusals.
    """

    request_type: int
    code: int
    SCHEMA = Struct(
        "request_type" / Int8ub * "the refused request's type",
        "code" / Int8ub * "a NAK code (below)",
    )


# --- requests --------------------------------------------------------------------------

_INDICES = (
    "count" / AtMost(Int16ub, MAX_INDICES),
    "indices" / Array(this.count, Int16ub) * "board indices",
)


@request(MsgType.PING, PingReply)
@dataclass(frozen=True, slots=True, eq=False)
class Ping(Message):
    """Liveness check; the reply also describes the device's inventory."""

    nonce: int = 0
    SCHEMA = Struct("nonce" / Int32ub * "echoed in the reply")


@request(MsgType.LIST_NAMES, NameList)
@dataclass(frozen=True, slots=True, eq=False)
class ListNames(Message):
    """One of the device's name lists."""

    which: NameKind = NameKind.SWITCHES
    SCHEMA = Struct("which" / Enum8(NameKind) * "the list to send")


@request(MsgType.READ_SWITCHES, SwitchStates)
@dataclass(frozen=True, slots=True, eq=False)
class ReadSwitches(Message):
    """The PCDU's switches."""


@dataclass(frozen=True, slots=True, eq=False)
class _IndexOn(Message):
    """Switch something with an index on or off (a PCDU switch, a heater)."""

    index: int
    on: bool
    SCHEMA = Struct(
        "index" / Int8ub * "in the order of the switches' (heaters') name list",
        "on" / Bool8() * "1 on, 0 off",
    )


@request(MsgType.SET_SWITCH, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class SetSwitch(_IndexOn):
    """Command a PCDU switch on or off (a tripped switch stays off until RESET_TRIP)."""


@request(MsgType.RESET_TRIP, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class ResetTrip(Message):
    """Clear a switch's overcurrent trip; the switch stays off."""

    index: int
    SCHEMA = Struct("index" / Int8ub * "in the order of the switches' name list")


@request(MsgType.READ_BATTERY, BatteryReading)
@dataclass(frozen=True, slots=True, eq=False)
class ReadBattery(Message):
    """The battery's voltage, current and temperature."""


@request(MsgType.READ_SOLAR_ARRAY, SolarReading)
@dataclass(frozen=True, slots=True, eq=False)
class ReadSolarArray(Message):
    """The solar array's voltage, current and sun sensor."""


@request(MsgType.READ_TEMPERATURES, Temperatures)
@dataclass(frozen=True, slots=True, eq=False)
class ReadTemperatures(Message):
    """Every thermistor."""


@request(MsgType.SET_HEATER, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class SetHeater(_IndexOn):
    """Command a heater on or off."""


@request(MsgType.READ_HEATERS, HeaterStates)
@dataclass(frozen=True, slots=True, eq=False)
class ReadHeaters(Message):
    """Every heater's state."""


@request(MsgType.READ_BOARDS, BoardPage)
@dataclass(frozen=True, slots=True, eq=False)
class ReadBoards(Message):
    """One page of board telemetry: boards ``start .. start + count - 1``."""

    start: int = 0
    count: int = MAX_BOARDS_PER_PAGE
    SCHEMA = Struct(
        "start" / Int16ub * "index of the first board",
        "count" / AtMost(Int16ub, MAX_BOARDS_PER_PAGE) * "boards in the page",
    )


@request(MsgType.SET_BOARD_POWER, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class SetBoardPower(Message):
    """Power boards on or off."""

    on: bool
    indices: NDArray[np.intp]
    SCHEMA = Struct("on" / Bool8() * "1 on, 0 off", *_INDICES)


@dataclass(frozen=True, slots=True, eq=False)
class _BoardValues(Message):
    indices: NDArray[np.intp]
    values: NDArray[np.float64]
    SCHEMA = Struct(*_INDICES, "values" / Array(this.count, Finite(Float32b)) * "one per index")


@request(MsgType.SET_UTILIZATION, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class SetUtilization(_BoardValues):
    """Fraction of full load per board, 0..1 (the device clips)."""


@request(MsgType.SET_POWER_CAP, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class SetPowerCap(_BoardValues):
    """Power limit in watts per board."""


@dataclass(frozen=True, slots=True, eq=False)
class _BoardIndices(Message):
    indices: NDArray[np.intp]
    SCHEMA = Struct(*_INDICES)


@request(MsgType.RESET_BOARDS, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class ResetBoards(_BoardIndices):
    """Reset boards (a hung board restarts)."""


@request(MsgType.SCRUB_MEMORY, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class ScrubMemory(_BoardIndices):
    """Scrub boards' memory (correctable errors corrected)."""


@request(MsgType.KICK_WATCHDOG, Ack)
@dataclass(frozen=True, slots=True, eq=False)
class KickWatchdog(Message):
    """Restart the hardware watchdog's timeout."""


if set(REQUESTS) != set(MsgType):
    raise TypeError(f"request types without a class: {sorted(set(MsgType) - set(REQUESTS))}")


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
