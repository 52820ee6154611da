"""CRC-16/CCITT-FALSE, the packet error control of PUS packets and TC/TM frames.

Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR; check value
0x29B1 for b"123456789". Computed by crcmod's C extension (the ``crcmod-plus`` wheel);
the pure-Python fallback is ~25x slower, so :func:`crc_uses_c_extension` lets a test
fail loudly when the extension is missing.
"""

from __future__ import annotations

import crcmod
import crcmod.crcmod

from flightsw.base.errors import DecodeError, EncodeError

_crc16 = crcmod.mkCrcFun(0x11021, initCrc=0xFFFF, rev=False, xorOut=0x0000)

CRC16_INIT = 0xFFFF


def crc16(data: bytes | bytearray | memoryview, value: int = CRC16_INIT) -> int:
    """CRC-16/CCITT-FALSE of ``data``; pass ``value`` to continue a running CRC."""
    return int(_crc16(bytes(data) if isinstance(data, memoryview) else data, value))


def append_crc(body: bytes, given: int | None, field: str) -> bytes:
    """``body`` followed by its CRC-16, or by ``given`` verbatim (to forge a bad one)."""
    if given is None:
        return body + crc16(body).to_bytes(2, "big")
    if not isinstance(given, int) or isinstance(given, bool) or not 0 <= given <= 0xFFFF:
        raise EncodeError(field, f"{given!r} is not an integer in 0..65535")
    return body + given.to_bytes(2, "big")


def check_trailing_crc(buf: bytes, field: str) -> int:
    """The CRC-16 in the last two octets of ``buf``, checked over the octets before it.

    A mismatch is a :class:`DecodeError` naming ``field`` and the CRC's offset.
    """
    end = len(buf) - 2
    stored = int.from_bytes(buf[end:], "big")
    if crc16(buf) != 0:  # a correct trailer makes the CRC over everything zero
        computed = crc16(buf[:end])
        raise DecodeError(field, end, f"stored 0x{stored:04x}, computed 0x{computed:04x}")
    return stored


def crc_uses_c_extension() -> bool:
    """True when crcmod runs its C extension rather than the pure-Python fallback."""
    return bool(getattr(crcmod.crcmod, "_usingExtension", False))
