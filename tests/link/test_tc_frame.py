"""TC transfer frames: round trips, declaration == fast path, every decode check, control
commands, and only DecodeError out of any bytes."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.crc import crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.tc_frame import (
    MAX_FRAME_LEN,
    TC_FRAME,
    TC_PRIMARY_HEADER,
    TcFrame,
    as_fields,
    frame_length_of,
    parse_control_command,
    set_vr_command,
    tc_frame_declaration,
    unlock_command,
)


@st.composite
def tc_frames(draw: st.DrawFn, segmented: bool | None = None) -> TcFrame:
    has_fecf = draw(st.booleans())
    control = draw(st.integers(0, 1))
    seg = draw(st.booleans()) if segmented is None else segmented
    seg = seg and not control
    overhead = 5 + seg + 2 * has_fecf
    data = draw(st.binary(min_size=1, max_size=MAX_FRAME_LEN - overhead))
    return TcFrame(
        scid=draw(st.integers(0, 0x3FF)),
        vcid=draw(st.integers(0, 0x3F)),
        data=data,
        seq=draw(st.integers(0, 255)),
        bypass=draw(st.integers(0, 1)),
        control=control,
        seq_flags=draw(st.integers(0, 3)) if seg else None,
        map_id=draw(st.integers(0, 0x3F)) if seg else None,
        has_fecf=has_fecf,
    )


@given(tc_frames())
def test_round_trip(frame: TcFrame) -> None:
    raw = frame.encode()
    assert len(raw) == 5 + frame.has_segment_header + len(frame.data) + 2 * frame.has_fecf
    back = TcFrame.decode(raw, has_segment_header=frame.has_segment_header, has_fecf=frame.has_fecf)
    assert back.frame_length == len(raw) - 1
    assert back.fecf == (crc16(raw[:-2]) if frame.has_fecf else None)
    assert dataclasses.replace(back, frame_length=None, fecf=None) == frame


@given(tc_frames())
def test_bytes_like_data_encodes_the_same(frame: TcFrame) -> None:
    raw = frame.encode()
    assert dataclasses.replace(frame, data=bytearray(frame.data)).encode() == raw
    assert dataclasses.replace(frame, data=memoryview(frame.data)).encode() == raw


@given(tc_frames())
def test_fast_path_equals_declaration(frame: TcFrame) -> None:
    raw = frame.encode()
    decl = tc_frame_declaration(frame.has_segment_header, frame.has_fecf)
    parsed = decl.parse(raw)
    h = parsed.header
    assert (h.version, h.bypass, h.control, h.spare, h.scid, h.vcid, h.seq) == (
        0,
        frame.bypass,
        frame.control,
        0,
        frame.scid,
        frame.vcid,
        frame.seq,
    )
    assert h.frame_length == len(raw) - 1
    if frame.has_segment_header:
        seg = parsed.segment_header
        assert (seg.seq_flags, seg.map_id) == (frame.seq_flags, frame.map_id)
    else:
        assert parsed.segment_header is None
    assert parsed.data == frame.data
    assert parsed.fecf == (crc16(raw[:-2]) if frame.has_fecf else None)
    assert decl.build(parsed) == raw


def test_known_frame_bytes() -> None:
    raw = TcFrame(scid=123, vcid=1, data=bytes(range(1, 11)), has_fecf=False).encode()
    assert raw == bytes.fromhex("007b040e000102030405060708090a")  # as dariolucia/ccsds builds it
    raw = TcFrame(scid=0x3FF, vcid=0x3F, data=b"\xaa", seq=0x5A, bypass=1, control=1).encode()
    assert raw[:5] == bytes.fromhex("33fffc075a")
    assert raw[-2:] == crc16(raw[:-2]).to_bytes(2, "big")
    assert TC_PRIMARY_HEADER.parse(raw).frame_length == 7
    assert TC_FRAME.build(TC_FRAME.parse(raw)) == raw


def test_control_command_frames_have_no_segment_header() -> None:
    frame = TcFrame(scid=1, vcid=2, data=unlock_command(), bypass=1, control=1)
    back = TcFrame.decode(frame.encode(), has_segment_header=True)
    assert back.seq_flags is None and back.data == b"\x00"
    assert parse_control_command(back.data) == ("unlock", None)
    with pytest.raises(EncodeError) as exc:
        TcFrame(scid=1, vcid=2, data=b"\x00", control=1, map_id=3).encode()
    assert exc.value.field == "seq_flags"


def test_control_commands() -> None:
    assert unlock_command() == b"\x00"
    assert set_vr_command(0x2A) == b"\x82\x00\x2a"
    assert parse_control_command(set_vr_command(200)) == ("set_vr", 200)
    for bad in (b"", b"\x01", b"\x82\x00", b"\x82\x01\x05", b"\x00\x00"):
        with pytest.raises(DecodeError):
            parse_control_command(bad)
    with pytest.raises(EncodeError):
        set_vr_command(256)


def test_segment_header_defaults() -> None:
    raw = TcFrame(scid=1, vcid=2, data=b"x", map_id=5).encode()
    back = TcFrame.decode(raw, has_segment_header=True)
    assert (back.seq_flags, back.map_id) == (3, 5)
    raw = TcFrame(scid=1, vcid=2, data=b"x", seq_flags=1).encode()
    assert TcFrame.decode(raw, has_segment_header=True).map_id == 0


def test_maximum_length() -> None:
    raw = TcFrame(scid=1, vcid=0, data=bytes(1017)).encode()
    assert len(raw) == MAX_FRAME_LEN
    assert TcFrame.decode(raw).frame_length == 1023
    with pytest.raises(EncodeError) as exc:
        TcFrame(scid=1, vcid=0, data=bytes(1018)).encode()
    assert exc.value.field == "data"
    assert len(TcFrame(scid=1, vcid=0, data=bytes(1019), has_fecf=False).encode()) == 1024
    for given_length in (0, 1023):  # a verbatim length field does not make room
        with pytest.raises(EncodeError) as exc:
            TcFrame(1, 0, bytes(1020), frame_length=given_length, has_fecf=False).encode()
        assert exc.value.field == "data"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scid": 1024}, "scid"),
        ({"scid": -1}, "scid"),
        ({"vcid": 64}, "vcid"),
        ({"seq": 256}, "seq"),
        ({"bypass": 2}, "bypass"),
        ({"control": -1}, "control"),
        ({"spare": 4}, "spare"),
        ({"version": 4}, "version"),
        ({"frame_length": 1024}, "frame_length"),
        ({"fecf": 0x10000}, "fecf"),
        ({"seq_flags": 4}, "seq_flags"),
        ({"map_id": 64}, "map_id"),
        ({"data": b""}, "data"),
        ({"data": "text"}, "data"),
        ({"has_fecf": False, "fecf": 1}, "fecf"),
        ({"seq": "1"}, "seq"),
    ],
)
def test_bad_fields_give_encode_error_naming_them(changes: dict[str, object], field: str) -> None:
    frame = dataclasses.replace(TcFrame(scid=1, vcid=2, data=b"abc"), **changes)  # type: ignore[arg-type]
    with pytest.raises(EncodeError) as exc:
        frame.encode()
    assert exc.value.field == field


def test_verbatim_fields_make_bad_frames_the_decoder_names() -> None:
    good = TcFrame(scid=1, vcid=2, data=b"abc")
    raw = dataclasses.replace(good, fecf=0x1234).encode()
    with pytest.raises(DecodeError) as exc:
        TcFrame.decode(raw)
    assert (exc.value.field, exc.value.offset) == ("fecf", len(raw) - 2)
    raw = dataclasses.replace(good, frame_length=20).encode()
    with pytest.raises(DecodeError) as exc:
        TcFrame.decode(raw)
    assert (exc.value.field, exc.value.offset) == ("frame_length", 2)
    raw = dataclasses.replace(good, version=1).encode()
    with pytest.raises(DecodeError) as exc:
        TcFrame.decode(raw)
    assert (exc.value.field, exc.value.offset) == ("version", 0)
    # spare bits are reported, not rejected
    assert TcFrame.decode(dataclasses.replace(good, spare=2).encode()).spare == 2


def test_length_checks() -> None:
    raw = TcFrame(scid=1, vcid=2, data=b"abc").encode()
    with pytest.raises(DecodeError) as exc:
        TcFrame.decode(raw[:4])
    assert exc.value.field == "primary_header"
    for buf in (raw[:-1], raw + b"\x55"):
        with pytest.raises(DecodeError) as exc:
            TcFrame.decode(buf)
        assert exc.value.field == "frame_length"
    assert TcFrame.decode(raw + b"\x55\x55", trailing_ok=True).data == b"abc"
    assert frame_length_of(raw + b"\x55") == len(raw)
    # a frame too short to hold header, one data octet and the FECF
    tiny = TcFrame(scid=1, vcid=2, data=b"a", frame_length=6, fecf=0).encode()[:7]
    with pytest.raises(DecodeError) as exc:
        TcFrame.decode(tiny)
    assert exc.value.field == "frame_length"
    with pytest.raises(DecodeError):
        frame_length_of(b"\x00")


def test_as_fields() -> None:
    frame = TcFrame.decode(TcFrame(scid=7, vcid=3, data=b"\x01\x02", seq=9).encode())
    fields = as_fields(frame)
    assert fields["data"] == "0102" and fields["seq"] == 9 and fields["seq_flags"] is None
    assert fields["fecf"] == frame.fecf and fields["frame_length"] == 8


@given(st.binary(max_size=1100), st.booleans(), st.booleans(), st.booleans())
def test_random_bytes_only_decode_error(raw: bytes, seg: bool, fecf: bool, trailing: bool) -> None:
    with contextlib.suppress(DecodeError):
        TcFrame.decode(raw, has_segment_header=seg, has_fecf=fecf, trailing_ok=trailing)


@given(tc_frames(), st.data())
def test_mutated_frames_only_decode_error(frame: TcFrame, data: st.DataObject) -> None:
    raw = bytearray(frame.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    for buf in (bytes(raw), bytes(raw[:cut])):
        with contextlib.suppress(DecodeError):
            TcFrame.decode(buf, has_segment_header=data.draw(st.booleans()))
