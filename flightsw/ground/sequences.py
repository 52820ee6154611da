"""Stored command sequences: the text ground engineers write, compiled against the dictionary.

The text format, one statement a line (``#`` starts a comment)::

    sequence warm_up                      # the name (default: the file's stem)
    on_failure abort                      # default policy: abort | continue | goto LABEL
    cmd power.switch switch=3 on=1        # a command by name, arguments by name
    wait 2.5                              # relative wait, seconds (sub-seconds kept)
    at 86400.125                          # absolute: wait until on-board time (s)
    wait_tlm thermal.max_board_temp_c < 60 timeout 120 else goto cool
    cmd test.ping else continue           # a policy for one step
    end                                   # stop here, successfully
    cool:                                 # a label
    cmd power.switch switch=3 on=0

``compile_text`` checks every command name, argument name, type and range against the
dictionary (the same checks as commanding by name), every telemetry point, label and
policy, and flags critical commands; the result is the binary of
``flightsw.packets.sequence`` with its CRC. ``decompile`` turns a binary back into text
(labels become ``step_N``). Every error is a ``SequenceError`` naming file and line.
"""

from __future__ import annotations

import re
import struct
from decimal import Decimal, InvalidOperation
from typing import Any

from flightsw.base.errors import EncodeError
from flightsw.framework.datatypes import TYPES
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets.sequence import (
    COMPARE_TEXT,
    MAX_STEPS,
    OnFailure,
    Op,
    SequenceError,
    decode,
    encode,
)

NS_PER_S = 1_000_000_000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):$")
_TEXT_TO_COMPARE = {text: code for code, text in COMPARE_TEXT.items()}


def _seconds_ns(text: str, where: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SequenceError(where, f"{text!r} is not a number of seconds") from None
    if not value.is_finite() or value < 0 or value >= 2**63 / NS_PER_S:
        raise SequenceError(where, f"{text} s is out of range")
    ns = value * NS_PER_S
    if ns != ns.to_integral_value():
        raise SequenceError(where, f"{text} s has more than nanosecond precision")
    return int(ns)


def _format_seconds(ns: int) -> str:
    return str((Decimal(ns) / NS_PER_S).normalize()) if ns else "0"


def _number(text: str, where: str) -> int | float:
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise SequenceError(where, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SequenceError(where, f"{text!r} is not a finite number")
    return value


class _Compiler:
    def __init__(self, dictionary: dict[str, Any], source: str) -> None:
        self.encoder = CommandEncoder(dictionary)
        self.points = {t["name"] for t in dictionary["telemetry"]}
        self.source = source
        self.steps: list[dict[str, Any]] = []
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[dict[str, Any], str, str]] = []  # body, label, where
        self.default: tuple[int, str | None] = (OnFailure.ABORT, None)
        self.critical: list[str] = []

    def policy(self, words: list[str], where: str) -> tuple[int, str | None]:
        if words == ["abort"]:
            return OnFailure.ABORT, None
        if words == ["continue"]:
            return OnFailure.CONTINUE, None
        if len(words) == 2 and words[0] == "goto":
            return OnFailure.GOTO, words[1]
        raise SequenceError(where, f"policy {' '.join(words)!r}: abort, continue or goto LABEL")

    def with_policy(self, body: dict[str, Any], policy: tuple[int, str | None], where: str) -> None:
        body["on_failure"] = policy[0]
        body["target"] = 0
        if policy[1] is not None:
            self.fixups.append((body, policy[1], where))

    def split_else(self, words: list[str], where: str) -> tuple[list[str], tuple[int, str | None]]:
        if "else" in words:
            i = words.index("else")
            return words[:i], self.policy(words[i + 1 :], where)
        return words, self.default

    def statement(self, words: list[str], where: str) -> None:
        kw, rest = words[0], words[1:]
        if kw == "cmd":
            rest, policy = self.split_else(rest, where)
            self.command(rest, policy, where)
        elif kw == "wait" and len(rest) == 1:
            self.add(Op.WAIT, {"delay_ns": _seconds_ns(rest[0], where)}, where)
        elif kw == "at" and len(rest) == 1:
            self.add(Op.AT, {"time_ns": _seconds_ns(rest[0], where)}, where)
        elif kw == "wait_tlm":
            rest, policy = self.split_else(rest, where)
            self.wait_tlm(rest, policy, where)
        elif kw == "goto" and len(rest) == 1:
            body: dict[str, Any] = {"target": 0}
            self.fixups.append((body, rest[0], where))
            self.add(Op.GOTO, body, where)
        elif kw == "end" and not rest:
            self.add(Op.END, {}, where)
        elif kw == "on_failure":
            self.default = self.policy(rest, where)
        else:
            raise SequenceError(where, f"cannot read {' '.join(words)!r}")

    def add(self, op: Op, body: dict[str, Any], where: str) -> None:
        if len(self.steps) >= MAX_STEPS:
            raise SequenceError(where, f"more than {MAX_STEPS} steps")
        self.steps.append({"op": op, "body": body})

    def command(self, words: list[str], policy: tuple[int, str | None], where: str) -> None:
        if not words:
            raise SequenceError(where, "cmd needs a command name")
        name, args = words[0], {}
        for word in words[1:]:
            key, eq, value = word.partition("=")
            if not eq or not key:
                raise SequenceError(where, f"argument {word!r} is not NAME=VALUE")
            if key in args:
                raise SequenceError(where, f"argument {key!r} given twice")
            args[key] = _number(value, f"{where} {key}")
        try:
            cmd, app_data = self.encoder.app_data(name, args)
        except EncodeError as exc:
            raise SequenceError(where, str(exc)) from None
        if cmd["args"] is None:
            raise SequenceError(where, f"{name} has a variable layout: not in sequences yet")
        body = {
            "name": name,
            "critical": int(bool(cmd["critical"])),
            "service": cmd["service"],
            "subservice": cmd["subservice"],
            "app_data": app_data,
        }
        if cmd["critical"]:
            self.critical.append(f"{where} {name}")
        self.with_policy(body, policy, where)
        self.add(Op.CMD, body, where)

    def wait_tlm(self, words: list[str], policy: tuple[int, str | None], where: str) -> None:
        if len(words) != 5 or words[3] != "timeout":
            raise SequenceError(where, "wait_tlm APP.POINT OP VALUE timeout SECONDS [else ...]")
        point, op, value, _, timeout = words
        if point not in self.points:
            raise SequenceError(where, f"unknown telemetry point {point!r}")
        if op not in _TEXT_TO_COMPARE:
            raise SequenceError(where, f"comparison {op!r}: one of {sorted(_TEXT_TO_COMPARE)}")
        body = {
            "point": point,
            "compare": _TEXT_TO_COMPARE[op],
            "value": float(_number(value, where)),
            "timeout_ns": _seconds_ns(timeout, where),
        }
        self.with_policy(body, policy, where)
        self.add(Op.WAIT_TLM, body, where)


def compile_text(
    text: str, dictionary: dict[str, Any], source: str = "<text>", name: str | None = None
) -> tuple[bytes, list[str]]:
    """The binary of a sequence written in the text format, and its critical commands
    (``file:line name``, to show the operator). SequenceError at the first problem."""
    c = _Compiler(dictionary, source)
    seq_name = name
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{source}:{number}"
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        label = _LABEL.match(words[0])
        if label and len(words) == 1:
            if label.group(1) in c.labels:
                raise SequenceError(where, f"label {label.group(1)!r} defined twice")
            c.labels[label.group(1)] = len(c.steps)
            continue
        if words[0] == "sequence":
            if len(words) != 2 or not _NAME.match(words[1]) or c.steps:
                raise SequenceError(where, "sequence NAME, before the first step")
            seq_name = words[1]
            continue
        c.statement(words, where)
    if not c.steps:
        raise SequenceError(source, "no steps")
    for body, wanted, where in c.fixups:
        if wanted not in c.labels:
            raise SequenceError(where, f"unknown label {wanted!r}")
        if c.labels[wanted] >= len(c.steps):
            raise SequenceError(where, f"label {wanted!r} is after the last step")
        body["target"] = c.labels[wanted]
    final = seq_name or "sequence"
    if not _NAME.match(final):
        raise SequenceError(source, f"sequence name {final!r}: letters, digits, _ . -")
    return encode(final, c.steps), c.critical


def decompile(data: bytes, dictionary: dict[str, Any]) -> str:
    """A sequence binary back to the text format (labels named ``step_N``)."""
    seq = decode(data)
    commands = {c["name"]: c for c in dictionary["commands"]}
    steps = seq["steps"]
    targets = set()
    for s in steps:
        b = s["body"]
        if s["op"] == Op.GOTO or b.get("on_failure") == OnFailure.GOTO:
            targets.add(b["target"])
    lines = [f"sequence {seq['name']}"]

    def policy(b: dict[str, Any]) -> str:
        if b["on_failure"] == OnFailure.ABORT:
            return ""
        if b["on_failure"] == OnFailure.CONTINUE:
            return " else continue"
        return f" else goto step_{b['target']}"

    for i, s in enumerate(steps):
        if i in targets:
            lines.append(f"step_{i}:")
        b, op = s["body"], s["op"]
        if op == Op.CMD:
            lines.append(f"cmd {b['name']}{_args_text(b, commands, f'step {i}')}{policy(b)}")
        elif op == Op.WAIT:
            lines.append(f"wait {_format_seconds(b['delay_ns'])}")
        elif op == Op.AT:
            lines.append(f"at {_format_seconds(b['time_ns'])}")
        elif op == Op.WAIT_TLM:
            lines.append(
                f"wait_tlm {b['point']} {COMPARE_TEXT[b['compare']]} {b['value']!r} "
                f"timeout {_format_seconds(b['timeout_ns'])}{policy(b)}"
            )
        elif op == Op.GOTO:
            lines.append(f"goto step_{b['target']}")
        else:
            lines.append("end")
    return "\n".join(lines) + "\n"


def _args_text(body: dict[str, Any], commands: dict[str, dict[str, Any]], where: str) -> str:
    """The step's arguments by name, decoded from its application data by the dictionary."""
    cmd = commands.get(body["name"])
    if cmd is None or cmd["args"] is None:
        raise SequenceError(where, f"{body['name']!r} is not a command of this dictionary")
    data = body["app_data"][2:] if cmd["function_id"] is not None else body["app_data"]
    fmt = ">" + "".join(TYPES[a["type"]].code for a in cmd["args"])
    if struct.calcsize(fmt) != len(data):
        raise SequenceError(where, f"{body['name']}: {len(data)} octets of arguments")
    values = struct.unpack(fmt, data)
    return "".join(f" {a['name']}={v!r}" for a, v in zip(cmd["args"], values, strict=True))
