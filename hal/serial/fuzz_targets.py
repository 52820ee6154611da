"""The serial protocol's decoders as targets for ``tools/fuzz.py``.

The frame codec and message decoders may raise only ``DecodeError``; the streaming
frame decoder must never raise at all (it resyncs and counts).
"""

from __future__ import annotations

from collections.abc import Callable

from flightsw.base.errors import DecodeError
from hal.serial import protocol as p


def _seeds() -> list[bytes]:
    return [
        p.encode_frame(p.MsgType.PING, 1, p.Ping(7).encode()),
        p.encode_frame(p.MsgType.SET_SWITCH, 2, p.SetSwitch(3, True).encode()),
        p.encode_frame(p.MsgType.READ_BOARDS, 3, p.ReadBoards(0, 8).encode()),
    ]


def _stream(data: bytes) -> object:
    dec = p.FrameDecoder()
    half = len(data) // 2
    return dec.feed(data[:half]) + dec.feed(data[half:])


def _request(data: bytes) -> object:
    return p.decode_request(p.decode_frame(data))


_S = _seeds()
FUZZ_TARGETS: list[tuple[str, Callable[[bytes], object], list[bytes], tuple[type, ...]]] = [
    ("serial.decode_frame", p.decode_frame, _S, (DecodeError,)),
    ("serial.decode_request", _request, _S, (DecodeError,)),
    ("serial.FrameDecoder", _stream, [b"".join(_S)], ()),
]
