"""The FDIR table: the latch-up N-of-M filter and the recovery ladder's timing.

The table comes from the mission (``options.table``), is checked when loaded, and its
golden copy lives in the critical state on NV (voted). The live values are packed and
CRC-checked every frame against the golden CRC; a difference (an upset) reloads the
live values from the golden copy. Limits that are parameters are guarded the same way
by :class:`fdir.guard.ParamGuard`.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import asdict, fields
from typing import Any

from fdir.ladder import LadderTiming

LADDER_FIELDS = tuple(f.name for f in fields(LadderTiming))
KEYS = ("sel_n", "sel_m", *(f"ladder.{n}" for n in LADDER_FIELDS))
_PACK = struct.Struct(">" + "d" * len(KEYS))


def validated_table(raw: dict[str, Any]) -> dict[str, Any]:
    """The FDIR table from mission options, checked; errors name the key."""
    allowed = {"sel_n", "sel_m", "ladder"}
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"FDIR table: unknown key {sorted(unknown)[0]!r}")
    ladder = dict(raw.get("ladder", {}))
    bad = set(ladder) - set(LADDER_FIELDS)
    if bad:
        raise ValueError(f"FDIR table: unknown key ladder.{sorted(bad)[0]}")
    timing = LadderTiming(**ladder)
    for f in fields(LadderTiming):
        if not getattr(timing, f.name) > 0:
            raise ValueError(f"FDIR table: ladder.{f.name} must be positive")
    n, m = int(raw.get("sel_n", 1)), int(raw.get("sel_m", 1))
    if not 1 <= n <= m <= 63:
        raise ValueError("FDIR table: need 1 <= sel_n <= sel_m <= 63")
    return {"sel_n": n, "sel_m": m, "ladder": asdict(timing)}


def flat(table: dict[str, Any]) -> dict[str, float]:
    """The table as ``key -> value`` in KEYS order."""
    out = {"sel_n": float(table["sel_n"]), "sel_m": float(table["sel_m"])}
    for name in LADDER_FIELDS:
        out[f"ladder.{name}"] = float(table["ladder"][name])
    return out


def table_crc(values: dict[str, float]) -> int:
    """CRC-32 of the values packed as f64 in KEYS order (a few microseconds)."""
    try:
        return zlib.crc32(_PACK.pack(*(float(values[k]) for k in KEYS)))
    except (OverflowError, KeyError):
        return -1  # an int too big for a double: certainly not the golden table


def timing_from(values: dict[str, float]) -> LadderTiming:
    """LadderTiming from flat values (ints rounded; an unusable number becomes -1, which
    the CRC check then catches and repairs)."""
    kw: dict[str, Any] = {}
    for f in fields(LadderTiming):
        v = values[f"ladder.{f.name}"]
        if f.type in (int, "int"):
            kw[f.name] = int(v) if math.isfinite(v) else -1
        else:
            kw[f.name] = v
    return LadderTiming(**kw)
