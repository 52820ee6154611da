"""CRC-16/CCITT-FALSE, the packet error control of PUS packets and TC/TM frames.

Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR; check value
0x29B1 for b"123456789". Computed by crcmod's C extension (the ``crcmod-plus`` wheel);
the pure-Python fallback is ~25x slower, so :func:`crc_uses_c_extension` lets a test
fail loudly when the extension is missing.
"""

from __future__ import annotations

import crcmod
import crcmod.crcmod

_crc16 = crcmod.mkCrcFun(0x11021, initCrc=0xFFFF, rev=False, xorOut=0x0000)

CRC16_INIT = 0xFFFF


def crc16(data: bytes | bytearray | memoryview, value: int = CRC16_INIT) -> int:
    """CRC-16/CCITT-FALSE of ``data``; pass ``value`` to continue a running CRC."""
    return int(_crc16(bytes(data) if isinstance(data, memoryview) else data, value))


def crc_uses_c_extension() -> bool:
    """True when crcmod runs its C extension rather than the pure-Python fallback."""
    return bool(getattr(crcmod.crcmod, "_usingExtension", False))
