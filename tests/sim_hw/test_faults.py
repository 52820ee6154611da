"""Fault injector: schedule timing, radiation faults, bounded log, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim_hw.faults import FaultInjector, FaultKind, InjectedFault, ScheduledFault
from sim_hw.radiation import RadiationModel, RadiationRates

SCHEDULE = [
    ScheduledFault(25.0, FaultKind.RADIO_OUTAGE, "radio0", {"duration_s": 300.0}),
    ScheduledFault(10.0, FaultKind.SWITCH_OVERCURRENT, "pcdu.sw3"),
    ScheduledFault(10.0, FaultKind.SENSOR_STUCK, "thermal.t7", {"value": 21.5}),
    ScheduledFault(0.0, FaultKind.SEL, 5),
    ScheduledFault(40.0, FaultKind.HEATER_STUCK, "heater2", {"state": "on"}),
]

HOT = RadiationRates(
    seu_per_board_day=5_000.0,
    uncorrectable_fraction=0.01,
    sel_per_board_day=5.0,
    sefi_per_board_day=20.0,
)


def run(seed: int, steps: int = 100, n_boards: int = 32) -> FaultInjector:
    inj = FaultInjector(SCHEDULE, RadiationModel(HOT, np.random.default_rng(seed)))
    for k in range(steps):
        inj.step(k * 10.0, 10.0, n_boards, 1.0 + (k % 7))
    return inj


def test_fault_kinds_are_strings() -> None:
    assert isinstance(FaultKind.SEL, str) and FaultKind("sel") is FaultKind.SEL
    assert {k.value for k in FaultKind} >= {"seu", "sefi", "radio_outage", "heater_stuck"}


def test_scheduled_faults_released_in_their_step_interval() -> None:
    inj = FaultInjector(SCHEDULE)
    got = [inj.step(k * 10.0, 10.0, 4)[0] for k in range(6)]
    # (0, 10]: the t=0 fault (not lost at the first step's start) and both t=10 faults,
    # the latter in the order the schedule gave them.
    assert [(f.t_s, f.kind) for f in got[0]] == [
        (0.0, FaultKind.SEL),
        (10.0, FaultKind.SWITCH_OVERCURRENT),
        (10.0, FaultKind.SENSOR_STUCK),
    ]
    assert got[1] == []  # (10, 20]
    assert [f.kind for f in got[2]] == [FaultKind.RADIO_OUTAGE]  # (20, 30]
    assert [(f.t_s, f.kind) for f in got[3]] == [(40.0, FaultKind.HEATER_STUCK)]  # (30, 40]
    assert got[4] == [] and got[5] == []


def test_fault_exactly_at_step_end_is_in_that_step_not_the_next() -> None:
    inj = FaultInjector([ScheduledFault(40.0, FaultKind.HEATER_STUCK, "h")])
    assert inj.step(20.0, 10.0, 1)[0] == []
    faults, _ = inj.step(30.0, 10.0, 1)
    assert [f.t_s for f in faults] == [40.0]
    assert inj.step(40.0, 10.0, 1)[0] == []
    assert inj.pending == 0


def test_scheduled_fault_carries_target_detail_and_source() -> None:
    inj = FaultInjector(SCHEDULE)
    faults, events = inj.step(20.0, 10.0, 8)
    # Starting late releases everything due by the step's end, at the scheduled times.
    assert [f.t_s for f in faults] == [0.0, 10.0, 10.0, 25.0]
    assert faults[-1] == InjectedFault(
        25.0, FaultKind.RADIO_OUTAGE, "radio0", "schedule", {"duration_s": 300.0}
    )
    assert faults[2].detail == {"value": 21.5}
    assert inj.pending == 1
    # No radiation model: no random faults and empty events for every board.
    assert events.n_boards == 8 and events.total_seu == 0
    assert all(f.source == "schedule" for f in faults)


def test_radiation_faults_match_events() -> None:
    inj = FaultInjector([], RadiationModel(HOT, np.random.default_rng(1)))
    total_random = 0
    for k in range(50):
        faults, ev = inj.step(k * 60.0, 60.0, 64, 2.0)
        assert all(f.source == "random" and f.t_s == k * 60.0 + 60.0 for f in faults)
        sel = sorted(f.target for f in faults if f.kind is FaultKind.SEL)
        sefi = sorted(f.target for f in faults if f.kind is FaultKind.SEFI)
        unc = {f.target: f.detail["count"] for f in faults if f.kind is FaultKind.SEU_UNCORRECTABLE}
        assert sel == np.flatnonzero(ev.sel).tolist()
        assert sefi == np.flatnonzero(ev.sefi).tolist()
        assert unc == {
            int(b): int(ev.seu_uncorrectable[b]) for b in np.flatnonzero(ev.seu_uncorrectable)
        }
        # Corrected upsets are only counted, never individual faults.
        assert not any(f.kind is FaultKind.SEU for f in faults)
        total_random += len(faults)
    assert total_random > 0
    assert inj.injected == total_random == len(inj.log)


def test_same_seed_same_log_and_json_round_trips() -> None:
    a, b, c = run(123), run(123), run(124)
    assert a.log == b.log
    assert a.log_to_json() == b.log_to_json()
    assert a.log_to_json() != c.log_to_json()
    records = json.loads(a.log_to_json())
    assert len(records) == len(a.log) > len(SCHEDULE)
    assert {r["source"] for r in records} == {"schedule", "random"}
    assert records[0] == {
        "t_s": 0.0,
        "kind": "sel",
        "target": 5,
        "source": "schedule",
        "detail": {},
    }
    times = [r["t_s"] for r in records]
    assert times == sorted(times)


def test_log_is_bounded_and_counts_what_it_dropped() -> None:
    many = [ScheduledFault(float(i), FaultKind.SEU, i % 4) for i in range(50)]
    inj = FaultInjector(many, log_limit=20)
    faults, _ = inj.step(0.0, 100.0, 4)
    assert len(faults) == 50
    assert len(inj.log) == 20 and inj.log_dropped == 30 and inj.injected == 50
    assert [f.t_s for f in inj.log] == [float(i) for i in range(30, 50)]  # newest kept


def test_bad_steps_are_rejected() -> None:
    inj = FaultInjector([])
    inj.step(100.0, 10.0, 1)
    with pytest.raises(ValueError):
        inj.step(50.0, 10.0, 1)
    with pytest.raises(ValueError):
        inj.step(110.0, -1.0, 1)
    with pytest.raises(ValueError):
        FaultInjector([], log_limit=0)
