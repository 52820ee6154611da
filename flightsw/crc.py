"""CRC-16/CCITT-FALSE as the flight side imports it; defined in :mod:`flightsw.base.crc`
(the bottom layer, shared with hal's serial protocol)."""

from __future__ import annotations

from flightsw.base.crc import (
    CRC16_INIT,
    append_crc,
    check_trailing_crc,
    crc16,
    crc_uses_c_extension,
)

__all__ = ["CRC16_INIT", "append_crc", "check_trailing_crc", "crc16", "crc_uses_c_extension"]
