"""CCSDS time codes (301.0-B): CUC and CDS with implicit P-fields.

Times inside flightsw are integer nanoseconds since the mission epoch (the injected
clock's zero). The TM time field defaults to CUC with 4 coarse octets (seconds) and 2
fine octets (2^-16 s, about 15 us). CDS short (16-bit day, 32-bit ms of day, optional
16-bit us of ms) is offered for ground systems that expect it. The declarations below
are the source of truth; the encoders use ``int.to_bytes`` and are tested equal to them.
"""

from __future__ import annotations

from construct import Bytes, Int16ub, Int32ub, Struct

from flightsw.base.errors import DecodeError, EncodeError

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
CUC_DEFAULT_COARSE = 4
CUC_DEFAULT_FINE = 2


def cuc_declaration(coarse: int = CUC_DEFAULT_COARSE, fine: int = CUC_DEFAULT_FINE) -> Struct:
    """construct declaration of a CUC field with implicit P-field."""
    return Struct(
        "coarse" / Bytes(coarse),
        "fine" / Bytes(fine),
    )


CDS_SHORT = Struct("day" / Int16ub, "ms_of_day" / Int32ub)
CDS_SHORT_US = Struct("day" / Int16ub, "ms_of_day" / Int32ub, "us_of_ms" / Int16ub)
CUC_DEFAULT = cuc_declaration()


def _check_shape(coarse: int, fine: int) -> None:
    if not 1 <= coarse <= 4 or not 0 <= fine <= 3:
        raise EncodeError("cuc", f"{coarse} coarse / {fine} fine octets; allowed 1-4 / 0-3")


def cuc_pfield(coarse: int = CUC_DEFAULT_COARSE, fine: int = CUC_DEFAULT_FINE) -> int:
    """The P-field octet for CUC with an agency-defined epoch (time code id 0b010)."""
    _check_shape(coarse, fine)
    return (0b010 << 4) | ((coarse - 1) << 2) | fine


def cuc_encode(
    time_ns: int, coarse: int = CUC_DEFAULT_COARSE, fine: int = CUC_DEFAULT_FINE
) -> bytes:
    """Nanoseconds since epoch as a CUC field; the fine part is truncated, never rounded up."""
    _check_shape(coarse, fine)
    if time_ns < 0:
        raise EncodeError("cuc", "negative time")
    seconds, rem = divmod(time_ns, NS_PER_S)
    if seconds >= 1 << (8 * coarse):
        raise EncodeError("cuc", f"{seconds} s does not fit {coarse} coarse octets")
    frac = (rem << (8 * fine)) // NS_PER_S
    return seconds.to_bytes(coarse, "big") + frac.to_bytes(fine, "big")


def cuc_decode(field: bytes, coarse: int = CUC_DEFAULT_COARSE, offset: int = 0) -> int:
    """A CUC field (``coarse`` octets, the rest fine) back to nanoseconds since epoch.

    The result is the start of the fine tick, so encode(decode(x)) == x.
    """
    fine = len(field) - coarse
    if fine < 0 or fine > 3 or not 1 <= coarse <= 4:
        raise DecodeError("time", offset, f"{len(field)} octets is not a CUC {coarse}+fine field")
    seconds = int.from_bytes(field[:coarse], "big")
    frac = int.from_bytes(field[coarse:], "big")
    # Ceiling division so that truncating again on encode gives back the same tick.
    sub_ns = -((-frac * NS_PER_S) >> (8 * fine)) if fine else 0
    return seconds * NS_PER_S + sub_ns


def cds_encode(time_ns: int, with_us: bool = False) -> bytes:
    """Nanoseconds since epoch as CDS: day, ms of day and optionally us of ms."""
    if time_ns < 0:
        raise EncodeError("cds", "negative time")
    day, rem = divmod(time_ns, NS_PER_DAY)
    if day > 0xFFFF:
        raise EncodeError("cds", f"day {day} does not fit 16 bits")
    ms, rem_ns = divmod(rem, 1_000_000)
    out = day.to_bytes(2, "big") + ms.to_bytes(4, "big")
    if with_us:
        out += (rem_ns // 1000).to_bytes(2, "big")
    return out


def cds_decode(field: bytes, offset: int = 0) -> int:
    """A CDS short field (6 octets, or 8 with us of ms) back to nanoseconds since epoch."""
    if len(field) not in (6, 8):
        raise DecodeError("time", offset, f"{len(field)} octets is not CDS short (6 or 8)")
    day = int.from_bytes(field[0:2], "big")
    ms = int.from_bytes(field[2:6], "big")
    if ms >= 86_400_000:
        raise DecodeError("time.ms_of_day", offset + 2, f"{ms} ms exceeds one day")
    us = int.from_bytes(field[6:8], "big") if len(field) == 8 else 0
    if us >= 1000:
        raise DecodeError("time.us_of_ms", offset + 6, f"{us} us exceeds one ms")
    return day * NS_PER_DAY + ms * 1_000_000 + us * 1000
