"""Bench serial protocol: frame codec, streaming decoder and message payloads."""

from __future__ import annotations

import contextlib
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError, EncodeError
from hal.serial import protocol as p
from hal.serial.protocol import (
    FRAME,
    MAX_FRAME_LEN,
    MAX_PAYLOAD,
    Frame,
    FrameDecoder,
    Message,
    decode_frame,
    encode_frame,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
f32 = st.floats(width=32, allow_nan=False)
finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
names = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32
)


@st.composite
def frames(draw: st.DrawFn, max_payload: int = 300) -> Frame:
    return Frame(draw(u8), draw(u8), draw(st.binary(max_size=max_payload)))


def _indices(draw: st.DrawFn, max_size: int = 40) -> np.ndarray[Any, Any]:
    return np.array(draw(st.lists(u16, max_size=max_size)), dtype=np.intp)


@st.composite
def board_pages(draw: st.DrawFn) -> p.BoardPage:
    n = draw(st.integers(0, 12))
    start = draw(st.integers(0, 100))
    total = start + n + draw(st.integers(0, 50))
    u32s = st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n)
    f32s = st.lists(f32, min_size=n, max_size=n)
    return p.BoardPage(
        total,
        start,
        np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=np.bool_),
        np.array(draw(f32s), dtype=np.float64),
        np.array(draw(f32s), dtype=np.float64),
        np.array(draw(f32s), dtype=np.float64),
        np.array(draw(u32s), dtype=np.int64),
        np.array(draw(u32s), dtype=np.int64),
        np.array(draw(u32s), dtype=np.int64),
        np.array(
            draw(st.lists(st.floats(allow_nan=False), min_size=n, max_size=n)), dtype=np.float64
        ),
    )


@st.composite
def board_values(draw: st.DrawFn, cls: type[p.SetUtilization] | type[p.SetPowerCap]) -> Message:
    idx = _indices(draw)
    vals = draw(st.lists(finite32, min_size=idx.size, max_size=idx.size))
    return cls(idx, np.array(vals, dtype=np.float64))


@st.composite
def switch_states(draw: st.DrawFn) -> p.SwitchStates:
    n = draw(st.integers(0, 20))
    bools = st.lists(st.booleans(), min_size=n, max_size=n)
    return p.SwitchStates(
        tuple(draw(bools)), tuple(draw(bools)), tuple(draw(st.lists(f32, min_size=n, max_size=n)))
    )


@st.composite
def board_commands(draw: st.DrawFn) -> Message:
    idx = _indices(draw)
    kind = draw(st.sampled_from(["power", "reset", "scrub"]))
    if kind == "power":
        return p.SetBoardPower(draw(st.booleans()), idx)
    return p.ResetBoards(idx) if kind == "reset" else p.ScrubMemory(idx)


kinds = st.sampled_from(list(p.NameKind))
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(p.Ping, st.integers(0, 2**32 - 1)),
    st.builds(p.ListNames, kinds),
    st.just(p.ReadSwitches()),
    st.builds(p.SetSwitch, u8, st.booleans()),
    st.builds(p.ResetTrip, u8),
    st.just(p.ReadBattery()),
    st.just(p.ReadSolarArray()),
    st.just(p.ReadTemperatures()),
    st.builds(p.SetHeater, u8, st.booleans()),
    st.just(p.ReadHeaters()),
    st.builds(p.ReadBoards, u16, st.integers(0, p.MAX_BOARDS_PER_PAGE)),
    board_commands(),
    board_values(p.SetUtilization),
    board_values(p.SetPowerCap),
    st.just(p.KickWatchdog()),
    st.just(p.Ack()),
    st.builds(
        p.PingReply,
        st.integers(0, 2**32 - 1),
        u8,
        u8,
        u8,
        u8,
        u16,
        st.integers(0, 2**32 - 1),
    ),
    st.builds(p.NameList, kinds, st.lists(names, max_size=20, unique=True).map(tuple)),
    switch_states(),
    st.builds(p.BatteryReading, f32, f32, f32),
    st.builds(p.SolarReading, f32, f32, f32),
    st.builds(p.Temperatures, st.lists(f32, max_size=40).map(tuple)),
    st.builds(p.HeaterStates, st.lists(st.booleans(), max_size=40).map(tuple)),
    board_pages(),
    st.builds(p.Nak, u8, u8),
)


def schema_dict(msg: Message) -> dict[str, Any]:
    """The construct container that should describe ``msg``."""
    if isinstance(msg, p.SwitchStates):
        return {
            "count": len(msg.on),
            "flags": [{"on": a, "tripped": b} for a, b in zip(msg.on, msg.tripped, strict=True)],
            "current_a": list(msg.current_a),
        }
    out: dict[str, Any] = {}
    for f in fields(msg):  # type: ignore[arg-type]
        value = getattr(msg, f.name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
            out["count"] = len(value)
        elif isinstance(value, tuple):
            value = list(value)
            out["count"] = len(value)
        out[f.name] = int(value) if isinstance(value, p.NameKind) else value
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


# --- frames ----------------------------------------------------------------------------


def test_known_frame_bytes() -> None:
    raw = encode_frame(0x01, 0x02, b"xyz")
    assert raw[:2] == b"\xa5\x5a"
    assert raw[2:6] == bytes([0, 3, 1, 2])
    assert raw.hex() == "a55a0003010278797a64a2"


@given(frames())
def test_frame_round_trip_and_fast_path_equals_declaration(f: Frame) -> None:
    raw = f.encode()
    assert decode_frame(raw) == f
    assert len(raw) == len(f.payload) + p.OVERHEAD
    parsed = FRAME.parse(raw)
    body = parsed.body.value
    assert (body.type, body.seq, body.payload, body.length) == (
        f.type,
        f.seq,
        f.payload,
        len(f.payload),
    )
    built = FRAME.build(
        {
            "body": {
                "value": {
                    "length": len(f.payload),
                    "type": f.type,
                    "seq": f.seq,
                    "payload": f.payload,
                }
            }
        }
    )
    assert built == raw


@given(st.binary(max_size=80))
def test_frame_garbage_raises_only_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_frame(raw)


@given(frames(), st.integers(0, 10_000), st.integers(0, 7))
def test_every_single_bit_error_is_detected(f: Frame, pos: int, bit: int) -> None:
    raw = bytearray(f.encode())
    raw[pos % len(raw)] ^= 1 << bit
    with pytest.raises(DecodeError):
        decode_frame(bytes(raw))
    cut = pos % len(raw)
    with pytest.raises(DecodeError):
        decode_frame(f.encode()[:cut])


def test_decode_frame_names_field_and_offset() -> None:
    raw = bytearray(encode_frame(3, 4, b"abc"))
    raw[-1] ^= 0xFF
    with pytest.raises(DecodeError) as exc:
        decode_frame(bytes(raw))
    assert exc.value.field == "crc" and exc.value.offset == 9
    big = b"\xa5\x5a\xff\xff\x00\x00" + bytes(2)
    with pytest.raises(DecodeError) as exc:
        decode_frame(big)
    assert exc.value.field == "length" and exc.value.offset == 2


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((256, 0, b""), "type"),
        ((0, -1, b""), "seq"),
        ((0, 0, bytes(MAX_PAYLOAD + 1)), "payload"),
        ((True, 0, b""), "type"),
    ],
)
def test_encode_frame_rejects_bad_fields(args: tuple[Any, int, bytes], field: str) -> None:
    with pytest.raises(EncodeError) as exc:
        encode_frame(*args)
    assert exc.value.field == field


# --- streaming decoder -----------------------------------------------------------------

garbage = st.lists(st.one_of(st.sampled_from([0xA5, 0x5A, 0x00, 0xFF]), u8), max_size=40).map(bytes)


@given(
    st.lists(st.tuples(garbage, frames(max_payload=60)), min_size=1, max_size=12),
    garbage,
    st.lists(st.integers(1, 50), min_size=1, max_size=30),
)
def test_decoder_recovers_every_intact_frame_from_any_chunking(
    parts: list[tuple[bytes, Frame]], tail: bytes, cuts: list[int]
) -> None:
    stream = b"".join(g + f.encode() for g, f in parts) + tail
    dec = FrameDecoder()
    got: list[Frame] = []
    pos = 0
    i = 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        got += dec.feed(stream[pos : pos + step])
        assert dec.pending < MAX_FRAME_LEN
        pos += step
        i += 1
    got += dec.resync()
    assert dec.pending == 0
    # Every intact frame comes out, in order (garbage may add a frame, never hide one).
    it = iter(got)
    for _, f in parts:
        assert any(g == f for g in it), f"lost {f}"


def test_decoder_counts_garbage_crc_errors_and_oversize() -> None:
    good = encode_frame(0x81, 7, b"ok")
    bad_crc = bytearray(encode_frame(0x82, 8, b"bad"))
    bad_crc[-1] ^= 1
    oversize = b"\xa5\x5a\x10\x01"  # 4097 payload octets
    dec = FrameDecoder()
    out = dec.feed(b"junk" + bytes(bad_crc) + oversize + good)
    assert out == [Frame(0x81, 7, b"ok")]
    assert dec.frames == 1
    assert dec.crc_errors == 1
    assert dec.oversize == 1
    assert dec.garbage_octets == 4 + len(bad_crc) + len(oversize)
    assert dec.pending == 0


def test_decoder_holds_partial_frame_then_completes_it() -> None:
    raw = encode_frame(1, 1, b"hello")
    dec = FrameDecoder()
    assert dec.feed(raw[:5]) == []
    assert dec.pending == 5
    assert dec.feed(raw[5:]) == [Frame(1, 1, b"hello")]


def test_resync_finds_frames_behind_a_corrupted_length() -> None:
    # A false header claiming 3000 octets would swallow the real frames behind it.
    false_header = b"\xa5\x5a\x0b\xb8\x01\x01"
    good = [encode_frame(0x81, i, bytes([i]) * 3) for i in range(3)]
    dec = FrameDecoder()
    assert dec.feed(false_header + b"".join(good)) == []
    assert dec.resync() == [Frame(0x81, i, bytes([i]) * 3) for i in range(3)]
    assert dec.abandoned >= 1 and dec.pending == 0


def test_trailing_sync_octet_is_kept() -> None:
    dec = FrameDecoder()
    raw = encode_frame(2, 2)
    assert dec.feed(b"xx" + raw[:1]) == []
    assert dec.pending == 1
    assert dec.feed(raw[1:]) == [Frame(2, 2)]


# --- messages --------------------------------------------------------------------------


@given(messages)
def test_message_round_trip_and_fast_path_equals_declaration(msg: Message) -> None:
    raw = msg.encode()
    assert len(raw) <= MAX_PAYLOAD
    assert type(msg).decode(raw) == msg
    expected = schema_dict(msg)
    assert msg.SCHEMA.build(expected) == raw
    parsed = _plain(msg.SCHEMA.parse(raw))
    assert parsed == _plain({k: v for k, v in expected.items()})


@given(messages)
def test_request_and_response_tables_route_every_message(msg: Message) -> None:
    frame = Frame(msg.TYPE if msg.TYPE >= 0 else 0, 0, msg.encode())
    if type(msg) in p.REQUESTS.values():
        assert p.decode_request(frame) == msg
    else:
        for req_type, cls in p.RESPONSES.items():
            if cls is type(msg):
                back = p.decode_response(Frame(p.response_type(req_type), 9, msg.encode()))
                assert back == msg
        if isinstance(msg, p.Nak):
            assert p.decode_response(Frame(p.NAK_TYPE, 0, msg.encode())) == msg


def test_every_request_type_has_a_response_class() -> None:
    assert set(p.REQUESTS) == set(p.RESPONSES) == set(p.MsgType)
    assert all(t < p.RESPONSE_BIT for t in p.MsgType)


all_classes: list[type[Message]] = sorted(
    {*p.REQUESTS.values(), *p.RESPONSES.values(), p.Nak}, key=lambda c: c.__name__
)


@given(st.sampled_from(all_classes), st.binary(max_size=200))
def test_payload_garbage_raises_only_decode_error(cls: type[Message], raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        cls.decode(raw)


@given(messages, st.integers(0, 10_000), u8, st.booleans())
def test_mutated_payloads_raise_only_decode_error(
    msg: Message, pos: int, value: int, truncate: bool
) -> None:
    raw = bytearray(msg.encode())
    if raw:
        if truncate:
            del raw[pos % len(raw) :]
        else:
            raw[pos % len(raw)] = value
    for cls in all_classes:
        with contextlib.suppress(DecodeError):
            cls.decode(bytes(raw))


@given(u8, st.binary(max_size=100))
def test_random_frames_route_to_decode_error_only(msg_type: int, payload: bytes) -> None:
    frame = Frame(msg_type, 0, payload)
    with contextlib.suppress(DecodeError):
        p.decode_request(frame)
    with contextlib.suppress(DecodeError):
        p.decode_response(frame)


def test_board_counters_wrap_to_u32_on_the_wire() -> None:
    z = np.zeros(1)
    page = p.BoardPage(
        1, 0, np.array([True]), z, z, z, np.array([2**32 + 5]), np.array([0]), np.array([-1]), z
    )
    back = p.BoardPage.decode(page.encode())
    assert back.ecc_corrected.tolist() == [5]
    assert back.heartbeat.tolist() == [2**32 - 1]


def test_decode_errors_name_field_and_offset() -> None:
    with pytest.raises(DecodeError) as exc:
        p.HeaterStates.decode(bytes([3, 1, 0, 2]))
    assert exc.value.field == "HeaterStates.on" and exc.value.offset == 3
    with pytest.raises(DecodeError) as exc:
        p.SetSwitch.decode(bytes([1, 0, 0]))
    assert exc.value.offset == 2 and "trailing" in exc.value.reason
    nan = np.array([np.nan], dtype=">f4").tobytes()
    with pytest.raises(DecodeError) as exc:
        p.SetUtilization.decode(bytes([0, 1, 0, 4]) + nan)
    assert exc.value.field == "SetUtilization.values" and exc.value.offset == 4
    dup = bytes([0, 2, 1]) + b"a" + bytes([1]) + b"a"
    with pytest.raises(DecodeError, match="duplicate"):
        p.NameList.decode(dup)


@pytest.mark.parametrize(
    ("msg", "field"),
    [
        (p.SetSwitch(256, True), "index"),
        (p.Ping(-1), "nonce"),
        (p.SetUtilization(np.array([1]), np.array([np.nan])), "values"),
        (p.SetPowerCap(np.array([1, 2]), np.array([1.0])), "values"),
        (p.ResetBoards(np.array([70_000])), "indices"),
        (p.ResetBoards(np.zeros((2, 2), dtype=int)), "indices"),
        (p.ScrubMemory(np.arange(p.MAX_INDICES + 1)), "indices"),
        (p.NameList(p.NameKind.SENSORS, ("has space",)), "names[0]"),
        (p.NameList(p.NameKind.SENSORS, ("a", "a")), "names"),
        (p.ReadBoards(0, p.MAX_BOARDS_PER_PAGE + 1), "count"),
        (p.BatteryReading(1e39, 0.0, 0.0), "voltage_v"),
        (p.SwitchStates((True,), (), (1.0,)), "tripped"),
    ],
)
def test_bad_values_raise_encode_error(msg: Message, field: str) -> None:
    with pytest.raises(EncodeError) as exc:
        msg.encode()
    assert exc.value.field == field


def test_largest_messages_fit_in_one_frame() -> None:
    n = p.MAX_BOARDS_PER_PAGE
    z = np.zeros(n)
    page = p.BoardPage(
        n, 0, np.ones(n, dtype=bool), z, z, z, z.astype(int), z.astype(int), z.astype(int), z
    )
    assert len(page.encode()) == 6 + n * p.BOARD_RECORD_LEN <= MAX_PAYLOAD
    idx = np.arange(p.MAX_INDICES)
    assert len(p.SetUtilization(idx, np.zeros(idx.size)).encode()) <= MAX_PAYLOAD
    encode_frame(p.MsgType.READ_BOARDS | p.RESPONSE_BIT, 0, page.encode())
