"""Power, thermal, payload and FDIR keep working through invalid samples of every kind.

The simulated sensors report NaN, +inf and -inf in turn on every other read (below the
HAL, like a bench would); the HAL refuses or blanks them (hal.samples). No app may raise,
be restarted or disabled, and what they report stays finite.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from flightsw.apps.shared.messages import THERMAL_CAPS
from flightsw.sil.harness import SilHarness
from hal.sim.devices import SimBattery, SimBoards, SimPcdu, SimSolarArray, SimThermal
from tests.apps.conftest import small_node

BAD = (math.nan, math.inf, -math.inf)


def _corrupt(monkeypatch: pytest.MonkeyPatch, cls: type, make_bad: Any) -> None:
    """Every other reading of ``cls`` goes through ``make_bad(reading, bad_value)``."""
    real = cls.sense
    turn = itertools.count()

    def sense(self: Any) -> Any:
        reading = real(self)
        n = next(turn)
        return make_bad(reading, BAD[(n // 2) % 3]) if n % 2 else reading

    monkeypatch.setattr(cls, "sense", sense)


def _blank_board_values(tel: Any, bad: float) -> Any:
    values = {}
    for name in ("current_a", "power_w", "temperature_c", "work_done", "utilization"):
        arr = getattr(tel, name).copy()
        arr[::3] = bad
        values[name] = arr
    return replace(tel, **values)


CASES = {
    "battery": (SimBattery, lambda r, bad: replace(r, voltage_v=bad)),
    "solar_array": (SimSolarArray, lambda r, bad: replace(r, current_a=bad)),
    "temperatures": (SimThermal, lambda r, bad: (bad, *r[1:-1], bad)),
    "switches": (SimPcdu, lambda r, bad: replace(r, current_a=(bad, *r.current_a[1:]))),
    "boards": (SimBoards, _blank_board_values),
}


def _finite_tlm(h: SilHarness, app: str) -> None:
    for name, value in h.exe.app(app).instance.tlm.items():
        assert not isinstance(value, float) or math.isfinite(value), (app, name, value)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_apps_ride_through_invalid_samples(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    cls, make_bad = CASES[kind]
    h = small_node(boards=12)
    job = {"board_hours": 0.002, "priority": 1, "deadline_s": 0, "checkpoint_s": 600}
    for _ in range(3):
        h.send("payload.submit_job", job)
    _corrupt(monkeypatch, cls, make_bad)
    h.run(12)
    for name in ("power", "thermal", "payload", "fdir"):
        stats = h.exe.app(name).stats
        assert stats.exceptions == 0 and stats.restarts == 0 and not stats.disabled, name
        _finite_tlm(h, name)
    assert h.hal.samples.by_kind[kind] > 0
    assert 0 < h.exe.app("executive").instance.tlm["invalid_samples"] <= h.hal.samples.total
    payload = h.exe.app("payload").instance
    assert all(math.isfinite(j.progress) for j in payload.jobs.values())
    fdir = h.exe.app("fdir").instance.tlm
    assert fdir["latchups"] == 0 and fdir["overtemps"] == 0 and fdir["hangs"] == 0
    assert fdir["safe_mode"] == 0
    if kind in ("battery", "solar_array"):  # the whole reading was missing: counted
        assert h.exe.app("power").instance.tlm["device_errors"] > 0
    if kind == "boards":
        assert payload.tlm["jobs_done"] >= 3  # work still measured between the gaps
    if kind == "temperatures":  # SENSOR_INVALID (thermal id base 0x2100 + 3) reported
        assert [p for p in h.tm_of(5, 3) if p.app_data[:2] == b"\x21\x03"]


def test_a_throttled_board_whose_temperature_goes_missing_keeps_a_finite_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = small_node(boards=8)
    h.send_and_assert_command("parameters.set_parameters", app_data=_set_throttle_start(h, 0.0))
    job = {"board_hours": 0.5, "priority": 1, "deadline_s": 0, "checkpoint_s": 600}
    for _ in range(8):  # the payload powers boards for jobs
        h.send("payload.submit_job", job)
    h.run(3)  # every powered board is above 0 C: throttled
    thermal = h.exe.app("thermal").instance
    assert thermal.throttled.any()
    pipe = h.exe.bus.create_pipe("test.caps", 4)
    h.exe.bus.subscribe(THERMAL_CAPS, pipe)
    _corrupt(
        monkeypatch,
        SimBoards,
        lambda tel, bad: replace(tel, temperature_c=np.full_like(tel.temperature_c, bad)),
    )
    h.run(4)
    caps = [m.payload for m in pipe.drain()]
    assert caps and thermal.throttled.any()
    for c in caps:  # NaN would mean "no cap" to the payload
        assert np.isfinite(c.cap_w[thermal.throttled]).all()


def _set_throttle_start(h: SilHarness, value: float) -> bytes:
    import struct

    pid = next(
        p["id"] for p in h.dictionary["parameters"] if p["name"] == "thermal.throttle_start_c"
    )
    return struct.pack(">BHf", 1, pid, value)
