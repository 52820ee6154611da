"""Reading TM(1,x) reports back: the layouts the Verifier writes."""

import struct

import pytest

from flightsw.base.errors import DecodeError
from flightsw.framework.verification import parse_report


def test_request_id_and_failure_code_by_subservice() -> None:
    rid = 0x1864C005
    assert parse_report(1, struct.pack(">I", rid)) == (rid, None)
    assert parse_report(7, struct.pack(">I", rid)) == (rid, None)
    for sub in (2, 4, 8):
        assert parse_report(sub, struct.pack(">IH", rid, 14) + b"why") == (rid, 14)
    assert parse_report(6, struct.pack(">IHH", rid, 3, 17)) == (rid, 17)
    assert parse_report(6, struct.pack(">IH", rid, 3)) == (rid, None)  # cut short: no code


def test_short_report_is_a_decode_error() -> None:
    with pytest.raises(DecodeError) as e:
        parse_report(1, b"\x18\x64")
    assert e.value.field == "verification.request_id"
