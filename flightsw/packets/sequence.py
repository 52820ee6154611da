"""The binary format of a stored command sequence, shared by the compiler and the sequencer.

A sequence file is ``FSQ1``, the sequence's name, flags (bit 0: it sends a critical
command), its steps, and a CRC-32 of everything before it. A step is one of:

- ``CMD``: a TC by name (kept for reports and decompiling), its routing (service,
  subservice), its encoded application data (function id included for TC(8,1)), a
  critical flag, and what to do if it fails (``on_failure``: abort, continue, or go to
  ``target``);
- ``WAIT``: wait ``delay_ns`` from when the step starts (relative time);
- ``AT``: wait until the on-board time ``time_ns`` (absolute time);
- ``WAIT_TLM``: wait until telemetry point ``point`` (``app.name``) compares true
  against ``value``, at most ``timeout_ns``; on timeout, the ``on_failure`` policy;
- ``GOTO``: continue at step ``target``;
- ``END``: stop here, successfully.

Times are integer nanoseconds: the sub-seconds written in the text survive. ``decode``
checks the CRC, the layout and the references between steps (targets in range) and
raises ``SequenceError`` naming what is wrong; the compiler and the on-board sequencer
both use it.
"""

from __future__ import annotations

import zlib
from enum import IntEnum
from typing import Any

from construct import (
    Checksum,
    Const,
    Float64b,
    GreedyBytes,
    Int8ub,
    Int16ub,
    Int32ub,
    Int64ub,
    PascalString,
    Prefixed,
    PrefixedArray,
    RawCopy,
    Struct,
    Switch,
    this,
)
from construct import Error as ConstructFail

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.framework import layouts

MAGIC = b"FSQ1"
MAX_STEPS = 1024
FLAG_CRITICAL = 0x01


class SequenceError(FlightswError):
    """A sequence that does not compile, decode or validate; ``where`` names the place
    (``file:line`` for text, ``step N`` or a field for a binary)."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class Op(IntEnum):
    CMD = 1
    WAIT = 2
    AT = 3
    WAIT_TLM = 4
    GOTO = 5
    END = 6


class OnFailure(IntEnum):
    ABORT = 0
    CONTINUE = 1
    GOTO = 2


class Compare(IntEnum):
    LT = 1
    LE = 2
    GT = 3
    GE = 4
    EQ = 5
    NE = 6


COMPARE_TEXT = {
    Compare.LT: "<",
    Compare.LE: "<=",
    Compare.GT: ">",
    Compare.GE: ">=",
    Compare.EQ: "==",
    Compare.NE: "!=",
}


def compare(op: int, a: float, b: float) -> bool:
    """``a OP b`` for a ``Compare`` code."""
    if op == Compare.LT:
        return a < b
    if op == Compare.LE:
        return a <= b
    if op == Compare.GT:
        return a > b
    if op == Compare.GE:
        return a >= b
    if op == Compare.EQ:
        return a == b
    return a != b


NAME = PascalString(Int8ub, "ascii")
CMD_STEP = Struct(
    "name" / NAME,
    "critical" / Int8ub,
    "service" / Int8ub,
    "subservice" / Int8ub,
    "app_data" / Prefixed(Int16ub, GreedyBytes),
    "on_failure" / Int8ub,
    "target" / Int16ub,
)
WAIT_TLM_STEP = Struct(
    "point" / NAME,
    "compare" / Int8ub,
    "value" / Float64b,
    "timeout_ns" / Int64ub,
    "on_failure" / Int8ub,
    "target" / Int16ub,
)
STEP = Struct(
    "op" / Int8ub,
    "body"
    / Switch(
        this.op,
        {
            Op.CMD: CMD_STEP,
            Op.WAIT: Struct("delay_ns" / Int64ub),
            Op.AT: Struct("time_ns" / Int64ub),
            Op.WAIT_TLM: WAIT_TLM_STEP,
            Op.GOTO: Struct("target" / Int16ub),
            Op.END: Struct(),
        },
        default=ConstructFail,
    ),
)
SEQUENCE = Struct(
    "magic" / Const(MAGIC),
    "name" / NAME,
    "flags" / Int8ub,
    "steps" / PrefixedArray(Int16ub, STEP),
)
SEQUENCE_FILE = Struct(
    "body" / RawCopy(SEQUENCE),
    "crc" / Checksum(Int32ub, lambda data: zlib.crc32(data), this.body.data),
)


def encode(name: str, steps: list[dict[str, Any]]) -> bytes:
    """A sequence file from its name and steps (``{"op": Op, "body": {...}}``)."""
    check_steps(steps, name)
    critical = any(s["op"] == Op.CMD and s["body"]["critical"] for s in steps)
    body = {"magic": MAGIC, "name": name, "flags": FLAG_CRITICAL if critical else 0}
    return layouts.encode(
        SEQUENCE_FILE, {"body": {"value": {**body, "steps": steps}}}, {}, "sequence"
    )


def decode(data: bytes) -> dict[str, Any]:
    """A sequence file's name, flags and steps; SequenceError if corrupt or inconsistent."""
    try:
        value = layouts.parse_fields(SEQUENCE_FILE, data, "sequence")
    except DecodeError as exc:
        raise SequenceError("sequence", f"not a valid sequence file ({exc})") from None
    seq: dict[str, Any] = value["body"]["value"]
    check_steps(seq["steps"], seq["name"])
    return seq


def check_steps(steps: list[dict[str, Any]], name: str) -> None:
    """References and values a layout cannot check: targets, policies, comparisons."""
    if not 1 <= len(steps) <= MAX_STEPS:
        raise SequenceError(name, f"{len(steps)} steps; a sequence has 1 to {MAX_STEPS}")
    for i, step in enumerate(steps):
        body = step["body"]
        where = f"{name} step {i}"
        if step["op"] not in Op.__members__.values():
            raise SequenceError(where, f"unknown operation {step['op']}")
        policy = body.get("on_failure")
        if policy is not None and policy not in OnFailure.__members__.values():
            raise SequenceError(where, f"unknown on_failure policy {policy}")
        needs_target = step["op"] == Op.GOTO or policy == OnFailure.GOTO
        if needs_target and not 0 <= body["target"] < len(steps):
            raise SequenceError(where, f"goes to step {body['target']}, outside the sequence")
        if step["op"] == Op.WAIT_TLM and body["compare"] not in COMPARE_TEXT:
            raise SequenceError(where, f"unknown comparison {body['compare']}")
