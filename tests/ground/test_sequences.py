"""The sequence text format compiled against the dictionary, and decompiled back."""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.framework.app import App, AppSpec, Arg, command
from flightsw.ground.sequences import compile_text, decompile
from flightsw.packets.sequence import FLAG_CRITICAL, SequenceError, decode
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import load_mission


class ArmedApp(App):
    """Has one critical command."""

    @command(function_id=1, args=(Arg("level", "u8", 0, 3),), critical=True)
    def cmd_fire(self, level: int) -> None:
        """A critical command."""


@functools.cache
def _dictionary() -> dict[str, Any]:
    m = load_mission()
    m.apps = [*m.apps, AppSpec("armed", ArmedApp, 1.0, 0x3000)]
    return build_dictionary(m)


def test_critical_commands_are_flagged_in_the_binary_and_to_the_operator() -> None:
    data, critical = compile_text("cmd test.ping\ncmd armed.fire level=2\n", _dictionary(), "f.seq")
    assert critical == ["f.seq:2 armed.fire"]
    seq = decode(data)
    assert seq["flags"] & FLAG_CRITICAL and seq["steps"][1]["body"]["critical"] == 1


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("cmd test.ping\ncmd nope.cmd\n", 2, "unknown command"),
        ("cmd power.switch switch=1 on=1 volts=3\n", 1, "unknown arguments"),
        ("cmd power.switch switch=1\n", 1, "missing argument"),
        ("cmd power.switch switch=1 on=2\n", 1, "outside"),
        ("cmd power.switch switch=1 on=x\n", 1, "not a number"),
        ("wait_tlm power.nothing < 1 timeout 2\n", 1, "unknown telemetry point"),
        ("wait_tlm power.soc ~ 1 timeout 2\n", 1, "comparison"),
        ("cmd test.ping else goto nowhere\n", 1, "unknown label"),
        ("cmd test.ping else retry\n", 1, "policy"),
        ("wait -1\n", 1, "out of range"),
        ("wait 0.0000000001\n", 1, "nanosecond"),
        ("launch now\n", 1, "cannot read"),
        ("cmd scheduler.insert\n", 1, "variable layout"),
        ("# nothing\n", None, "no steps"),
    ],
)
def test_mistakes_are_refused_naming_file_and_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(SequenceError) as info:
        compile_text(text, _dictionary(), "ops.seq")
    assert words in str(info.value)
    assert info.value.where.startswith(f"ops.seq:{line}" if line else "ops.seq")


def test_corrupted_binary_is_refused() -> None:
    data, _ = compile_text("cmd test.ping\nwait 1.5\n", _dictionary())
    for i in range(len(data)):
        bad = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        with pytest.raises(SequenceError):
            decode(bad)


# --- property tests ---------------------------------------------------------------------

_seconds = st.integers(0, 10**15).map(
    lambda ns: str(ns / 10**9) if ns % 10**6 == 0 else f"{ns // 10**9}.{ns % 10**9:09d}"
)
_points = st.sampled_from(["power.soc", "thermal.max_board_temp_c", "scheduler.scheduled"])
_policy = st.sampled_from(["", " else continue", " else abort", " else goto L0", " else goto L1"])
_cmd = st.one_of(
    st.just("cmd test.ping"),
    st.builds("cmd power.switch switch={} on={}".format, st.integers(0, 255), st.integers(0, 1)),
    st.builds(
        "cmd payload.submit_job board_hours={} priority={} deadline_s={} checkpoint_s={}".format,
        st.floats(0.0078125, 9999.0, width=32),
        st.integers(0, 255),
        st.integers(0, 2**32 - 1),
        st.floats(1.0, 86000.0, width=32),
    ),
)
_statement = st.one_of(
    st.tuples(_cmd, _policy).map("".join),
    _seconds.map("wait {}".format),
    _seconds.map("at {}".format),
    st.builds(
        "wait_tlm {} {} {} timeout {}{}".format,
        _points,
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.floats(-1e6, 1e6),
        _seconds,
        _policy,
    ),
    st.just("goto L1"),
    st.just("end"),
)


@settings(max_examples=25)
@given(st.lists(_statement, min_size=1, max_size=12), st.integers(0, 11))
def test_compile_decompile_compile_gives_the_same_binary(lines: list[str], where: int) -> None:
    body = list(lines)
    body.insert(0, "L0:")
    body.insert(min(where, len(lines) - 1) + 1, "L1:")
    text = "sequence prop\n" + "\n".join(body) + "\n"
    data, _ = compile_text(text, _dictionary(), "p.seq")
    again, _ = compile_text(decompile(data, _dictionary()), _dictionary(), "d.seq")
    assert again == data


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_garbage_binaries_raise_only_our_error(data: bytes) -> None:
    with contextlib.suppress(SequenceError):
        decompile(data, _dictionary())


@settings(max_examples=50)
@given(st.text(max_size=120))
def test_garbage_text_raises_only_our_error(text: str) -> None:
    with contextlib.suppress(SequenceError):
        compile_text(text, _dictionary(), "g.seq")
