"""Utilization from the simulated boards' truth, not from what the payload believes."""

import numpy as np

from flightsw.sil.sim_report import UtilizationMeter
from tests.apps.conftest import small_node


def _node_with_jobs(boards: int, jobs: int):  # type: ignore[no-untyped-def]
    h = small_node(boards=boards, radiation_enabled=False)
    for _ in range(jobs):
        h.send(
            "payload.submit_job",
            {"board_hours": 5.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 600.0},
        )
    return h


def _meter(h, isolated=None):  # type: ignore[no-untyped-def]
    sc = h.hal.harness["sim"]
    p = h.exe.app("payload").instance

    def view():  # type: ignore[no-untyped-def]
        t = p.tlm
        return (
            t["busy_board_hours"],
            t["available_board_hours"],
            t["work_board_hours"],
            t["boards_busy"],
        )

    return UtilizationMeter(sc, 100.0, isolated or (lambda: None), view)


def _run(h, meter, seconds: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(seconds * 10):
        h.exe.run_minor_frame()
        meter.update()


def test_busy_and_available_board_time_and_work_per_orbit() -> None:
    h = _node_with_jobs(8, 6)
    out = np.zeros(8, dtype=bool)
    out[7] = True  # FDIR took one board out: not available
    meter = _meter(h, lambda: out)
    _run(h, meter, 210)  # a bit more than two "orbits" of 100 s
    s = meter.summary()
    assert 6 / 7 - 0.06 <= s["utilization"] <= 6 / 7
    assert len(s["work_board_hours_per_orbit"]) == 3
    # Six boards at up to full power for 100 s each orbit.
    assert 0.8 * 6 * 100 / 3600 <= s["work_board_hours_per_orbit"][1] <= 6 * 100 / 3600 + 1e-3
    view = s["payload_view"]
    assert abs(view["work_board_hours"] - s["work_board_hours"]) < 1e-3
    assert view["available_board_hours"] > s["available_board_hours"]  # it counts board 7


def test_boards_the_payload_believes_busy_but_that_do_no_work_are_not_busy() -> None:
    h = _node_with_jobs(4, 4)
    meter = _meter(h)
    _run(h, meter, 30)
    sc = h.hal.harness["sim"]
    # Behind the payload's back the boards are capped at idle: they draw, beat, and do
    # nothing. The payload keeps counting them busy; the truth does not.
    sc.boards.set_power_cap(np.arange(4), 40.0)
    before = meter.summary()
    _run(h, meter, 120)
    after = meter.summary()
    assert after["busy_board_hours"] - before["busy_board_hours"] < 0.002
    view_gain = (
        after["payload_view"]["busy_board_hours"] - before["payload_view"]["busy_board_hours"]
    )
    assert view_gain > 4 * 120 / 3600 - 0.01
    assert after["utilization"] < 0.25 < 0.95 < after["payload_view"]["utilization"]
