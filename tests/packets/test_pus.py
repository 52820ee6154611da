import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.crc import crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.packets import (
    PUS_TC,
    PusTc,
    PusTm,
    encode_tm,
    pus_tm_declaration,
    tc_request_id_from_bytes,
)
from tests.packets.strategies import pus_tcs, pus_tms


@given(pus_tcs())
def test_tc_round_trip(tc: PusTc) -> None:
    raw = tc.encode()
    back = PusTc.decode(raw)
    assert back.crc == crc16(raw[:-2])
    back.crc = None
    assert back == tc
    assert back.request_id == tc_request_id_from_bytes(raw) == int.from_bytes(raw[:4], "big")


@given(st.integers(0, 16), pus_tms(time_len=0), st.data())
def test_tm_round_trip_any_time_length(time_len: int, tm: PusTm, data: st.DataObject) -> None:
    tm.time = data.draw(st.binary(min_size=time_len, max_size=time_len))
    raw = tm.encode()
    back = PusTm.decode(raw, time_len=time_len)
    assert back.crc == crc16(raw[:-2])
    back.crc = None
    assert back == tm


@given(pus_tcs())
def test_tc_fast_path_equals_declaration(tc: PusTc) -> None:
    raw = tc.encode()
    parsed = PUS_TC.parse(raw)
    assert parsed.primary.apid == tc.apid and parsed.primary.packet_type == 1
    s = parsed.secondary
    assert (s.pus_version, s.ack_flags, s.service, s.subservice, s.source_id) == (
        2,
        tc.ack_flags,
        tc.service,
        tc.subservice,
        tc.source_id,
    )
    assert parsed.app_data == tc.app_data and parsed.crc == crc16(raw[:-2])
    assert PUS_TC.build(parsed) == raw


@given(pus_tms())
def test_tm_fast_paths_equal_declaration(tm: PusTm) -> None:
    raw = tm.encode()
    decl = pus_tm_declaration(6)
    parsed = decl.parse(raw)
    s = parsed.secondary
    assert (s.service, s.subservice, s.msg_counter, s.dest_id, s.time) == (
        tm.service,
        tm.subservice,
        tm.msg_counter,
        tm.dest_id,
        tm.time,
    )
    assert s.version_status.time_ref_status == tm.time_ref_status
    assert parsed.app_data == tm.app_data
    assert decl.build(parsed) == raw
    if tm.seq_flags == 3:
        fast = encode_tm(
            tm.apid,
            tm.seq_count,
            tm.service,
            tm.subservice,
            tm.msg_counter,
            tm.dest_id,
            tm.time,
            tm.app_data,
            tm.time_ref_status,
        )
        assert fast == raw


@given(st.binary(max_size=64))
def test_garbage_raises_only_decode_error(raw: bytes) -> None:
    for decode in (PusTc.decode, PusTm.decode, lambda b: PusTm.decode(b, time_len=0)):
        with contextlib.suppress(DecodeError):
            decode(raw)


@given(pus_tcs(), pus_tms(), st.integers(0, 10_000), st.integers(0, 7))
def test_every_single_bit_flip_is_caught(tc: PusTc, tm: PusTm, pos: int, bit: int) -> None:
    for raw, decode in ((tc.encode(), PusTc.decode), (tm.encode(), PusTm.decode)):
        bad = bytearray(raw)
        bad[pos % len(bad)] ^= 1 << bit
        with pytest.raises(DecodeError):
            decode(bytes(bad))
        with pytest.raises(DecodeError):
            decode(raw[: pos % len(raw)])


def test_errors_name_field_and_offset() -> None:
    good = PusTc(0x64, 17, 1, b"\x01\x02").encode()
    cases = {
        "crc": good[:-1] + bytes([good[-1] ^ 0xFF]),
        "data_length": good + b"\x00",
        "pus_version": PusTc(0x64, 17, 1, pus_version=1).encode(),
        "packet_type": PusTm(0x64, 17, 2).encode(),
        "primary_header": good[:5],
    }
    for field, raw in cases.items():
        with pytest.raises(DecodeError) as e:
            PusTc.decode(raw)
        assert e.value.field == field, (field, e.value)
    with pytest.raises(DecodeError) as e:
        PusTc.decode(good[:-1] + bytes([good[-1] ^ 0xFF]))
    assert e.value.offset == len(good) - 2 and "stored 0x" in str(e.value)
    with pytest.raises(DecodeError) as e:
        PusTm.decode(PusTc(0x64, 17, 1).encode())
    assert e.value.field == "packet_type"


def test_short_tm_for_its_time_length() -> None:
    raw = PusTm(1, 3, 25, time=b"").encode()
    with pytest.raises(DecodeError) as e:
        PusTm.decode(raw, time_len=6)
    assert e.value.field == "data_length"


def test_explicit_crc_is_written_verbatim() -> None:
    raw = PusTc(1, 17, 1, crc=0x1234).encode()
    assert raw[-2:] == b"\x12\x34"
    with pytest.raises(DecodeError, match="crc"):
        PusTc.decode(raw)


def test_encode_range_checks() -> None:
    with pytest.raises(EncodeError, match="service"):
        PusTc(1, 256, 1).encode()
    with pytest.raises(EncodeError, match="source_id"):
        PusTc(1, 17, 1, source_id=-1).encode()
    with pytest.raises(EncodeError, match="app_data"):
        PusTc(1, 17, 1, app_data="text").encode()  # type: ignore[arg-type]
    with pytest.raises(EncodeError):
        encode_tm(0x800, 0, 1, 1, 0, 0, bytes(6), b"")
    with pytest.raises(EncodeError):
        encode_tm(1, 0, 1, 1, 0x10000, 0, bytes(6), b"")


def test_request_id_of_garbage_is_padded() -> None:
    assert tc_request_id_from_bytes(b"\x18") == 0x18000000
    assert tc_request_id_from_bytes(b"") == 0


TC_RANGES = {
    "apid": 0x7FF,
    "seq_flags": 3,
    "seq_count": 0x3FFF,
    "pus_version": 15,
    "ack_flags": 15,
    "service": 255,
    "subservice": 255,
    "source_id": 0xFFFF,
    "crc": 0xFFFF,
}
TM_RANGES = {
    **{k: v for k, v in TC_RANGES.items() if k not in ("ack_flags", "source_id")},
    "time_ref_status": 15,
    "msg_counter": 0xFFFF,
    "dest_id": 0xFFFF,
}


@given(
    pus_tcs(),
    pus_tms(),
    st.sampled_from(sorted(TM_RANGES.keys() | TC_RANGES.keys())),
    st.sampled_from(["over", "negative", "float", "text"]),
)
def test_one_encoder_names_any_bad_field(tc: PusTc, tm: PusTm, name: str, how: str) -> None:
    """Any field out of its declared range gives an EncodeError naming that field, from
    the one encoder (no slow twin to disagree with it); bytes-like data encodes the same."""
    for packet, ranges in ((tc, TC_RANGES), (tm, TM_RANGES)):
        if name not in ranges:
            continue
        good = packet.encode()
        was = getattr(packet, name)
        bad = {"over": ranges[name] + 1, "negative": -1, "float": 1.5, "text": "1"}[how]
        setattr(packet, name, bad)
        with pytest.raises(EncodeError) as exc:
            packet.encode()
        assert exc.value.field == name
        setattr(packet, name, was)
        packet.app_data = bytearray(packet.app_data)  # type: ignore[assignment]
        assert packet.encode() == good


@given(pus_tms())
def test_encode_tm_is_the_tm_encoder(tm: PusTm) -> None:
    tm.seq_flags = 3
    tm.crc = None
    args = (tm.apid, tm.seq_count, tm.service, tm.subservice, tm.msg_counter, tm.dest_id)
    assert encode_tm(*args, tm.time, tm.app_data, tm.time_ref_status) == tm.encode()
    with pytest.raises(EncodeError) as exc:
        encode_tm(*args[:4], 0x10000, tm.dest_id, tm.time, tm.app_data)
    assert exc.value.field == "msg_counter"
    with pytest.raises(EncodeError) as exc:
        encode_tm(*args, tm.time, bytes(0x10000))
    assert exc.value.field == "app_data"
