"""The FDIR defects of issue 13, each pinned by a test that failed before its fix.

Each builds a small busy node, injects the fault the way the simulated world does, and
looks at the world's truth and the TM, not at FDIR's own counters.
"""

from __future__ import annotations

import numpy as np

from fdir.app import FdirApp
from flightsw.sil.harness import SilHarness
from hal.sim.memory import SimMemory
from sim_hw.faults import FaultKind, ScheduledFault
from tests.apps.conftest import small_node


def _busy(boards: int, faults: list[ScheduledFault], jobs: int | None = None) -> SilHarness:
    h = small_node(boards=boards, radiation_enabled=False)
    sc = h.hal.harness["sim"]
    sc.faults.extend(faults)
    n = boards if jobs is None else jobs
    body = b"".join(
        np.array([5.0], ">f4").tobytes() + b"\x01" + b"\0\0\0\0" + np.array([60.0], ">f4").tobytes()
        for _ in range(n)
    )
    h.send("payload.submit_jobs", app_data=n.to_bytes(2, "big") + body)
    h.run(5)
    return h


def _events(h: SilHarness, name: str) -> list[dict[str, int]]:
    """Arguments of the named FDIR event, decoded from the TM."""
    ev = {e.name: e for e in FdirApp.EVENTS}[name]
    eid = (0x2400 + ev.local_id).to_bytes(2, "big")
    st = ev.arg_struct()
    return [
        dict(zip([a.name for a in ev.args], st.unpack(p.app_data[2:]), strict=True))
        for p in h.tm
        if p.service == 5 and p.app_data[:2] == eid
    ]


def _frames_until(h: SilHarness, t_s: float) -> None:
    while h.exe.now_ns < round(t_s * 1e9):
        h.exe.run_minor_frame()


def test_a_burst_of_latchups_and_memory_errors_is_reported_whole() -> None:
    """Was: idx[:16] / hit[:8] dropped reports past the 16th latch-up, the 8th error."""
    sel = [ScheduledFault(20.0 + b / 400, FaultKind.SEL, b) for b in range(20)]  # one frame
    unc = [ScheduledFault(20.5 + b / 400, FaultKind.SEU_UNCORRECTABLE, b) for b in range(20, 32)]
    h = _busy(40, sel + unc)
    h.run(30)
    assert sorted(e["board"] for e in _events(h, "BOARD_LATCHUP")) == list(range(20))
    assert sorted(e["board"] for e in _events(h, "UNCORRECTABLE_MEMORY")) == list(range(20, 32))
    assert sorted(e["board"] for e in _events(h, "BOARD_RECOVERED")) == list(range(20))
    assert not _events(h, "EVENTS_LOST")


def test_a_latchup_on_a_hung_board_is_cut_within_a_frame() -> None:
    """Was: a hung board's latched draw stayed below a working board's, so it was not seen."""
    h = _busy(8, [ScheduledFault(20.0, FaultKind.SEFI, 3), ScheduledFault(21.55, FaultKind.SEL, 3)])
    sc = h.hal.harness["sim"]
    _frames_until(h, 21.6)
    assert sc.boards.hung[3] and sc.boards.powered[3]  # hung, not yet noticed by FDIR
    h.exe.run_minor_frame()  # the frame at 21.6 s: the latch-up strikes, is seen and cut
    h.exe.run_minor_frame()  # (the world notes at its next step what was done in a frame)
    rec = list(sc.fault_log)[1]
    assert rec["state"] == "hung" and rec["cleared_by"] == "power_off"
    assert rec["cleared_s"] - 21.55 <= 0.1 and not sc.boards.powered[3]
    h.run(20)
    assert not sc.boards.damaged.any() and sc.boards.powered[3]


def test_a_latchup_during_readmission_is_cut_within_a_frame() -> None:
    """Was: the latch-up monitor watched only healthy boards (1.9 s in recovery)."""
    h = _busy(8, [ScheduledFault(20.0, FaultKind.SEL, 2), ScheduledFault(25.55, FaultKind.SEL, 2)])
    sc = h.hal.harness["sim"]
    fdir = h.exe.app("fdir").instance
    _frames_until(h, 25.6)
    assert fdir.ladder.state[2] == 2 and sc.boards.powered[2]  # being re-admitted
    h.exe.run_minor_frame()  # the second latch-up strikes, is seen and cut
    h.exe.run_minor_frame()
    rec = list(sc.fault_log)[1]
    assert rec["cleared_by"] == "power_off" and rec["cleared_s"] - 25.55 <= 0.1
    assert [e["board"] for e in _events(h, "BOARD_LATCHUP")] == [2, 2]


def test_one_stuck_hot_battery_thermistor_neither_safe_mode_nor_used() -> None:
    """Was: the battery temperature was a plain mean and safe mode fired on one sample."""
    h = _busy(8, [ScheduledFault(20.0, FaultKind.SENSOR_STUCK, "battery_a", {"value": 120.0})])
    h.run(60)
    sc = h.hal.harness["sim"]
    fdir = h.exe.app("fdir").instance
    thermal = h.exe.app("thermal").instance
    truth = float(sc.thermal.temperatures_c[sc.thermal.index("battery")])
    assert not fdir.safe and not _events(h, "SAFE_MODE_ENTERED")
    assert abs(fdir.battery_temp_c - truth) < 1.0
    assert abs(thermal.tlm["zone0_c"] - truth) < 1.0
    assert [e["sensor"] for e in _events(h, "SENSOR_FAILED")] == [0]
    zone_alarm = (0x2100 + 1).to_bytes(2, "big")
    assert not [p for p in h.tm if p.service == 5 and p.app_data[:2] == zone_alarm]


def test_a_tripped_payload_switch_is_a_supply_fault_retried_then_isolated() -> None:
    """Was: a trip only raised an event; 32 boards stayed dark until the ground acted."""
    trip = ScheduledFault(
        20.0, FaultKind.SWITCH_OVERCURRENT, "payload_0", {"extra_w": 1e6, "duration_s": 0.5}
    )
    short = ScheduledFault(
        60.0, FaultKind.SWITCH_OVERCURRENT, "payload_1", {"extra_w": 1e6, "duration_s": 1e9}
    )
    h = small_node(boards=64, radiation_enabled=False, boards_per_switch=32)
    h.hal.harness["sim"].faults.extend([trip, short])
    for _ in range(3):
        h.send(
            "payload.submit_job",
            {"board_hours": 5, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
        )
    h.run(40)
    sc = h.hal.harness["sim"]
    assert [e["switch"] for e in _events(h, "SUPPLY_FAULT")] == [4]
    assert sc.pcdu.is_conducting("payload_0")  # retried: the transient had gone
    assert not _events(h, "BOARD_HANG") and not _events(h, "BOARD_LATCHUP")
    h.run(120)
    assert not sc.pcdu.is_conducting("payload_1") and sc.pcdu.trips("payload_1") == 3
    payload = h.exe.app("payload").instance
    assert payload.unavailable[32:].all() and not payload.unavailable[:32].any()
    health = h.exe.app("fdir").instance.health.of(1)
    assert health[5] == 1 and health[4] == 0  # payload_1 faulty, payload_0 healthy


def test_an_upset_limit_is_repaired_before_the_next_latchup() -> None:
    """Was: FDIR's limits were outside the table's CRC: sel_excess_w 30 -> 7680 W hid the
    next latch-up and the board burnt."""
    upset = ScheduledFault(
        20.0, FaultKind.MEMORY_UPSET, "params", {"word": "fdir.sel_excess_w", "bit": 1}
    )
    h = _busy(8, [upset, ScheduledFault(20.5, FaultKind.SEL, 4)])
    h.run(30)
    sc = h.hal.harness["sim"]
    rec = sc.fault_log[0]
    assert rec["effective"] and rec["repaired_s"] - 20.0 < 0.11
    assert h.exe.params.get("fdir", "sel_excess_w") == 30.0
    assert not sc.boards.damaged.any() and _events(h, "PARAM_REPAIRED")
    cut = sc.fault_log[1]
    assert cut["cleared_by"] == "power_off" and cut["cleared_s"] - 20.5 <= 0.1


def test_upsets_in_the_table_and_the_voting_store_are_repaired() -> None:
    h = _busy(
        8,
        [
            ScheduledFault(
                10.0, FaultKind.MEMORY_UPSET, "fdir.table", {"word": "sel_n", "bit": 60}
            ),
            ScheduledFault(12.0, FaultKind.MEMORY_UPSET, "nv", {"word": "fdir_state.1", "bit": 77}),
        ],
    )
    h.run(20)
    table, nv = list(h.hal.harness["sim"].fault_log)[:2]
    assert table["repaired_s"] - 10.0 < 0.11 and _events(h, "TABLE_REPAIRED")
    assert nv["repaired_s"] - 12.0 <= 10.0 and _events(h, "STATE_REPAIRED")
    assert isinstance(h.hal.devices["memory"], SimMemory)


def test_health_is_commanded_and_announced() -> None:
    h = _busy(8, [ScheduledFault(30.0, FaultKind.SEL, 1)])
    fdir = h.exe.app("fdir").instance
    sc = h.hal.harness["sim"]
    # external control: FDIR leaves board 1 alone (the ground drives it)
    h.send_and_assert_command("fdir.set_health", {"kind": 0, "unit": 1, "health": 4})
    # permanently faulty: out of service, and a plain readmit is refused
    h.send_and_assert_command("fdir.set_health", {"kind": 0, "unit": 6, "health": 3})
    h.run(2)
    assert not sc.boards.powered[6]
    assert h.failure_code(h.send("fdir.readmit_board", {"board": 6})) == 14
    h.run(30)
    assert sc.boards.latched[1] or sc.boards.damaged[1]  # not acted on: external control
    assert not _events(h, "BOARD_LATCHUP")
    h.send_and_assert_command("fdir.set_health", {"kind": 0, "unit": 6, "health": 0})
    h.send_and_assert_command("fdir.set_health", {"kind": 2, "unit": 3, "health": 1})
    h.run(2)
    changes = {(e["kind"], e["unit"], e["health"]) for e in _events(h, "HEALTH_CHANGED")}
    assert {(0, 1, 4), (0, 6, 3), (0, 6, 0), (2, 3, 1)} <= changes
    assert fdir.health.of(0)[6] == 0 and 3 in fdir.sensor_fdir.failed


def test_fault_counters_isolate_a_board_that_keeps_hanging() -> None:
    hangs = [ScheduledFault(t, FaultKind.SEFI, 5) for t in (10.0, 30.0, 50.0)]
    h = _busy(8, hangs)
    h.exe.params.set("fdir", "hang_isolate_n", 3)
    h.run(60)
    assert [e["board"] for e in _events(h, "BOARD_HANG")] == [5, 5, 5]
    assert [e["board"] for e in _events(h, "BOARD_ISOLATED")] == [5]
    assert not h.hal.harness["sim"].boards.powered[5]


def test_table_driven_monitor_reports_then_acts_as_the_ground_says() -> None:
    from flightsw.runtime.mission import load_mission

    m = load_mission()
    for spec in m.apps:
        if spec.name == "fdir":
            spec.options = {
                **spec.options,
                "monitors": [{"id": 7, "point": "power.soc", "low": 0.95, "persist": 2}],
            }
        if spec.name == "payload":
            spec.options = {}
    m.hal = {**m.hal, "spacecraft": {"boards": 8, "radiation_enabled": False}}
    h = SilHarness(m)
    h.run(10)
    fdir = h.exe.app("fdir").instance
    assert [e["monitor"] for e in _events(h, "MONITOR_VIOLATION")] == [7] and not fdir.safe
    h.send_and_assert_command(
        "fdir.set_monitor", {"monitor": 7, "mode": 2, "action": 1, "low": 0.95, "high": 1.0}
    )
    h.run(5)
    assert fdir.safe and [e["action"] for e in _events(h, "MONITOR_ACTION")] == [1]
    assert (
        h.failure_code(
            h.send("fdir.set_monitor", {"monitor": 9, "mode": 1, "action": 0, "low": 0, "high": 1})
        )
        == 16
    )
