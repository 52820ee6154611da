import contextlib

import pytest
from construct import ConstructError
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.clcw import CLCW, Clcw


@st.composite
def clcws(draw: st.DrawFn) -> Clcw:
    return Clcw(
        vcid=draw(st.integers(0, 63)),
        report_value=draw(st.integers(0, 255)),
        lockout=draw(st.booleans()),
        wait=draw(st.booleans()),
        retransmit=draw(st.booleans()),
        farm_b_counter=draw(st.integers(0, 3)),
        no_rf_available=draw(st.booleans()),
        no_bit_lock=draw(st.booleans()),
        status=draw(st.integers(0, 7)),
    )


def _as_construct_dict(c: Clcw) -> dict[str, object]:
    return {
        "status": c.status,
        "vcid": c.vcid,
        "no_rf_available": c.no_rf_available,
        "no_bit_lock": c.no_bit_lock,
        "lockout": c.lockout,
        "wait": c.wait,
        "retransmit": c.retransmit,
        "farm_b_counter": c.farm_b_counter,
        "report_value": c.report_value,
    }


def test_known_vector() -> None:
    c = Clcw(vcid=5, report_value=0x2A, retransmit=True, farm_b_counter=2)
    # type 0, version 00, status 000, COP 01 | VCID 000101, spare 00 | flags 00001 10 0 | N(R)
    assert c.encode() == bytes([0x01, 0x14, 0x0C, 0x2A])
    assert Clcw.decode(bytes([0x01, 0x14, 0x0C, 0x2A])) == c
    lock = Clcw(vcid=63, report_value=255, lockout=True, wait=True, no_rf_available=True)
    assert lock.encode() == bytes([0x01, 0xFC, 0xB0, 0xFF])


@given(clcws())
def test_round_trip(c: Clcw) -> None:
    raw = c.encode()
    assert len(raw) == 4
    assert Clcw.decode(raw) == c


@given(clcws())
def test_fast_path_equals_declaration(c: Clcw) -> None:
    raw = c.encode()
    assert CLCW.build(_as_construct_dict(c)) == raw
    parsed = CLCW.parse(raw)
    for name, value in _as_construct_dict(c).items():
        assert parsed[name] == value, name
    assert parsed.cop_in_effect == 1 and parsed.control_word_type == 0


@given(st.binary(max_size=8))
def test_garbage_raises_only_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        Clcw.decode(raw)


@given(clcws(), st.integers(0, 31))
def test_bit_flips_in_fixed_fields_are_rejected(c: Clcw, bit: int) -> None:
    word = int.from_bytes(c.encode(), "big") ^ (1 << (31 - bit))
    fixed_bits = {0, 1, 2, 6, 7, 14, 15, 23}  # type, version, COP, spares (MSB = bit 0)
    raw = word.to_bytes(4, "big")
    if bit in fixed_bits:
        with pytest.raises(DecodeError):
            Clcw.decode(raw)
        with pytest.raises(ConstructError):
            CLCW.parse(raw)
    else:
        assert Clcw.decode(raw) != c


def test_wrong_length_names_the_field() -> None:
    with pytest.raises(DecodeError) as exc:
        Clcw.decode(b"\x01\x00\x00")
    assert exc.value.field == "clcw"


@pytest.mark.parametrize(
    "kwargs",
    [{"vcid": 64}, {"report_value": 256}, {"farm_b_counter": 4}, {"status": 8}, {"vcid": -1}],
)
def test_out_of_range_fields_raise_encode_error(kwargs: dict[str, int]) -> None:
    with pytest.raises(EncodeError) as exc:
        Clcw(**kwargs).encode()  # type: ignore[arg-type]
    assert exc.value.field == next(iter(kwargs))
