import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError, EncodeError
from flightsw.packets import SPACE_PACKET, SpacePacket, idle_packet, iter_packets
from flightsw.packets.spacepacket import pack_header, unpack_header
from tests.packets.strategies import space_packets


@given(space_packets())
def test_round_trip(p: SpacePacket) -> None:
    raw = p.encode()
    back = SpacePacket.decode(raw)
    assert back.data_length == len(p.data) - 1
    back.data_length = None
    assert back == p


@given(space_packets())
def test_fast_path_equals_declaration(p: SpacePacket) -> None:
    raw = p.encode()
    parsed = SPACE_PACKET.parse(raw)
    h = parsed.header
    assert (h.version, h.packet_type, h.sec_hdr_flag, h.apid, h.seq_flags, h.seq_count) == (
        0,
        p.packet_type,
        p.sec_hdr_flag,
        p.apid,
        p.seq_flags,
        p.seq_count,
    )
    assert h.data_length == len(p.data) - 1 and parsed.data == p.data
    built = SPACE_PACKET.build(
        {
            "header": {
                "version": 0,
                "packet_type": p.packet_type,
                "sec_hdr_flag": p.sec_hdr_flag,
                "apid": p.apid,
                "seq_flags": p.seq_flags,
                "seq_count": p.seq_count,
                "data_length": len(p.data) - 1,
            },
            "data": p.data,
        }
    )
    assert built == raw
    assert unpack_header(raw) == (
        0,
        p.packet_type,
        p.sec_hdr_flag,
        p.apid,
        p.seq_flags,
        p.seq_count,
        len(p.data) - 1,
    )


@given(st.binary(max_size=80))
def test_garbage_raises_only_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        SpacePacket.decode(raw)


@given(space_packets(), st.integers(0, 10_000), st.integers(0, 7))
def test_mutations_raise_only_decode_error(p: SpacePacket, pos: int, bit: int) -> None:
    raw = bytearray(p.encode())
    raw[pos % len(raw)] ^= 1 << bit
    with contextlib.suppress(DecodeError):
        SpacePacket.decode(bytes(raw))
    try:
        SpacePacket.decode(bytes(raw[: pos % len(raw)]))
    except DecodeError as exc:
        assert exc.field in ("primary_header", "data_length", "version")
    else:
        raise AssertionError("a truncated packet decoded")


def test_errors_name_field_and_offset() -> None:
    good = SpacePacket(0x42, b"\x01\x02\x03").encode()
    with pytest.raises(DecodeError) as e:
        SpacePacket.decode(good[:4])
    assert e.value.field == "primary_header" and e.value.offset == 0
    with pytest.raises(DecodeError) as e:
        SpacePacket.decode(good + b"\x00")
    assert e.value.field == "data_length" and e.value.offset == 4
    with pytest.raises(DecodeError) as e:
        SpacePacket.decode(bytes([good[0] | 0x20]) + good[1:])
    assert e.value.field == "version"
    assert isinstance(e.value, ValueError)


def test_encode_range_checks() -> None:
    with pytest.raises(EncodeError, match="apid"):
        SpacePacket(0x800, b"x").encode()
    with pytest.raises(EncodeError, match="seq_count"):
        SpacePacket(1, b"x", seq_count=0x4000).encode()
    with pytest.raises(EncodeError, match="data"):
        SpacePacket(1, b"").encode()
    with pytest.raises(EncodeError, match="data_length"):
        pack_header(0, 0, 1, 3, 0, 0x10000)


def test_explicit_data_length_is_written_verbatim() -> None:
    raw = SpacePacket(1, b"abc", data_length=9).encode()
    assert raw[4:6] == b"\x00\x09"
    with pytest.raises(DecodeError):
        SpacePacket.decode(raw)


def test_idle_packets() -> None:
    raw = idle_packet(20, seq_count=5)
    p = SpacePacket.decode(raw)
    assert p.is_idle and len(raw) == 20 and p.seq_count == 5
    with pytest.raises(EncodeError):
        idle_packet(6)


@given(st.lists(space_packets(), max_size=8))
def test_iter_packets_splits_a_stream(packets: list[SpacePacket]) -> None:
    raws = [p.encode() for p in packets]
    assert list(iter_packets(b"".join(raws))) == raws


def test_iter_packets_reports_truncated_tail() -> None:
    raw = SpacePacket(3, b"hello").encode()
    with pytest.raises(DecodeError) as e:
        list(iter_packets(raw + raw[:8]))
    assert e.value.offset == len(raw) + 4
