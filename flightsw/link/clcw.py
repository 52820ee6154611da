"""Communications Link Control Word (CCSDS 232.0-B §4.2, 232.1-B-2 §4.2): FARM-1's report.

The CLCW is the 4-octet status the on-board FARM-1 sends down in every TM frame's
Operational Control Field; the ground FOP-1 reads it to acknowledge and retransmit.
``CLCW`` is the construct declaration; :class:`Clcw` encodes and decodes with one
``int`` shift-and-mask pass (the hot path, called per downlinked frame), and the tests
prove both give the same bytes and fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from construct import BitsInteger, BitStruct, Const, Flag

from flightsw.base.errors import DecodeError, EncodeError

CLCW = BitStruct(
    "control_word_type" / Const(0, BitsInteger(1)),
    "version" / Const(0, BitsInteger(2)),
    "status" / BitsInteger(3),
    "cop_in_effect" / Const(1, BitsInteger(2)),
    "vcid" / BitsInteger(6),
    "spare0" / Const(0, BitsInteger(2)),
    "no_rf_available" / Flag,
    "no_bit_lock" / Flag,
    "lockout" / Flag,
    "wait" / Flag,
    "retransmit" / Flag,
    "farm_b_counter" / BitsInteger(2),
    "spare1" / Const(0, BitsInteger(1)),
    "report_value" / BitsInteger(8),
)

CLCW_LEN = 4
COP_1 = 1  # "COP in Effect" value for COP-1 (232.0-B §4.2.1.5)


def _check(name: str, value: int, limit: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
        raise EncodeError(name, f"{value!r} is not an integer in 0..{limit}")
    return value


@dataclass(frozen=True, slots=True)
class Clcw:
    """One CLCW. ``report_value`` is N(R), the next frame sequence number FARM-1 expects."""

    vcid: int = 0
    report_value: int = 0
    lockout: bool = False
    wait: bool = False
    retransmit: bool = False
    farm_b_counter: int = 0
    no_rf_available: bool = False
    no_bit_lock: bool = False
    status: int = 0

    def encode(self) -> bytes:
        """The 4 octets; fields are range-checked (:class:`EncodeError` names the field)."""
        word = (
            (_check("status", self.status, 7) << 26)
            | (COP_1 << 24)
            | (_check("vcid", self.vcid, 63) << 18)
            | (bool(self.no_rf_available) << 15)
            | (bool(self.no_bit_lock) << 14)
            | (bool(self.lockout) << 13)
            | (bool(self.wait) << 12)
            | (bool(self.retransmit) << 11)
            | (_check("farm_b_counter", self.farm_b_counter, 3) << 9)
            | _check("report_value", self.report_value, 255)
        )
        return word.to_bytes(4, "big")

    @classmethod
    def decode(cls, buf: bytes | bytearray | memoryview) -> Clcw:
        """Exactly 4 octets; the constant fields must hold their fixed values."""
        if len(buf) != CLCW_LEN:
            raise DecodeError("clcw", 0, f"{len(buf)} octets, a CLCW has {CLCW_LEN}")
        word = int.from_bytes(buf, "big")
        if word >> 31:
            raise DecodeError("control_word_type", 0, "type 1 is not a CLCW")
        if (word >> 29) & 3:
            raise DecodeError("version", 0, f"CLCW version {(word >> 29) & 3}, expected 0")
        if (word >> 24) & 3 != COP_1:
            raise DecodeError("cop_in_effect", 0, f"COP {(word >> 24) & 3}, expected 1 (COP-1)")
        if (word >> 16) & 3:
            raise DecodeError("spare0", 1, "reserved spare bits are not zero")
        if (word >> 8) & 1:
            raise DecodeError("spare1", 2, "reserved spare bit is not zero")
        return cls(
            vcid=(word >> 18) & 0x3F,
            report_value=word & 0xFF,
            lockout=bool((word >> 13) & 1),
            wait=bool((word >> 12) & 1),
            retransmit=bool((word >> 11) & 1),
            farm_b_counter=(word >> 9) & 3,
            no_rf_available=bool((word >> 15) & 1),
            no_bit_lock=bool((word >> 14) & 1),
            status=(word >> 26) & 7,
        )
