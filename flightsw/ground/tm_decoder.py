"""Every TM report of a flight build decoded from its dictionary alone.

The dictionary (``flightsw dict export``) lists each TM report the flight build sends,
PUS (service, subservice), with the layout of its application data
(:mod:`flightsw.framework.layouts`); housekeeping values, event arguments and parameter values are
typed by the dictionary's tables. This module builds the codecs from that JSON and
imports no flight service or app: a ground tool decodes a mission it has only the
dictionary of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from construct import Construct

from flightsw.base.errors import DecodeError
from flightsw.framework import layouts
from flightsw.packets import PusTm, cuc_decode


@dataclass(frozen=True)
class DecodedTm:
    """One TM packet: its PUS header, the report's dictionary name and its fields."""

    packet: PusTm
    time_ns: int
    name: str
    fields: dict[str, Any]


class TmDecoder:
    """Decodes TM packets with the reports of one dictionary."""

    def __init__(self, dictionary: dict[str, Any]) -> None:
        t = dictionary.get("tm_time", {})
        self.time_len: int = int(t.get("coarse_octets", 4)) + int(t.get("fine_octets", 2))
        self.tables = layouts.tables_from_dictionary(dictionary)
        self.reports: dict[tuple[int, int], tuple[str, Construct]] = {}
        for r in dictionary.get("reports", []):
            key = (int(r["service"]), int(r["subservice"]))
            self.reports[key] = (str(r["name"]), layouts.build(r["layout"]))
        self.hk_points = {
            h["sid"]: [p["name"] for p in h["points"]] for h in dictionary.get("housekeeping", [])
        }
        self.event_args = {
            e["id"]: [a["name"] for a in e["args"]] for e in dictionary.get("events", [])
        }

    def fields(self, tm: PusTm) -> tuple[str, dict[str, Any]]:
        """The report's name and fields; DecodeError for a report the dictionary lacks
        or application data that does not fit its layout."""
        known = self.reports.get((tm.service, tm.subservice))
        if known is None:
            raise DecodeError(
                "report", 0, f"TM({tm.service},{tm.subservice}) not in the dictionary"
            )
        name, con = known
        fields: dict[str, Any] = layouts.parse(con, tm.app_data, self.tables, name)
        return name, fields

    def decode(self, raw: bytes) -> DecodedTm:
        tm = PusTm.decode(raw, time_len=self.time_len)
        name, fields = self.fields(tm)
        return DecodedTm(tm, cuc_decode(tm.time), name, fields)

    def named_values(self, decoded: DecodedTm) -> dict[str, Any]:
        """HK points or event arguments by name (the fields otherwise)."""
        f = decoded.fields
        if "sid" in f and isinstance(f.get("values"), list):
            return dict(zip(self.hk_points[f["sid"]], f["values"], strict=True))
        if "event_id" in f and isinstance(f.get("args"), list):
            return dict(zip(self.event_args[f["event_id"]], f["args"], strict=True))
        return f


def split_packets(stream: bytes) -> list[bytes]:
    """Concatenated space packets (a run's ``tm.bin``) one by one; a truncated last
    packet is a DecodeError naming where it starts."""
    out: list[bytes] = []
    pos = 0
    while pos < len(stream):
        if len(stream) - pos < 6:
            raise DecodeError("packet", pos, "a header cut short")
        n = int.from_bytes(stream[pos + 4 : pos + 6], "big") + 7
        if pos + n > len(stream):
            raise DecodeError("packet", pos, f"{n} octets announced, {len(stream) - pos} left")
        out.append(stream[pos : pos + n])
        pos += n
    return out
