import contextlib

import pytest
from construct import Int16ub, Int32ub
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError, EncodeError
from flightsw.packets.time_codes import (
    CDS_SHORT,
    CDS_SHORT_US,
    CUC_DEFAULT,
    cds_decode,
    cds_encode,
    cuc_decode,
    cuc_encode,
    cuc_pfield,
)

NS = 1_000_000_000


def test_cuc_known_values() -> None:
    assert cuc_encode(0) == bytes(6)
    assert cuc_encode(NS + NS // 2) == b"\x00\x00\x00\x01\x80\x00"
    assert cuc_decode(b"\x00\x00\x00\x01\x80\x00") == NS + NS // 2
    assert cuc_encode(5 * NS, coarse=4, fine=0) == b"\x00\x00\x00\x05"
    assert cuc_pfield() == 0b0_010_11_10


@given(st.integers(0, (1 << 32) * NS - 1), st.integers(1, 4), st.integers(0, 3))
def test_cuc_round_trip_on_ticks(t: int, coarse: int, fine: int) -> None:
    if t // NS >= 1 << (8 * coarse):
        with pytest.raises(EncodeError):
            cuc_encode(t, coarse, fine)
        return
    field = cuc_encode(t, coarse, fine)
    assert len(field) == coarse + fine
    back = cuc_decode(field, coarse)
    assert cuc_encode(back, coarse, fine) == field
    tick = NS / (1 << (8 * fine))
    assert 0 <= t - back < tick


@given(st.integers(0, (1 << 32) * NS - 1))
def test_cuc_matches_declaration(t: int) -> None:
    field = cuc_encode(t)
    parsed = CUC_DEFAULT.parse(field)
    assert int.from_bytes(parsed.coarse, "big") == t // NS
    assert CUC_DEFAULT.build(parsed) == field


@given(st.integers(0, 0xFFFF * 86_400 * NS), st.booleans())
def test_cds_round_trip(t: int, with_us: bool) -> None:
    field = cds_encode(t, with_us)
    back = cds_decode(field)
    assert 0 <= t - back < (1000 if with_us else 1_000_000)
    decl = CDS_SHORT_US if with_us else CDS_SHORT
    parsed = decl.parse(field)
    assert parsed.day == t // (86_400 * NS)
    assert decl.build(parsed) == field
    assert Int16ub.sizeof() + Int32ub.sizeof() == 6


@given(st.binary(max_size=12))
def test_garbage_gives_decode_error(raw: bytes) -> None:
    for fn in (cuc_decode, cds_decode):
        with contextlib.suppress(DecodeError):
            fn(raw)


def test_cds_rejects_impossible_ms_of_day() -> None:
    with pytest.raises(DecodeError) as e:
        cds_decode(b"\x00\x01" + (86_400_000).to_bytes(4, "big"))
    assert e.value.field == "time.ms_of_day" and e.value.offset == 2
