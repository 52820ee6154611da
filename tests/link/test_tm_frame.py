import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.crc import crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.tm_frame import (
    FHP_IDLE,
    FHP_NO_PACKET_START,
    TM_PRIMARY_HEADER,
    TmFrame,
    pack_tm_header,
    tm_frame_declaration,
)


@st.composite
def tm_frames(draw: st.DrawFn) -> TmFrame:
    data = draw(st.binary(min_size=1, max_size=300))
    sync = draw(st.integers(0, 1))
    if sync:
        fhp = draw(st.integers(0, 0x7FF))
        sli = draw(st.integers(0, 3))
    else:
        fhp = draw(st.one_of(st.integers(0, len(data) - 1), st.sampled_from([0x7FE, 0x7FF])))
        sli = 3
    shf = draw(st.integers(0, 1))
    return TmFrame(
        scid=draw(st.integers(0, 0x3FF)),
        vcid=draw(st.integers(0, 7)),
        data=data,
        mc_count=draw(st.integers(0, 255)),
        vc_count=draw(st.integers(0, 255)),
        first_header_pointer=fhp,
        ocf=draw(st.none() | st.binary(min_size=4, max_size=4)),
        sec_hdr_flag=shf,
        sync_flag=sync,
        packet_order=draw(st.integers(0, 1)),
        segment_length_id=sli,
        sec_hdr=draw(st.binary(max_size=63)) if shf else b"",
    )


@given(tm_frames(), st.booleans())
def test_round_trip(frame: TmFrame, has_fecf: bool) -> None:
    raw = frame.encode(has_fecf=has_fecf)
    back = TmFrame.decode(raw, frame_len=len(raw), has_fecf=has_fecf)
    if has_fecf:
        assert back.fecf == crc16(raw[:-2])
        assert crc16(raw) == 0
    assert dataclasses.replace(back, fecf=None) == frame
    assert back.encode(has_fecf=has_fecf) == raw
    assert TmFrame.decode(raw, has_ocf=frame.ocf is not None, has_fecf=has_fecf) == back


@given(tm_frames(), st.booleans())
def test_fast_path_equals_declaration(frame: TmFrame, has_fecf: bool) -> None:
    raw = frame.encode(has_fecf=has_fecf)
    decl = tm_frame_declaration(len(raw), has_fecf)
    parsed = decl.parse(raw)
    h = parsed.header
    assert (
        h.version,
        h.scid,
        h.vcid,
        h.ocf_flag,
        h.mc_count,
        h.vc_count,
        h.sec_hdr_flag,
        h.sync_flag,
        h.packet_order,
        h.segment_length_id,
        h.first_header_pointer,
    ) == (
        0,
        frame.scid,
        frame.vcid,
        frame.ocf_flag,
        frame.mc_count,
        frame.vc_count,
        frame.sec_hdr_flag,
        frame.sync_flag,
        frame.packet_order,
        frame.segment_length_id,
        frame.first_header_pointer,
    )
    assert parsed.data == frame.data and parsed.ocf == frame.ocf
    if frame.sec_hdr_flag:
        assert parsed.sec_hdr.data == frame.sec_hdr
    built = decl.build(
        {
            "header": dict(h),
            "sec_hdr": (
                {"id": {"version": 0, "length": len(frame.sec_hdr)}, "data": frame.sec_hdr}
                if frame.sec_hdr_flag
                else None
            ),
            "data": frame.data,
            "ocf": frame.ocf,
            "fecf": crc16(raw[:-2]) if has_fecf else None,
        }
    )
    assert built == raw


@given(
    st.integers(0, 0x3FF),
    st.integers(0, 7),
    st.integers(0, 1),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 0x7FF),
)
def test_header_fast_path_equals_declaration(
    scid: int, vcid: int, ocf: int, mc: int, vc: int, fhp: int
) -> None:
    fields = {
        "version": 0,
        "scid": scid,
        "vcid": vcid,
        "ocf_flag": ocf,
        "mc_count": mc,
        "vc_count": vc,
        "sec_hdr_flag": 0,
        "sync_flag": 0,
        "packet_order": 0,
        "segment_length_id": 3,
        "first_header_pointer": fhp,
    }
    assert pack_tm_header(scid, vcid, ocf, mc, vc, fhp) == TM_PRIMARY_HEADER.build(fields)


@given(tm_frames())
def test_interop_with_spacepackets(frame: TmFrame) -> None:
    theirs_mod = pytest.importorskip("spacepackets.ccsds.tm_frame")
    raw = frame.encode(has_fecf=True)
    if len(raw) >= 2048:  # spacepackets refuses 2048 itself
        return
    theirs = theirs_mod.TmTransferFrame.unpack(raw, len(raw), True)
    ph = theirs.primary_header
    assert ph.master_channel_id.spacecraft_id == frame.scid
    assert ph.vc_id == frame.vcid
    assert ph.master_ch_frame_count == frame.mc_count
    assert ph.vc_frame_count == frame.vc_count
    assert ph.frame_datafield_status.first_header_pointer == frame.first_header_pointer
    assert theirs.data_field == frame.data
    assert theirs.op_ctrl_field == frame.ocf
    assert theirs.pack() == raw


@given(st.binary(max_size=120), st.booleans(), st.sampled_from([None, True, False]))
def test_garbage_raises_only_decode_error(raw: bytes, has_fecf: bool, has_ocf: bool | None) -> None:
    with contextlib.suppress(DecodeError):
        TmFrame.decode(raw, has_ocf=has_ocf, has_fecf=has_fecf)


@given(tm_frames(), st.booleans(), st.integers(0, 10_000), st.integers(0, 7))
def test_mutations_raise_only_decode_error(
    frame: TmFrame, has_fecf: bool, pos: int, bit: int
) -> None:
    raw = bytearray(frame.encode(has_fecf=has_fecf))
    raw[pos % len(raw)] ^= 1 << bit
    if has_fecf:
        # CRC-16 detects every single-bit error
        with pytest.raises(DecodeError) as exc:
            TmFrame.decode(bytes(raw), has_fecf=True)
        assert exc.value.field == "fecf"
    else:
        with contextlib.suppress(DecodeError):
            TmFrame.decode(bytes(raw), has_fecf=False)
    with contextlib.suppress(DecodeError):
        TmFrame.decode(bytes(raw[: pos % len(raw)]), has_fecf=has_fecf)


def test_known_header_bytes() -> None:
    frame = TmFrame(scid=0x2A5, vcid=3, data=b"\x01\x02", mc_count=0x10, vc_count=0x20)
    raw = frame.encode(has_fecf=False)
    # version 00, scid 1010100101, vcid 011, ocf 0 -> 0x2A 0x56
    assert raw[:6] == bytes([0x2A, 0x56, 0x10, 0x20, 0x18, 0x00])
    crc_raw = frame.encode()
    assert crc_raw[-2:] == crc16(crc_raw[:-2]).to_bytes(2, "big")


def test_is_idle() -> None:
    assert TmFrame(1, 7, b"\x55", first_header_pointer=FHP_IDLE).is_idle
    assert not TmFrame(1, 7, b"\x55", first_header_pointer=FHP_NO_PACKET_START).is_idle


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scid": 0x400}, "scid"),
        ({"vcid": 8}, "vcid"),
        ({"mc_count": 256}, "mc_count"),
        ({"vc_count": -1}, "vc_count"),
        ({"first_header_pointer": 0x800}, "first_header_pointer"),
        ({"first_header_pointer": 4}, "first_header_pointer"),
        ({"segment_length_id": 0}, "segment_length_id"),
        ({"sec_hdr": b"x"}, "sec_hdr"),
        ({"sec_hdr_flag": 1, "sec_hdr": bytes(64)}, "sec_hdr"),
        ({"ocf": b"abc"}, "ocf"),
        ({"data": b""}, "data"),
        ({"data": "text"}, "data"),
        ({"data": bytes(2100)}, "data"),
        ({"version": 1}, "version"),
        ({"vcid": True}, "vcid"),
    ],
)
def test_encode_errors_name_the_field(changes: dict[str, object], field: str) -> None:
    frame = dataclasses.replace(TmFrame(1, 0, b"1234"), **changes)  # type: ignore[arg-type]
    with pytest.raises(EncodeError) as exc:
        frame.encode()
    assert exc.value.field == field


def test_fecf_options() -> None:
    with pytest.raises(EncodeError) as exc:
        TmFrame(1, 0, b"1234", fecf=5).encode(has_fecf=False)
    assert exc.value.field == "fecf"
    bad = TmFrame(1, 0, b"1234", fecf=5).encode()
    assert bad[-2:] == b"\x00\x05"
    with pytest.raises(DecodeError) as dexc:
        TmFrame.decode(bad)
    assert dexc.value.field == "fecf" and dexc.value.offset == len(bad) - 2
    with pytest.raises(EncodeError) as exc:
        TmFrame(1, 0, b"1234").encode(frame_len=100)
    assert exc.value.field == "data"


def test_decode_errors_name_the_field() -> None:
    good = TmFrame(1, 0, b"1234", ocf=b"\x00\x01\x02\x03").encode()
    with pytest.raises(DecodeError) as exc:
        TmFrame.decode(good, frame_len=len(good) + 1)
    assert exc.value.field == "frame"
    with pytest.raises(DecodeError) as exc:
        TmFrame.decode(good, has_ocf=False)
    assert exc.value.field == "ocf_flag"
    aos_like = bytearray(good[:-2])
    aos_like[0] |= 0x40
    with pytest.raises(DecodeError) as exc:
        TmFrame.decode(bytes(aos_like), has_fecf=False)
    assert exc.value.field == "version"
    fhp_past = bytearray(good[:-2])
    fhp_past[5] = 10
    with pytest.raises(DecodeError) as exc:
        TmFrame.decode(bytes(fhp_past), has_fecf=False)
    assert exc.value.field == "first_header_pointer"
    with pytest.raises(DecodeError) as exc:
        TmFrame.decode(good[:7])
    assert exc.value.field == "frame"
