import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.crc import crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.aos_frame import (
    AOS_PRIMARY_HEADER,
    MPDU_HEADER,
    AosFrame,
    aos_frame_declaration,
    pack_aos_header,
)
from flightsw.link.tm_frame import FHP_IDLE, TmFrame


@st.composite
def aos_frames(draw: st.DrawFn, has_ocf: bool | None = None) -> AosFrame:
    data = draw(st.binary(min_size=1, max_size=300))
    fhp = draw(st.one_of(st.integers(0, len(data) - 1), st.sampled_from([0x7FE, 0x7FF])))
    want_ocf = draw(st.booleans()) if has_ocf is None else has_ocf
    return AosFrame(
        scid=draw(st.integers(0, 0xFF)),
        vcid=draw(st.integers(0, 63)),
        data=data,
        vc_count=draw(st.integers(0, 0xFFFFFF)),
        first_header_pointer=fhp,
        ocf=draw(st.binary(min_size=4, max_size=4)) if want_ocf else None,
        replay_flag=draw(st.integers(0, 1)),
        vc_count_usage_flag=draw(st.integers(0, 1)),
        vc_count_cycle=draw(st.integers(0, 15)),
        spare=draw(st.integers(0, 3)),
        mpdu_spare=draw(st.integers(0, 31)),
    )


@given(aos_frames(), st.booleans())
def test_round_trip(frame: AosFrame, has_fecf: bool) -> None:
    raw = frame.encode(has_fecf=has_fecf)
    has_ocf = frame.ocf is not None
    back = AosFrame.decode(raw, frame_len=len(raw), has_ocf=has_ocf, has_fecf=has_fecf)
    if has_fecf:
        assert back.fecf == crc16(raw[:-2])
    assert dataclasses.replace(back, fecf=None) == frame
    assert back.encode(has_fecf=has_fecf) == raw


@given(aos_frames(), st.booleans())
def test_fast_path_equals_declaration(frame: AosFrame, has_fecf: bool) -> None:
    raw = frame.encode(has_fecf=has_fecf)
    has_ocf = frame.ocf is not None
    decl = aos_frame_declaration(len(raw), has_ocf, has_fecf)
    parsed = decl.parse(raw)
    h = parsed.header
    assert (
        h.version,
        h.scid,
        h.vcid,
        h.vc_count,
        h.replay_flag,
        h.vc_count_usage_flag,
        h.spare,
        h.vc_count_cycle,
    ) == (
        1,
        frame.scid,
        frame.vcid,
        frame.vc_count,
        frame.replay_flag,
        frame.vc_count_usage_flag,
        frame.spare,
        frame.vc_count_cycle,
    )
    assert parsed.mpdu.first_header_pointer == frame.first_header_pointer
    assert parsed.mpdu.mpdu_spare == frame.mpdu_spare
    assert parsed.data == frame.data and parsed.ocf == frame.ocf
    built = decl.build(
        {
            "header": dict(h),
            "mpdu": dict(parsed.mpdu),
            "data": frame.data,
            "ocf": frame.ocf,
            "fecf": crc16(raw[:-2]) if has_fecf else None,
        }
    )
    assert built == raw


@given(
    st.integers(0, 0xFF),
    st.integers(0, 63),
    st.integers(0, 0xFFFFFF),
    st.integers(0, 0x7FF),
    st.integers(-1, 15),
)
def test_header_fast_path_equals_declaration(
    scid: int, vcid: int, count: int, fhp: int, cycle: int
) -> None:
    primary = AOS_PRIMARY_HEADER.build(
        {
            "version": 1,
            "scid": scid,
            "vcid": vcid,
            "vc_count": count,
            "replay_flag": 0,
            "vc_count_usage_flag": int(cycle >= 0),
            "spare": 0,
            "vc_count_cycle": max(cycle, 0),
        }
    )
    mpdu = MPDU_HEADER.build({"mpdu_spare": 0, "first_header_pointer": fhp})
    assert pack_aos_header(scid, vcid, count, fhp, cycle) == primary + mpdu


@given(st.binary(max_size=120), st.booleans(), st.booleans())
def test_garbage_raises_only_decode_error(raw: bytes, has_ocf: bool, has_fecf: bool) -> None:
    with contextlib.suppress(DecodeError):
        AosFrame.decode(raw, has_ocf=has_ocf, has_fecf=has_fecf)


@given(aos_frames(), st.booleans(), st.integers(0, 10_000), st.integers(0, 7))
def test_mutations_raise_only_decode_error(
    frame: AosFrame, has_fecf: bool, pos: int, bit: int
) -> None:
    raw = bytearray(frame.encode(has_fecf=has_fecf))
    has_ocf = frame.ocf is not None
    raw[pos % len(raw)] ^= 1 << bit
    if has_fecf:
        with pytest.raises(DecodeError) as exc:
            AosFrame.decode(bytes(raw), has_ocf=has_ocf)
        assert exc.value.field == "fecf"
    else:
        with contextlib.suppress(DecodeError):
            AosFrame.decode(bytes(raw), has_ocf=has_ocf, has_fecf=False)
    with contextlib.suppress(DecodeError):
        AosFrame.decode(bytes(raw[: pos % len(raw)]), has_ocf=has_ocf, has_fecf=has_fecf)


def test_known_header_bytes() -> None:
    frame = AosFrame(scid=0xA5, vcid=0x21, data=b"\x01\x02", vc_count=0x123456)
    raw = frame.encode(has_fecf=False)
    # 01 10100101 100001 -> 0x69 0x61; count; signaling 0; M_PDU spare 0 + FHP 0
    assert raw == bytes([0x69, 0x61, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x01, 0x02])


def test_idle_and_version_checks() -> None:
    assert AosFrame(1, 63, b"\x00").is_idle
    assert AosFrame(1, 0, b"\x00", first_header_pointer=FHP_IDLE).is_idle
    assert not AosFrame(1, 0, b"\x00").is_idle
    tm = TmFrame(1, 0, b"12345678").encode()
    with pytest.raises(DecodeError) as exc:
        AosFrame.decode(tm)
    assert exc.value.field == "version"
    aos = AosFrame(1, 0, b"12345678").encode()
    with pytest.raises(DecodeError) as exc:
        TmFrame.decode(aos)
    assert exc.value.field == "version"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scid": 0x100}, "scid"),
        ({"vcid": 64}, "vcid"),
        ({"vc_count": 1 << 24}, "vc_count"),
        ({"vc_count_cycle": 16}, "vc_count_cycle"),
        ({"spare": 4}, "spare"),
        ({"mpdu_spare": 32}, "mpdu_spare"),
        ({"replay_flag": 2}, "replay_flag"),
        ({"first_header_pointer": 4}, "first_header_pointer"),
        ({"ocf": b"12345"}, "ocf"),
        ({"data": b""}, "data"),
        ({"data": bytes(2100)}, "data"),
        ({"version": 0}, "version"),
        ({"fecf": 0x10000}, "fecf"),
    ],
)
def test_encode_errors_name_the_field(changes: dict[str, object], field: str) -> None:
    frame = dataclasses.replace(AosFrame(1, 0, b"1234"), **changes)  # type: ignore[arg-type]
    with pytest.raises(EncodeError) as exc:
        frame.encode()
    assert exc.value.field == field


def test_decode_length_checks() -> None:
    good = AosFrame(1, 0, b"1234", ocf=bytes(4)).encode()
    with pytest.raises(DecodeError) as exc:
        AosFrame.decode(good, frame_len=len(good) - 1, has_ocf=True)
    assert exc.value.field == "frame"
    assert AosFrame.decode(good, has_ocf=True).data == b"1234"
    # the same bytes read without an OCF keep the CLCW octets in the packet zone
    assert AosFrame.decode(good, has_ocf=False).data == b"1234" + bytes(4)
    with pytest.raises(DecodeError) as exc:
        AosFrame.decode(good[:10], has_ocf=True, has_fecf=False)
    assert exc.value.field == "frame"
