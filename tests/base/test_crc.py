import binascii

from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.crc import crc16, crc_uses_c_extension


def test_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


def test_c_extension_is_active() -> None:
    # The pure-Python fallback is ~25x slower; a wheel without the extension is a defect.
    assert crc_uses_c_extension(), "crcmod is running its pure-Python fallback"


@given(st.binary(max_size=512), st.binary(max_size=64))
def test_matches_binascii_and_continues(a: bytes, b: bytes) -> None:
    assert crc16(a) == binascii.crc_hqx(a, 0xFFFF)
    assert crc16(b, crc16(a)) == crc16(a + b)
    assert crc16(memoryview(a)) == crc16(a)


@given(st.binary(min_size=1, max_size=256))
def test_appending_the_crc_gives_zero(a: bytes) -> None:
    assert crc16(a + crc16(a).to_bytes(2, "big")) == 0


def test_trailer_helpers_append_check_and_forge() -> None:
    import pytest

    from flightsw.base.crc import append_crc, check_trailing_crc
    from flightsw.base.errors import DecodeError, EncodeError

    framed = append_crc(b"123456789", None, "crc")
    assert framed[-2:] == b"\x29\xb1" and check_trailing_crc(framed, "crc") == 0x29B1
    forged = append_crc(b"abc", 0x1234, "fecf")
    with pytest.raises(DecodeError) as e:
        check_trailing_crc(forged, "fecf")
    assert e.value.field == "fecf" and e.value.offset == 3 and "stored 0x1234" in str(e.value)
    with pytest.raises(EncodeError, match="fecf"):
        append_crc(b"abc", 0x10000, "fecf")
