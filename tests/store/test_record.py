"""The packet store's record format: round trips, the declaration, garbage refused."""

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError
from flightsw.store.record import (
    BODY,
    END,
    ESC,
    decode_frame,
    encode_record,
    pack_body,
    scan_segment,
    stuff,
    unpack_body,
    unstuff,
)

# payloads rich in the two special octets
special = st.binary(max_size=200) | st.lists(
    st.sampled_from([END, ESC, 0xDC, 0xDD, 0x00, 0x41]), max_size=200
).map(bytes)
seqs = st.integers(0, 2**64 - 1)


@given(seqs, special)
def test_round_trip_and_declaration_agree(seq: int, payload: bytes) -> None:
    body = pack_body(seq, payload)
    assert (
        BODY.build({"header": {"value": {"seq": seq, "length": len(payload)}}, "payload": payload})
        == body
    )
    parsed = BODY.parse(body)
    assert (parsed.header.value.seq, parsed.payload) == (seq, payload)
    assert unpack_body(body) == (seq, payload)
    frame = encode_record(seq, payload)
    assert frame[0] == END and frame[-1] == END and bytes([END]) not in frame[1:-1]
    assert decode_frame(frame[1:-1]) == (seq, payload)


@given(special)
def test_stuffing_round_trips_and_never_leaves_a_delimiter(data: bytes) -> None:
    stuffed = stuff(data)
    assert bytes([END]) not in stuffed
    assert unstuff(stuffed) == data


@given(st.binary(max_size=120))
def test_garbage_is_refused_with_our_error(data: bytes) -> None:
    try:
        decode_frame(data)
    except DecodeError:
        return
    # a frame that decodes is a well-formed body: its CRCs really match
    seq, payload = decode_frame(data)
    assert unstuff(data) == pack_body(seq, payload)


@given(seqs, st.binary(min_size=1, max_size=80), st.data())
def test_any_single_octet_change_is_refused(seq: int, payload: bytes, data: st.DataObject) -> None:
    body = bytearray(pack_body(seq, payload))
    i = data.draw(st.integers(0, len(body) - 1))
    body[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecodeError):
        unpack_body(bytes(body))


def test_length_is_not_trusted_before_the_header_crc() -> None:
    body = bytearray(pack_body(7, b"abc"))
    body[9:13] = (10**6).to_bytes(4, "big")  # a huge length with the old header CRC
    with pytest.raises(DecodeError, match="header CRC"):
        unpack_body(bytes(body))
    head = bytes(body[:13])
    body[13:17] = zlib.crc32(head).to_bytes(4, "big")  # now the header is sound: length lies
    with pytest.raises(DecodeError, match="length"):
        unpack_body(bytes(body))


@given(st.lists(special, max_size=8), st.data())
def test_a_torn_last_frame_never_yields_a_record(
    payloads: list[bytes], data: st.DataObject
) -> None:
    """Whatever the payloads embed, a prefix of a frame is never a record."""
    image = b"".join(encode_record(i, p) for i, p in enumerate(payloads))
    inner = encode_record(len(payloads) + 1, b"phantom")
    last = encode_record(len(payloads), b"x" + inner + stuff(pack_body(len(payloads), b"p")))
    cut = data.draw(st.integers(0, len(last) - 1) | st.sampled_from([0, 1, len(last) - 1]))
    scan = scan_segment(image + last[:cut])
    assert [(s, p) for s, p, _ in scan.records] == list(enumerate(payloads))
    assert scan.valid_end == len(image) and scan.corrupt == []


def test_sequence_numbers_must_increase() -> None:
    image = encode_record(5, b"a") + encode_record(5, b"dup") + encode_record(6, b"b")
    scan = scan_segment(image)
    assert [p for _, p, _ in scan.records] == [b"a", b"b"]
    assert len(scan.corrupt) == 1
    assert scan_segment(encode_record(3, b"old"), after_seq=3).records == []
