"""The ground's SDLS counters file: carries on, refuses garbage with our error, is locked."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.ground.sdls_state_file import GroundStateError, GroundStateFile
from flightsw.link.sdls import SdlsTc, SdlsTm, SecurityAssociation

HDR = bytes([0x20, 0x2A, 0x04, 0x1F, 0x07])
KEY = bytes(range(32))


def _ground(state: GroundStateFile, key: bytes = KEY) -> SdlsTc:
    return SdlsTc(
        [SecurityAssociation(1, key)],
        store=state.store(42, "tc"),
        send_reserve=16,
        persist_received=False,
        fail_closed=True,
    )


def test_counters_carry_over_sessions_and_a_new_key_starts_again(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    used: set[int] = set()
    for key in (KEY, KEY, bytes(range(1, 33))):
        state = GroundStateFile(path)
        ground = _ground(state, key)
        arsns = [int.from_bytes(ground.protect(HDR, b"x", 1)[2:6], "big") for _ in range(20)]
        state.close()
        if key == KEY:
            assert not used & set(arsns)
            used |= set(arsns)
        else:
            assert arsns[0] == 1  # a new key: the spacecraft restarted its counters too
    assert not list(tmp_path.glob("*.tmp"))
    doc = json.loads(path.read_text())
    assert doc["spacecraft"]["42"]["tc"]["1"]["arsn_sent"] == 32


def test_tm_high_survives_and_replays_are_refused_next_session(tmp_path: Path) -> None:
    sa = SecurityAssociation(3, KEY, arsn_len=8)
    flight = SdlsTm(sa)
    frames = [flight.protect_frame(bytes(6), bytes([i])) for i in range(5)]
    state = GroundStateFile(tmp_path / "g.json")
    ground = SdlsTm(sa, store=state.store(42, "tm"), persist_received=False, fail_closed=True)
    for body in frames:
        ground.verify_frame(bytes(6), body)
    ground.save()
    state.close()
    state = GroundStateFile(tmp_path / "g.json")
    again = SdlsTm(sa, store=state.store(42, "tm"), persist_received=False)
    for body in frames:
        with pytest.raises(Exception, match="replay"):
            again.verify_frame(bytes(6), body)
    state.close()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("{", "not JSON"),
        ("[]", "format"),
        ('{"format": "flightsw-ground-sdls", "version": 2, "spacecraft": {}}', "version"),
        ('{"format": "flightsw-ground-sdls", "version": 1, "spacecraft": []}', "spacecraft"),
        ('{"format": "flightsw-ground-sdls", "version": 1, "spacecraft": {"x": {}}}', "x"),
        (
            '{"format": "flightsw-ground-sdls", "version": 1, "spacecraft": {"42": {"tc": '
            '{"1": {"fingerprint": "00", "arsn_sent": 1, "arsn_received": 0}}}}}',
            "42.tc.1.fingerprint",
        ),
        (
            '{"format": "flightsw-ground-sdls", "version": 1, "spacecraft": {"42": {"tc": '
            '{"1": {"fingerprint": "0011223344556677", "arsn_sent": -1, "arsn_received": 0}}}}}',
            "42.tc.1.arsn_sent",
        ),
    ],
)
def test_a_bad_file_is_our_error_naming_the_file_and_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = tmp_path / "g.json"
    path.write_text(text)
    with pytest.raises(GroundStateError) as exc:
        GroundStateFile(path)
    assert str(path) in str(exc.value) and key in str(exc.value)
    path.unlink()  # the operator moves it away; the refused session left no lock behind
    GroundStateFile(path).close()


@given(st.binary(max_size=300))
def test_garbage_files_give_only_our_error(raw: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "g.json"
        path.write_bytes(raw)
        with contextlib.suppress(GroundStateError):
            GroundStateFile(path).close()
