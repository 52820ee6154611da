"""Parameters (PUS service 20): one store for every app's tunables, set with validation.

TC(20,1) reports values, TM(20,2) carries them, TC(20,3) sets them. A set TC is checked
whole (every id known, every value of its type and in range) before any value changes,
so a half-applied set never happens.

Layouts: TC(20,1) = N:u8, N × id:u16. TM(20,2) and TC(20,3) = N:u8, N × (id:u16, value),
the value encoded in the parameter's declared type.
"""

from __future__ import annotations

import struct
from typing import Any

from flightsw.base.errors import CommandError, EncodeError
from flightsw.framework import layouts as L
from flightsw.framework.app import App, FailureCode, ReportDef, command
from flightsw.framework.datatypes import TYPES, Value
from flightsw.framework.id_list import parse_id_list
from flightsw.framework.parameters import ParameterMemory, ParameterStore
from flightsw.framework.ports import Service

_U8 = struct.Struct(">B")
IDS = L.Struct("ids" / L.counted(L.U8, L.U16))
VALUES = L.Struct(
    "values" / L.counted(L.U8, L.Struct("id" / L.U16, "value" / L.by_id("parameters", "id")))
)
_U16 = struct.Struct(">H")


class ParameterService(App):
    """PUS 20: report and set parameters by id."""

    DEFAULT_RATE_HZ = 10.0
    REPORTS = (ReportDef(20, 2, "parameter_values", VALUES, "answer to TC(20,1)"),)
    store = Service(ParameterMemory)  # every app's parameters, by id

    def _parse_ids(self, data: bytes) -> dict[str, Any]:
        return {"ids": parse_id_list(data, self.store.by_id, "parameter id")}

    def _parse_set(self, data: bytes) -> dict[str, Any]:
        if len(data) < 1:
            raise CommandError(FailureCode.BAD_LENGTH, "missing N")
        n, off = data[0], 1
        updates: list[tuple[int, Value]] = []
        for _ in range(n):
            if off + 2 > len(data):
                raise CommandError(FailureCode.BAD_LENGTH, f"truncated at byte {off}")
            (pid,) = _U16.unpack_from(data, off)
            off += 2
            entry = self.store.by_id.get(pid)
            if entry is None:
                raise CommandError(FailureCode.UNKNOWN_ID, f"unknown parameter id 0x{pid:04x}")
            dt = TYPES[entry.pdef.type]
            if off + dt.size > len(data):
                raise CommandError(FailureCode.BAD_LENGTH, f"truncated value of 0x{pid:04x}")
            (raw,) = struct.unpack_from(">" + dt.code, data, off)
            off += dt.size
            try:
                updates.append((pid, ParameterStore.validate(entry.pdef, raw)))
            except EncodeError as exc:
                raise CommandError(FailureCode.ARG_OUT_OF_RANGE, str(exc)) from None
        if off != len(data):
            raise CommandError(FailureCode.BAD_LENGTH, f"{len(data) - off} trailing bytes")
        return {"updates": updates}

    @command(service=20, subservice=1, parser="_parse_ids", layout=IDS, name="report_parameters")
    def cmd_report(self, ids: list[int]) -> None:
        """Report the values of the given parameter ids as TM(20,2)."""
        self.send_tm(20, 2, encode_parameter_values(self.store, ids))

    @command(service=20, subservice=3, parser="_parse_set", layout=VALUES, name="set_parameters")
    def cmd_set(self, updates: list[tuple[int, Value]]) -> None:
        """Set parameter values, all or none."""
        for pid, value in updates:
            self.store.set_by_id(pid, value)


def encode_parameter_values(store: ParameterMemory, ids: list[int]) -> bytes:
    """N:u8 then (id:u16, value) per parameter, each in its declared type."""
    out = bytearray(_U8.pack(len(ids)))
    for pid in ids:
        entry = store.by_id[pid]
        out += _U16.pack(pid)
        out += struct.pack(">" + TYPES[entry.pdef.type].code, store.value_by_id(pid))
    return bytes(out)
