"""The world's record of faults: exact strike times, targets by state, what became of each."""

from __future__ import annotations

import numpy as np

from hal.sim.memory import SimMemory
from sim_hw.faults import FaultKind, ScheduledFault
from sim_hw.spacecraft import SENSORS, Spacecraft, SpacecraftConfig


def _craft(*faults: ScheduledFault, boards: int = 8) -> Spacecraft:
    sc = Spacecraft(SpacecraftConfig(boards=boards, radiation_enabled=False), seed=3)
    sc.faults.extend(list(faults))
    idx = np.arange(boards)
    sc.boards.set_power(idx, True)
    sc.boards.set_utilization(idx[: boards // 2], 1.0)  # half compute, half idle
    return sc


def _frames(sc: Spacecraft, until_s: float, start_s: float = 0.1) -> None:
    t = start_s
    while t <= until_s + 1e-9:
        sc.advance_to(round(t, 1))
        t += 0.1


def test_a_scheduled_latchup_strikes_at_the_next_frame_not_the_next_physics_step() -> None:
    sc = _craft(ScheduledFault(5.33, FaultKind.SEL, 1))
    _frames(sc, 5.3)
    assert not sc.boards.latched[1]
    rev = sc.revision
    sc.advance_to(5.4)  # physics is still at t=5 s; the latch-up is there now
    assert sc.t_s == 5.0 and sc.boards.latched[1] and sc.revision > rev
    assert sc.boards.power_w[1] > sc.boards.power_w[0] + 50.0
    # cut by a command in the frame at 5.4 s: the record says when and how
    sc.boards.set_power(np.array([1]), False)
    sc.advance_to(5.5)
    rec = sc.fault_log[0]
    assert rec["state"] == "working" and rec["effective"]
    assert rec["cleared_s"] == 5.4 and rec["cleared_by"] == "power_off"
    sc.boards.set_power(np.array([1]), True)
    _frames(sc, 7.0, 5.6)
    assert rec["healthy_s"] == 5.5 and rec["working_s"] == 5.5


def test_an_uncut_latchup_burns_the_board_ten_seconds_after_its_own_time() -> None:
    sc = _craft(ScheduledFault(2.05, FaultKind.SEL, 0))
    _frames(sc, 12.0)
    assert not sc.boards.damaged[0]
    _frames(sc, 13.5, 12.1)
    rec = sc.fault_log[0]
    assert sc.boards.damaged[0] and rec["cleared_by"] == "damage" and rec["damaged"]


def test_targets_by_state_and_by_label_and_faults_that_cannot_act() -> None:
    sc = _craft(
        ScheduledFault(1.0, FaultKind.SEFI, "@busy", label="h"),
        ScheduledFault(1.5, FaultKind.SEL, "@label:h"),
        ScheduledFault(2.0, FaultKind.SEU_UNCORRECTABLE, "@idle"),
        ScheduledFault(2.5, FaultKind.SEL, 99),
        ScheduledFault(3.0, FaultKind.SEFI, "@label:nobody"),
    )
    sc.boards.set_power(np.array([7]), False)
    _frames(sc, 3.5)
    hang, sel, unc, bad, nobody = sc.fault_log
    assert hang["target"] < 4 and hang["state"] == "working"
    assert sel["target"] == hang["target"] and sel["state"] == "hung"
    assert 4 <= unc["target"] < 7 and unc["job_hit"] is False
    assert not bad["effective"] and bad["reason"] == "no such board"
    assert not nobody["effective"] and "no unit matches" in nobody["reason"]


def test_unhit_targets_leave_out_boards_struck_before() -> None:
    faults = [ScheduledFault(1.0 + k / 10, FaultKind.SEU, "@powered_unhit") for k in range(8)]
    sc = _craft(*faults)
    _frames(sc, 2.0)
    assert sorted(r["target"] for r in sc.fault_log) == list(range(8))


def test_switch_trip_and_restore_sensor_drift_and_stuck() -> None:
    sc = _craft(
        ScheduledFault(1.0, FaultKind.SWITCH_OVERCURRENT, "payload_0", {"duration_s": 2.5}),
        ScheduledFault(1.0, FaultKind.SENSOR_DRIFT, "avionics_a", {"rate_c_s": 2.0}),
        ScheduledFault(1.0, FaultKind.SENSOR_STUCK, "battery_b", {"value": 99.0}),
    )
    _frames(sc, 2.5)
    trip = sc.fault_log[0]
    assert trip["trips"] == 1 and trip["tripped_s"] == 2.0 and not sc.boards.powered.any()
    sc.pcdu.reset_trip("payload_0")
    sc.pcdu.set("payload_0", True)  # the overcurrent still lasts: trips again
    _frames(sc, 4.0, 2.6)
    assert trip["trips"] == 2 and trip["restored_s"] is None
    sc.pcdu.reset_trip("payload_0")
    sc.pcdu.set("payload_0", True)
    _frames(sc, 5.0, 4.1)
    assert trip["trips"] == 2 and trip["restored_s"] == 4.0
    values = dict(zip([n for n, _ in SENSORS], sc.sensor_values, strict=True))
    assert values["battery_b"] == 99.0
    assert values["avionics_a"] - values["avionics_b"] > 6.0


def test_memory_upsets_flip_one_bit_and_the_repair_is_seen() -> None:
    class Words:
        def __init__(self) -> None:
            self.data = {"a": b"\x00\x00", "b": b"\xff"}

        def words(self) -> tuple[str, ...]:
            return tuple(self.data)

        def peek(self, word: str) -> bytes:
            return self.data[word]

        def poke(self, word: str, data: bytes) -> None:
            self.data[word] = data

    sc = _craft(
        ScheduledFault(1.0, FaultKind.MEMORY_UPSET, "ram", {"word": "a", "bit": 9}),
        ScheduledFault(1.0, FaultKind.MEMORY_UPSET, "rom"),
    )
    mem = SimMemory(sc, np.random.default_rng(1))
    region = Words()
    mem.register("ram", region)
    sc.advance_to(1.0)
    mem.apply()
    assert region.data["a"] == b"\x00\x40"
    up, missing = sc.fault_log
    assert up["word"] == "a" and up["bit"] == 9 and up.get("repaired_s") is None
    assert not missing["effective"] and missing["reason"] == "no such memory region"
    region.data["a"] = b"\x00\x00"  # the flight software repairs it in this frame
    mem.observe(1.0)
    assert up["repaired_s"] == 1.0
