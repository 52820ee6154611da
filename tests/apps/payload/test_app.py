"""Compute payload: queue, scheduling within caps, checkpoint/restart, bad commands."""

import struct
from dataclasses import replace

import numpy as np
import pytest

from flightsw.framework.app import FailureCode
from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness
from tests.apps.conftest import small_node

PAYLOAD = 0x2200


def _submit(h, hours: float = 1.0, prio: int = 1, deadline: int = 0, ckpt: float = 60.0) -> int:  # type: ignore[no-untyped-def]
    return h.send(
        "payload.submit_job",
        {"board_hours": hours, "priority": prio, "deadline_s": deadline, "checkpoint_s": ckpt},
    )


def test_jobs_run_to_completion_and_are_counted() -> None:
    h = small_node(boards=4, radiation_enabled=False)
    for _ in range(6):
        _submit(h, hours=0.01)  # 36 board-seconds each
    h.run(200)
    p = h.exe.app("payload").instance
    assert p.tlm["jobs_done"] == 6 and p.tlm["jobs_queued"] == 0
    assert p.tlm["goodput"] == 1.0 and p.rollbacks == 0


def test_priority_and_queue_order() -> None:
    h = small_node(boards=1, radiation_enabled=False)
    _submit(h, hours=0.01, prio=0)
    _submit(h, hours=0.01, prio=5)
    h.run(3)
    p = h.exe.app("payload").instance
    running = p.job(int(p.board_job[0]))
    assert running.priority == 5


def test_bulk_submission_all_or_nothing() -> None:
    h = small_node(boards=4, radiation_enabled=False)
    jobs = b"".join(struct.pack(">fBIf", 0.01, 1, 0, 60.0) for _ in range(5))
    h.send_and_assert_command("payload.submit_jobs", app_data=struct.pack(">H", 5) + jobs)
    p = h.exe.app("payload").instance
    assert len(p.jobs) == 5
    bad = struct.pack(">H", 2) + jobs[:13] + struct.pack(">fBIf", -1.0, 1, 0, 60.0)
    fid = struct.pack(">H", PAYLOAD + 5)
    assert h.failure_code(h.send_pus(8, 1, fid + bad)) == FailureCode.ARG_OUT_OF_RANGE
    assert h.failure_code(h.send_pus(8, 1, fid + b"\\x00\\x03")) == FailureCode.BAD_LENGTH
    assert len(p.jobs) == 5  # nothing added by the bad ones


def test_a_failed_board_rolls_its_job_back_to_the_checkpoint() -> None:
    h = small_node(boards=2, radiation_enabled=False)
    _submit(h, hours=1.0, ckpt=30.0)
    h.run(100)
    p = h.exe.app("payload").instance
    board = int(np.flatnonzero(p.board_job >= 0)[0])
    job = p.job(int(p.board_job[board]))
    assert job.checkpointed > 0 and job.progress > job.checkpointed
    h.hal.devices["boards"].set_board_power(np.array([board]), False)  # the board dies
    h.run(3)
    assert p.rollbacks == 1 and p.lost_s <= 30.0 + 1.0
    h.run(30)
    job = p.job(job.job_id)
    assert job.board >= 0 and job.progress > job.checkpointed  # running again elsewhere


def test_deadline_miss_fails_the_job() -> None:
    h = small_node(boards=1, radiation_enabled=False)
    _submit(h, hours=1.0, prio=3)  # higher priority: takes the only board
    _submit(h, hours=0.01, prio=1, deadline=5)  # waits, and misses its deadline
    h.run(10)
    p = h.exe.app("payload").instance
    assert p.tlm["jobs_failed"] == 1


def test_bad_payload_commands() -> None:
    h = small_node(boards=2, radiation_enabled=False)
    assert h.failure_code(h.send("payload.cancel_job", {"job": 77})) == FailureCode.UNKNOWN_ID
    assert h.failure_code(h.send("payload.query_job", {"job": 0})) == FailureCode.UNKNOWN_ID
    fid = struct.pack(">H", PAYLOAD + 1)
    rid = h.send_pus(8, 1, fid + struct.pack(">fBIf", 0.0, 1, 0, 60.0))  # zero work
    assert h.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
    rid = _submit(h, hours=0.01)
    h.await_completion(rid)
    h.run(60)
    assert h.failure_code(h.send("payload.cancel_job", {"job": 1})) == FailureCode.INVALID_STATE
    assert h.exe.app("payload").instance.tlm["jobs_done"] == 1


def test_a_result_failing_its_checksum_is_redone_from_the_checkpoint() -> None:
    from sim_hw.boards import BoardParams

    h = small_node(boards=2, radiation_enabled=False)
    sc = h.hal.harness["sim"]
    sc.boards.params = BoardParams(silent_prob_per_seu=1.0, checksum_coverage=1.0)
    _submit(h, hours=1.0, ckpt=30.0)
    h.run(50)
    p = h.exe.app("payload").instance
    board = int(np.flatnonzero(p.board_job >= 0)[0])
    n = sc.boards.count
    seu = np.zeros(n, dtype=np.int64)
    seu[board] = 3
    sc.boards.apply_radiation(seu, np.zeros(n, int), np.zeros(n, bool), np.zeros(n, bool))
    h.run(3)
    assert p.integrity_reruns == 1 and p.rollbacks == 1
    assert p.tlm["integrity_reruns"] == 1
    assert sc.boards.silent_escapes.sum() == 0  # everything was caught


# --- within a low power budget (issue 13: boards toggled 32 <-> 0 every second) ----------


def _low_budget_node(array_m2: float, seed: int, boards: int = 64) -> SilHarness:
    """A node whose payload budget is only its small array's output: no battery share,
    no reserves, no eclipse (equinox), no radiation."""
    m = load_mission(seed=seed)
    m.orbit = {**m.orbit, "day_of_year": 80.0}
    craft = {"boards": boards, "radiation_enabled": False, "array_area_m2": array_m2}
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), **craft}}
    for spec in m.apps:
        if spec.name == "power":
            spec.params = {"max_discharge_w": 0.0, "charge_reserve_w": 0.0, "margin_w": 0.0}
    return SilHarness(m)


@pytest.mark.parametrize(("array_m2", "seed"), [(5.0, 1), (9.0, 2), (16.0, 3)])
def test_a_low_budget_is_kept_without_flapping_and_a_hang_is_reported(
    array_m2: float, seed: int
) -> None:
    h = _low_budget_node(array_m2, seed)
    jobs = b"".join(struct.pack(">fBIf", 5.0, 1, 0, 600.0) for _ in range(48))
    h.send_and_assert_command("payload.submit_jobs", app_data=struct.pack(">H", 48) + jobs)
    sc = h.hal.harness["sim"]
    p = h.exe.app("payload").instance
    power = h.exe.app("power").instance
    h.run(20)  # settle: the first budget, boards brought up
    budget = float(power.tlm["payload_budget_w"])
    assert 0.0 < budget < 16 * 350.0  # the premise: room for a few boards only
    powered_before = sc.boards.powered.copy()
    switched_off = np.zeros(sc.boards.count, dtype=int)
    for _ in range(60):
        was = sc.boards.powered.copy()
        h.run(1)
        switched_off += was & ~sc.boards.powered
        # Truth: the boards draw what the budget allows (a board's idle share of slack).
        assert sc.boards.power_w.sum() <= float(power.tlm["payload_budget_w"]) + 40.0
    assert switched_off.sum() == 0  # nothing was shed under a steady budget...
    assert (sc.boards.powered == powered_before).all()  # ...nor anything powered on
    running = np.flatnonzero(p.board_job >= 0)
    assert running.size >= 1 and p.tlm["jobs_queued"] > 0  # it works, as much as it may
    # A hang on a busy board stays until FDIR sees it, and FDIR reports it.
    board = int(running[0])
    n = sc.boards.count
    sefi = np.zeros(n, dtype=bool)
    sefi[board] = True
    zeros = np.zeros(n, dtype=np.int64)
    sc.boards.apply_radiation(zeros, zeros, np.zeros(n, dtype=bool), sefi)
    h.run(15)
    assert board in _fdir_events(h, "BOARD_HANG")
    assert not sc.boards.hung[board]
    assert p.rollbacks >= 1


def _fdir_events(h: SilHarness, name: str) -> list[int]:
    fdir = h.exe.app("fdir").instance
    ev = {e.name: e for e in type(fdir).EVENTS}[name]
    eid = (h.exe.app("fdir").spec.id_base + ev.local_id).to_bytes(2, "big")
    return [
        int.from_bytes(pkt.app_data[2:4], "big")
        for pkt in h.tm
        if pkt.service == 5 and pkt.app_data[:2] == eid
    ]


def test_the_draw_the_payload_announces_is_the_draw_the_boards_then_have() -> None:
    """The power app budgets on what the payload says it will draw after its commands;
    checked against the simulated boards right after each payload step, through a ramp,
    a budget cut (shedding) and a recovery."""
    from flightsw.apps.shared.messages import PAYLOAD_STATUS

    h = _low_budget_node(60.0, 4)
    jobs = b"".join(struct.pack(">fBIf", 5.0, 1, 0, 600.0) for _ in range(64))
    h.send_and_assert_command("payload.submit_jobs", app_data=struct.pack(">H", 64) + jobs)
    pipe = h.exe.bus.create_pipe("test:payload_status", 8)
    h.exe.bus.subscribe(PAYLOAD_STATUS, pipe)
    sc = h.hal.harness["sim"]
    power = h.exe.app("power").instance
    params = h.exe.params
    checked = 0
    for second in range(150):
        if second == 50:  # the budget falls to a third: boards are shed
            params.set("power", "margin_w", 0.67 * float(power.tlm["payload_budget_w"]))
        if second == 100:
            params.set("power", "margin_w", 0.0)
        for _ in range(10):
            h.exe.run_minor_frame()
            for msg in pipe.drain():
                truth = float(sc.boards.power_w.sum())
                assert abs(msg.payload.power_w - truth) < 1.0, (second, msg.payload, truth)
                checked += 1
    assert checked >= 140
    assert h.exe.app("payload").instance.preemptions > 0


def test_readings_the_device_did_not_give_add_no_work_and_no_power() -> None:
    """A HAL reports a missing sample as NaN: work and power ride through it, and the
    board's work is counted from its last good value when it reads again."""
    h = small_node(boards=4, radiation_enabled=False)
    for _ in range(4):
        _submit(h, hours=1.0, ckpt=600.0)
    h.run(30)
    p = h.exe.app("payload").instance
    boards = h.hal.devices["boards"]
    real = boards.read_boards
    gaps = [0]

    def patchy():  # type: ignore[no-untyped-def]
        tel = real()
        gaps[0] += 1
        if gaps[0] % 3:
            return tel
        work, power = tel.work_done.copy(), tel.power_w.copy()
        work[1] = power[2] = np.nan
        return replace(tel, work_done=work, power_w=power)

    boards.read_boards = patchy
    h.run(60)
    boards.read_boards = real
    h.run(5)
    sc = h.hal.harness["sim"]
    assert np.isfinite(p.totals.work_s) and np.isfinite(p.tlm["payload_power_w"])
    assert abs(p.totals.work_s - float(sc.boards.work_done.sum())) < 4 * 2.0  # within a step each
    assert p.tlm["goodput"] == 1.0 and p.rollbacks == 0
