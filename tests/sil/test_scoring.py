"""The scorer can fail: each check, fed a run where that behaviour was broken, says no.

One real SIL run (latch-up, hang, memory error and a caught corruption on computing
boards) passes; then copies of its record are broken one way each, the way a defective
FDIR or payload would break them, and the matching check must fail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flightsw.sil.scenario import RunRecord, Scenario, record_scenario
from flightsw.sil.scoring import score

SCENARIO = """
[scenario]
name = "scoring"
duration_s = 200.0
boards = 16
busy_boards = 16

[[faults]]
t_s = [20.0, 40.0]
kind = "sel"
target = "@busy"

[[faults]]
t_s = [50.0, 70.0]
kind = "sefi"
target = "@busy"

[[faults]]
t_s = [80.0, 100.0]
kind = "seu_uncorrectable"
target = "@busy"

[[faults]]
t_s = [110.0, 130.0]
kind = "silent_corruption"
target = "@busy"
detail = { caught = true }

[expect]
effective = ["sel", "sefi", "seu_uncorrectable", "silent_corruption"]
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, RunRecord]:
    path = tmp_path_factory.mktemp("scoring") / "scoring.toml"
    path.write_text(SCENARIO)
    return record_scenario(str(path), seed=2)


def _fault(rec: RunRecord, kind: str) -> dict[str, Any]:
    return next(r for r in rec.summary["truth"]["fault_log"] if r["kind"] == kind)


def _drop(rec: RunRecord, name: str, **match: Any) -> None:
    before = len(rec.events)
    rec.events = [
        e
        for e in rec.events
        if not (e[1] == name and all(e[2].get(k) == v for k, v in match.items()))
    ]
    assert len(rec.events) < before, f"no {name} {match} to drop"


def test_the_unbroken_run_passes(base: tuple[Scenario, RunRecord]) -> None:
    sc, rec = base
    r = score(sc, 2, rec)
    assert r["passed"], (r["checks"], r["failures"], r["false_alarm_events"])
    for kind in ("sel", "sefi", "seu_uncorrectable", "silent_corruption"):
        assert r["kinds"][kind]["detected"] == r["kinds"][kind]["recovered"] == 1, kind


def _cut_late(rec: RunRecord) -> None:
    r = _fault(rec, "sel")
    r["cleared_s"] = r["t_s"] + 0.3  # cut three frames late


def _latchup_unreported(rec: RunRecord) -> None:
    _drop(rec, "fdir.BOARD_LATCHUP")


def _never_back(rec: RunRecord) -> None:
    _drop(rec, "fdir.BOARD_RECOVERED", board=_fault(rec, "sefi")["target"])


def _back_but_not_healthy(rec: RunRecord) -> None:
    r = _fault(rec, "sel")
    r["healthy_s"] = r["working_s"] = None  # announced back, the world says otherwise


def _back_too_late(rec: RunRecord) -> None:
    r = _fault(rec, "sefi")
    r["healthy_s"] = r["t_s"] + 31.0


def _job_not_rolled_back(rec: RunRecord) -> None:
    _drop(rec, "payload.JOB_ROLLED_BACK", board=_fault(rec, "seu_uncorrectable")["target"])


def _corruption_missed(rec: RunRecord) -> None:
    _drop(rec, "payload.JOB_ROLLED_BACK", board=_fault(rec, "silent_corruption")["target"])


def _false_hang(rec: RunRecord) -> None:
    rec.events.append((150.0, "fdir.BOARD_HANG", {"board": 0}))


def _false_zone_alarm(rec: RunRecord) -> None:
    rec.events.append((150.0, "thermal.ZONE_LIMIT", {"zone": 0, "temp_c": 99.0}))


def _false_safe_mode(rec: RunRecord) -> None:
    rec.events.append((150.0, "fdir.SAFE_MODE_ENTERED", {"soc": 0.5}))


def _unexplained_rollback(rec: RunRecord) -> None:
    rec.events.append((150.0, "payload.JOB_ROLLED_BACK", {"job": 1, "board": 0, "lost_s": 1.0}))


def _board_burnt(rec: RunRecord) -> None:
    rec.summary["truth"]["boards_damaged"] = 1


def _job_late(rec: RunRecord) -> None:
    done = [i for i, e in enumerate(rec.events) if e[1] == "payload.JOB_DONE"]
    t, name, args = rec.events[done[0]]
    rec.events[done[0]] = (t + 500.0, name, args)


def _job_lost(rec: RunRecord) -> None:
    done = [i for i, e in enumerate(rec.events) if e[1] == "payload.JOB_DONE"]
    del rec.events[done[-1]]


def _submission_rejected(rec: RunRecord) -> None:
    t, req, _n = rec.tcs[0]
    rec.verification.append((t, 2, req, 7))


def _rework(rec: RunRecord) -> None:
    rec.summary["truth"]["work_done"] += 500.0  # rolled back further than a checkpoint


def _silent_escape(rec: RunRecord) -> None:
    r = _fault(rec, "silent_corruption")
    r["caught"] = False


def _unhandled_kind(rec: RunRecord) -> None:
    rec.summary["truth"]["fault_log"].append(
        {
            "t_s": 150.0,
            "kind": "heater_stuck",
            "target": "battery",
            "source": "schedule",
            "detail": {},
            "effective": True,
            "reason": "",
        }
    )


def _fault_log_cut(rec: RunRecord) -> None:
    rec.summary["truth"]["fault_log_dropped"] = 3


def _tm_lost(rec: RunRecord) -> None:
    rec.summary["tm_dropped"] = 1


def _isolated(rec: RunRecord) -> None:
    rec.events.append((150.0, "fdir.BOARD_ISOLATED", {"board": _fault(rec, "sel")["target"]}))


def _hang_cut_silently(rec: RunRecord) -> None:
    r = _fault(rec, "sefi")
    r.update(cleared_by="power_off", cleared_s=r["t_s"] + 3.0)  # after FDIR's timeout
    _drop(rec, "fdir.BOARD_HANG")


def _device_error_at_start(rec: RunRecord) -> None:
    """A device that did not answer FDIR at the start: nothing injected explains it."""
    rec.events.append((rec.start_s + 0.2, "fdir.DEVICE_ERROR", {"count": 1}))


def _injection_missed(rec: RunRecord) -> None:
    r = _fault(rec, "sefi")
    r["effective"], r["reason"] = False, "board unpowered"


BREAKAGES: list[tuple[Callable[[RunRecord], None], str]] = [
    (_cut_late, "latchups_cut_within_a_frame"),
    (_latchup_unreported, "all_detected"),
    (_never_back, "all_recovered"),
    (_back_but_not_healthy, "all_recovered"),
    (_back_too_late, "all_recovered"),
    (_job_not_rolled_back, "all_recovered"),
    (_corruption_missed, "no_lost_work"),
    (_false_hang, "no_false_alarms"),
    (_false_zone_alarm, "no_false_alarms"),
    (_false_safe_mode, "safe_mode_as_expected"),
    (_false_safe_mode, "no_false_alarms"),
    (_unexplained_rollback, "no_false_alarms"),
    (_device_error_at_start, "no_false_alarms"),
    (_board_burnt, "no_board_damaged"),
    (_job_late, "no_lost_work"),
    (_job_lost, "no_lost_work"),
    (_submission_rejected, "no_lost_work"),
    (_rework, "no_lost_work"),
    (_silent_escape, "no_lost_work"),
    (_unhandled_kind, "every_kind_handled"),
    (_fault_log_cut, "every_fault_scored"),
    (_tm_lost, "no_tm_lost"),
    (_isolated, "isolated_as_expected"),
    (_injection_missed, "scheduled_faults_took_effect"),
    (_hang_cut_silently, "all_detected"),
]


@pytest.mark.parametrize(
    ("breakage", "check"), BREAKAGES, ids=[f"{b.__name__}->{c}" for b, c in BREAKAGES]
)
def test_each_check_fails_when_its_behaviour_breaks(
    base: tuple[Scenario, RunRecord], breakage: Callable[[RunRecord], None], check: str
) -> None:
    sc, rec = base
    broken = copy.deepcopy(rec)
    breakage(broken)
    r = score(sc, 2, broken)
    assert not r["checks"][check], (check, r["checks"])
    assert not r["passed"]


def test_a_hang_switched_off_before_fdir_could_see_it_is_masked_not_missed(
    base: tuple[Scenario, RunRecord],
) -> None:
    sc, rec = base
    broken = copy.deepcopy(rec)
    r = _fault(broken, "sefi")
    r.update(cleared_by="power_off", cleared_s=r["t_s"] + 1.0)  # the payload, 1 s later
    _drop(broken, "fdir.BOARD_HANG")
    out = score(sc, 2, broken)
    assert out["passed"], out["failures"]
    assert list(out["kinds"]["sefi"]["not_effective"]) == [
        "masked: board switched off before a hang could show"
    ]


def test_a_missing_hk_point_fails_the_sensor_check(tmp_path: Path) -> None:
    """A check that has no data to look at must fail, not pass."""
    sc, rec = record_scenario("sensor", seed=1)
    for point in rec.hk:
        rec.hk[point] = []
    r = score(sc, 1, rec)
    assert any("no telemetry" in f for f in r["failures"]), r["failures"]


def _big(n: int) -> str:
    """A scenario of ``n`` busy boards, the node sized as ``busy_1024`` scaled to n."""
    k = n / 1024
    craft = (
        f"array_area_m2 = {1200.0 * k}, radiator_area_m2 = {700.0 * k}, "
        f"loop_conductance_w_k = {40000.0 * k}, battery_capacity_wh = {400000.0 * k}, "
        f"max_charge_w = {160000.0 * k}, max_discharge_w = {600000.0 * k}"
    )
    params = f'"power.capacity_wh" = {400000.0 * k}, "power.max_discharge_w" = {200000.0 * k}'
    return (
        f'[scenario]\nname = "big_{n}"\nduration_s = 60.0\nboards = {n}\n'
        f"busy_boards = {n}\nspacecraft = {{ {craft} }}\nparams = {{ {params} }}\n"
        "[jobs]\nwork_s = [60.0, 120.0]\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize("n", [1024, 4096])
def test_a_nominal_start_at_scale_is_quiet_and_a_device_error_is_a_false_alarm(
    tmp_path: Path, n: int
) -> None:
    """The first minute of a busy node of ``n`` boards signal no fault (the
    ``fdir.DEVICE_ERROR`` seen at the start of a serial bench run does not happen in
    SIL), and the strict scorer counts one such event as a false alarm at that size."""
    path = tmp_path / f"big_{n}.toml"
    path.write_text(_big(n))
    sc, rec = record_scenario(str(path), seed=3)
    clean = score(sc, 3, rec)
    assert clean["passed"] and clean["false_alarms"] == 0, clean["false_alarm_events"]
    assert not [e for e in rec.events if e[1].endswith(".DEVICE_ERROR")]
    _device_error_at_start(rec)
    r = score(sc, 3, rec)
    assert not r["checks"]["no_false_alarms"] and r["false_alarms"] == 1
