"""The id-list application data of PUS 3, 5 and 20 TCs: N:u8 then N u16 ids."""

from __future__ import annotations

import struct
from collections.abc import Container

from flightsw.base.errors import CommandError
from flightsw.framework.app import FailureCode

_U16 = struct.Struct(">H")


def parse_id_list(data: bytes, known: Container[int], what: str) -> list[int]:
    """The ids, each checked against ``known``; a PUS-1 failure code says what is wrong."""
    if len(data) < 1:
        raise CommandError(FailureCode.BAD_LENGTH, "missing N")
    n = data[0]
    if len(data) != 1 + 2 * n:
        raise CommandError(FailureCode.BAD_LENGTH, f"N={n} needs {1 + 2 * n} bytes")
    ids = [_U16.unpack_from(data, 1 + 2 * i)[0] for i in range(n)]
    for i in ids:
        if i not in known:
            raise CommandError(FailureCode.UNKNOWN_ID, f"unknown {what} 0x{i:04x}")
    return ids
