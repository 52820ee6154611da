"""The simulated devices apply the HAL's finiteness rule exactly as a bench does."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hal.clocks import SimClock
from hal.samples import InvalidSample
from hal.sim.backend import build_sim_hal
from hal.sim.devices import SimBattery, SimBoards, SimPcdu, SimSolarArray, SimThermal
from sim_hw.boards import COUNT_ROWS, FLOAT_ROWS, MOVING_ROWS

NON_FINITE = [math.nan, math.inf, -math.inf]


def _hal():  # type: ignore[no-untyped-def]
    hal = build_sim_hal({"spacecraft": {"boards": 4}, "radio": {"kind": "none"}}, 1, SimClock())
    hal.step(1_000_000_000)
    return hal


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize("field", ["voltage_v", "current_a", "temperature_c"])
def test_battery(monkeypatch: pytest.MonkeyPatch, bad: float, field: str) -> None:
    hal = _hal()
    good = hal.devices["battery"].read_battery()
    monkeypatch.setattr(SimBattery, "sense", lambda self: replace(good, **{field: bad}))
    with pytest.raises(InvalidSample):
        hal.devices["battery"].read_battery()
    assert hal.samples.by_kind["battery"] == 1


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize("field", ["voltage_v", "current_a", "sun_sensor"])
def test_solar_array(monkeypatch: pytest.MonkeyPatch, bad: float, field: str) -> None:
    hal = _hal()
    good = hal.devices["solar_array"].read_solar_array()
    monkeypatch.setattr(SimSolarArray, "sense", lambda self: replace(good, **{field: bad}))
    with pytest.raises(InvalidSample):
        hal.devices["solar_array"].read_solar_array()
    assert hal.samples.by_kind["solar_array"] == 1


@pytest.mark.parametrize("bad", NON_FINITE)
def test_thermistors_and_switch_currents(monkeypatch: pytest.MonkeyPatch, bad: float) -> None:
    hal = _hal()
    temps = hal.devices["thermal"].read_temperatures_c()
    sw = hal.devices["pcdu"].read_switches()
    monkeypatch.setattr(SimThermal, "sense", lambda self: (bad, *temps[1:]))
    monkeypatch.setattr(
        SimPcdu, "sense", lambda self: replace(sw, current_a=(*sw.current_a[:-1], bad))
    )
    got = hal.devices["thermal"].read_temperatures_c()
    assert math.isnan(got[0]) and got[1:] == temps[1:]
    currents = hal.devices["pcdu"].read_switches().current_a
    assert math.isnan(currents[-1]) and currents[:-1] == sw.current_a[:-1]
    assert hal.samples.by_kind["temperatures"] == 1 and hal.samples.by_kind["switches"] == 1


@pytest.mark.parametrize("seam", ["sense", "_sense"])
@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize(
    "field", ["current_a", "power_w", "temperature_c", "work_done", "utilization", "power_cap_w"]
)
def test_board_values(monkeypatch: pytest.MonkeyPatch, bad: float, field: str, seam: str) -> None:
    hal = _hal()
    good = hal.devices["boards"].sense()

    def sense(self: SimBoards):  # type: ignore[no-untyped-def]
        values = getattr(good, field).copy()
        values[2] = bad
        return replace(good, **{field: values})

    def sense_block(self: SimBoards):  # type: ignore[no-untyped-def]
        # As the device builds it: the float fields are rows of blocks it has not yet
        # found finite (here one block of them all).
        block = np.stack([getattr(good, f) for f in FLOAT_ROWS])
        block[FLOAT_ROWS.index(field), 2] = bad
        return replace(good, **dict(zip(FLOAT_ROWS, block, strict=True))), (block,)

    monkeypatch.setattr(SimBoards, seam, sense if seam == "sense" else sense_block)
    hal.step(2_000_000_000)  # a new physics step: no cached snapshot
    tel = hal.devices["boards"].read_boards()
    got = getattr(tel, field)
    assert math.isnan(got[2]) and np.array_equal(
        np.delete(got, 2), np.delete(getattr(good, field), 2)
    )
    assert hal.samples.by_kind["boards"] == 1


def test_board_snapshot_copies_what_moved_shares_what_did_not_and_never_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hal = _hal()
    boards = hal.devices["boards"]
    sc = hal.harness["sim"]
    boards.set_board_power(np.arange(4), True)
    boards.set_utilization(np.arange(4), np.array([0.0, 0.3, 0.6, 1.0]))

    def per_array(*_a: object) -> None:
        raise AssertionError("all finite: one check of the moving rows, none per array")

    monkeypatch.setattr(hal.samples, "unit_array", per_array)
    tel = boards.read_boards()
    moving, settings = tel.temperature_c.base, tel.current_a.base
    assert moving is not None and moving.shape == (MOVING_ROWS, 4)
    assert settings is not None and settings.shape == (len(FLOAT_ROWS) - MOVING_ROWS, 4)
    for row, name in enumerate(FLOAT_ROWS):
        block, i = (moving, row) if row < MOVING_ROWS else (settings, row - MOVING_ROWS)
        assert getattr(tel, name).base is block and np.shares_memory(getattr(tel, name), block[i])
        np.testing.assert_array_equal(getattr(tel, name), getattr(sc.boards, name))
    for name in (*FLOAT_ROWS, *COUNT_ROWS, "powered", "heartbeat"):
        got = getattr(tel, name)
        assert not got.flags.writeable, name  # nobody may change a report
        assert not np.shares_memory(got, sc.boards.float_block), name
        assert not np.shares_memory(got, sc.boards.count_block), name
    kept = {name: getattr(tel, name).copy() for name in (*FLOAT_ROWS, *COUNT_ROWS, "powered")}

    hal.step(2_000_000_000)  # physics moves temperatures and work, not the settings
    nxt = boards.read_boards()
    assert nxt is not tel and nxt.temperature_c.base is not moving
    for name in (*FLOAT_ROWS[MOVING_ROWS:], *COUNT_ROWS, "powered"):
        assert getattr(nxt, name) is getattr(tel, name), name  # shared, not copied again

    boards.set_utilization(np.arange(2), 0.5)  # a command: new setting rows
    sc.boards.apply_radiation(  # an upset: new counters
        np.array([0, 3, 0, 0]), np.zeros(4, np.int64), np.zeros(4, bool), np.zeros(4, bool)
    )
    sc.revision += 1
    third = boards.read_boards()
    assert third.current_a.base is not settings and third.ecc_corrected is not tel.ecc_corrected
    # single upsets move only the corrected count: the other counters are still shared
    assert third.ecc_uncorrectable is tel.ecc_uncorrectable
    assert third.checksum_errors is tel.checksum_errors
    np.testing.assert_array_equal(third.utilization, sc.boards.utilization)
    np.testing.assert_array_equal(third.ecc_corrected, sc.boards.ecc_corrected)
    for name, value in kept.items():  # the model moved on, the first report did not
        np.testing.assert_array_equal(getattr(tel, name), value, err_msg=name)


def test_board_setting_rows_that_are_not_finite_count_at_every_report() -> None:
    hal = _hal()
    boards = hal.devices["boards"]
    sc = hal.harness["sim"]
    sc.boards._power_cap_w[1] = math.nan  # (as a broken model would: commands refuse NaN;
    # the board is off, so its power stays 0 and the cap is the one bad value)
    sc.boards._dirty = True
    for k in range(1, 4):  # the setting rows are shared, and checked again each time
        hal.step((1 + k) * 1_000_000_000)
        tel = boards.read_boards()
        assert math.isnan(tel.power_cap_w[1]) and hal.samples.by_kind["boards"] == k
        assert np.isfinite(np.delete(tel.power_cap_w, 1)).all()


@pytest.mark.parametrize("bad", NON_FINITE)
def test_switch_readings_are_reused_only_while_unchanged_and_finite(
    monkeypatch: pytest.MonkeyPatch, bad: float
) -> None:
    hal = _hal()
    pcdu = hal.devices["pcdu"]
    first = pcdu.read_switches()
    assert pcdu.read_switches() is first  # same model telemetry, nothing blanked
    pcdu.set_switch("aux_0", False)
    changed = pcdu.read_switches()
    assert changed is not first and not changed.on[pcdu.switch_names().index("aux_0")]
    hal.step(2_000_000_000)
    assert pcdu.read_switches() is changed  # a step that moved no current, bit for bit
    pcdu.set_switch("aux_0", True)
    hal.step(3_000_000_000)
    moved = pcdu.read_switches()  # a step's new currents
    assert moved.current_a != changed.current_a and moved.on[pcdu.switch_names().index("aux_0")]
    # A blanked reading is counted at every read, even of the very same telemetry.
    same_bad = replace(first, current_a=(*first.current_a[:-1], bad))
    monkeypatch.setattr(SimPcdu, "sense", lambda self: same_bad)
    for k in (1, 2, 3):
        assert math.isnan(pcdu.read_switches().current_a[-1])
        assert hal.samples.by_kind["switches"] == k


_FIELDS = ("powered", *FLOAT_ROWS, *COUNT_ROWS, "heartbeat")
_IDX = st.lists(st.integers(0, 3), min_size=0, max_size=4, unique=True)
_POWER = st.tuples(st.just("power"), _IDX, st.booleans())
_OPS = st.one_of(
    _POWER,
    _POWER,  # (twice as likely: an off-on cycle restarts the counters)
    st.tuples(st.just("cap"), _IDX, st.floats(0.0, 400.0)),
    st.tuples(st.just("util"), _IDX, st.floats(0.0, 1.0)),
    st.tuples(st.just("reset"), _IDX, st.none()),
    st.tuples(st.just("scrub"), _IDX, st.none()),
    st.tuples(st.just("step"), st.just([]), st.integers(1, 3)),
    st.tuples(st.just("seu"), st.lists(st.integers(0, 3), min_size=4, max_size=4), st.none()),
    st.tuples(st.just("unc"), st.lists(st.integers(0, 2), min_size=4, max_size=4), st.none()),
    st.tuples(st.just("sel"), st.lists(st.booleans(), min_size=4, max_size=4), st.none()),
    st.tuples(st.just("corrupt"), st.just([]), st.tuples(st.integers(0, 3), st.booleans())),
    st.tuples(st.just("corrupt"), st.just([]), st.tuples(st.integers(0, 3), st.booleans())),
)


@settings(max_examples=600, deadline=None)
@given(ops=st.lists(st.tuples(_OPS, st.booleans()), min_size=1, max_size=30))
@example(  # a power cycle restarts counters the report before had non-zero
    ops=[
        (("power", [0, 1, 2, 3], True), False),
        (("seu", [1, 2, 0, 3], None), True),
        (("power", [0, 3], False), False),
        (("power", [0, 3], True), True),
    ]
)
@example(  # a caught corruption of a running job counts a checksum error
    ops=[
        (("power", [0, 1, 2, 3], True), False),
        (("util", [2], 1.0), True),
        (("corrupt", [], (2, True)), True),
    ]
)
def test_board_reports_match_the_model_after_any_command_upset_or_step(
    ops: list[tuple[tuple[str, object, object], bool]],
) -> None:
    """A report shares what its model says did not change (versions) with the one
    before: after any sequence of commands, upsets, job corruptions and physics steps,
    read at any points, every field of the report is the model's own value, and every
    report read earlier still holds what it held then (a missed version bump fails)."""
    hal = _hal()
    boards = hal.devices["boards"]
    sc = hal.harness["sim"]
    model = sc.boards
    t_ns = 1_000_000_000
    kept: list[tuple[object, dict[str, np.ndarray]]] = []
    for (op, arg, value), read in ops:
        idx = np.asarray(arg, dtype=np.intp)
        if op == "power":
            boards.set_board_power(idx, bool(value))
        elif op == "cap":
            boards.set_power_cap(idx, float(value))  # type: ignore[arg-type]
        elif op == "util":
            boards.set_utilization(idx, float(value))  # type: ignore[arg-type]
        elif op == "reset":
            boards.reset_boards(idx)
        elif op == "scrub":
            boards.scrub_memory(idx)
        elif op == "step":
            t_ns += int(value) * 1_000_000_000  # type: ignore[call-overload]
            hal.step(t_ns)
        else:  # what the physics step does between its own steps: change, then revise
            zeros, none = np.zeros(4, np.int64), np.zeros(4, bool)
            if op == "seu":
                model.apply_radiation(np.asarray(arg, np.int64), zeros, none, none)
            elif op == "unc":
                model.apply_radiation(zeros, np.asarray(arg, np.int64), none, none)
            elif op == "sel":
                model.apply_radiation(None, None, np.asarray(arg, bool), None)
            else:
                board, caught = value  # type: ignore[misc]
                model.corrupt_job(board, caught)
            sc.revision += 1
        if read:
            tel = boards.read_boards()
            truth = model.telemetry()
            for name in _FIELDS:
                np.testing.assert_array_equal(getattr(tel, name), truth[name], err_msg=name)
            kept.append((tel, {n: np.array(getattr(tel, n), copy=True) for n in _FIELDS}))
    for tel, values in kept:
        for name, value in values.items():
            np.testing.assert_array_equal(getattr(tel, name), value, err_msg=name)
