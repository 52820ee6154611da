"""The ground's workload: seeded jobs, a bounded ground queue, top-ups paced like an
uplink, and a ``[workload]`` table that names its own mistakes."""

import pytest

from flightsw.apps.payload.job_list import parse_binary
from flightsw.base.errors import MissionError
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import load_mission
from flightsw.sil.workload import NS_PER_S, SOURCE_ID, GroundWorkload, WorkloadConfig

ENCODER = CommandEncoder(build_dictionary(load_mission()))


def _drive(cfg: WorkloadConfig, seed: int, boards: int, seconds: int, consumed_per_s: int):  # type: ignore[no-untyped-def]
    """Run the workload against a node that finishes ``consumed_per_s`` jobs a second."""
    onboard = [0]
    w = GroundWorkload(cfg, boards, seed, ENCODER, lambda: onboard[0])
    sent: list[tuple[int, list[tuple[float, int, int, float]]]] = []
    for t in range(seconds):
        tcs = w.poll(t * NS_PER_S)
        assert len(tcs) <= cfg.tcs_per_s
        for raw in tcs:
            jobs = parse_binary(PusTc.decode(raw).app_data[2:])
            assert 1 <= len(jobs) <= cfg.jobs_per_tc
            onboard[0] += len(jobs)
            sent.append((t, jobs))
        onboard[0] = max(0, onboard[0] - consumed_per_s)
    return w, sent


def test_same_seed_same_jobs_another_seed_others() -> None:
    cfg = WorkloadConfig(uplink_period_s=10.0)
    a = _drive(cfg, 7, 64, 300, 1)[1]
    assert a == _drive(cfg, 7, 64, 300, 1)[1]
    assert a != _drive(cfg, 8, 64, 300, 1)[1]


def test_the_node_is_topped_up_to_its_boards_plus_a_queue_and_no_further() -> None:
    cfg = WorkloadConfig(queue_per_board=1.0, backlog_per_board=3.0, uplink_period_s=30.0)
    w, sent = _drive(cfg, 1, 100, 29, 0)  # one look, nothing finishes
    assert sum(len(j) for _, j in sent) == 200  # a job per board plus one queued per board
    assert w.summary()["jobs_waiting_on_ground"] >= 100  # the rest of the backlog waits
    hours = [h for _, jobs in sent for h, *_ in jobs]
    assert all(cfg.min_board_hours - 1e-6 <= h <= cfg.max_board_hours for h in hours)
    w2, _ = _drive(cfg, 1, 100, 600, 5)  # the node works: arrivals follow
    assert w2.arrived > 300 and w2.uplinked_jobs > 200


def test_the_ground_queue_is_bounded_and_counts_what_it_drops() -> None:
    cfg = WorkloadConfig(max_ground_jobs=50, backlog_per_board=2.0, load=50.0)
    w, _ = _drive(cfg, 3, 100, 120, 0)
    s = w.summary()
    assert s["jobs_waiting_on_ground"] <= 50
    assert s["jobs_dropped_on_ground"] > 0
    assert (
        s["jobs_arrived"]
        == s["jobs_dropped_on_ground"] + s["jobs_uplinked"] + s["jobs_waiting_on_ground"]
    )


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"lod": 1.0}, "workload.lod"),
        ({"load": -1.0}, "workload.load"),
        ({"load": "high"}, "workload.load"),
        ({"jobs_per_tc": 500}, "workload.jobs_per_tc"),
        ({"mean_board_hours": 100.0}, "workload.mean_board_hours"),
        ({"enabled": 1}, "workload.enabled"),
    ],
)
def test_a_bad_workload_table_names_its_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(MissionError) as err:
        WorkloadConfig.from_table(table, "m.toml")
    assert key in str(err.value)


def test_a_tc_the_uplink_refused_goes_again_and_no_job_is_lost() -> None:
    cfg = WorkloadConfig(uplink_period_s=5.0, tcs_per_s=2, jobs_per_tc=4)
    onboard = [0]
    w = GroundWorkload(cfg, 16, 5, ENCODER, lambda: onboard[0])
    delivered: list[bytes] = []
    for t in range(40):
        for i, tc in enumerate(w.poll(t * NS_PER_S)):
            if (t + i) % 3 == 0:
                w.refused(tc)  # a full uplink queue
            else:
                delivered.append(tc)
                onboard[0] += len(parse_binary(PusTc.decode(tc).app_data[2:]))
    s = w.summary()
    assert s["tcs_refused"] > 0
    assert s["tcs_uplinked"] == len(delivered)
    jobs = sum(len(parse_binary(PusTc.decode(tc).app_data[2:])) for tc in delivered)
    assert jobs == s["jobs_uplinked"]  # what the node took, not what was refused
    # Every job that arrived is on the node, in the outbox or in the ground's queue.
    assert s["jobs_arrived"] == (
        jobs + s["jobs_in_outbox"] + s["jobs_waiting_on_ground"] + s["jobs_dropped_on_ground"]
    )


def test_a_node_that_refuses_every_tc_has_no_job_uplinked() -> None:
    """A node whose uplink is always full: the TCs go round and round, none counted as
    uplinked (it counted every job put in the outbox before)."""
    w = GroundWorkload(WorkloadConfig(tcs_per_s=3, jobs_per_tc=2), 8, 2, ENCODER, lambda: 0)
    tries = 0
    for t in range(30):
        for tc in w.poll(t * NS_PER_S):
            w.refused(tc)
            tries += 1
    s = w.summary()
    assert tries > 10 and s["tcs_refused"] == tries
    assert s["jobs_uplinked"] == 0 and s["tcs_uplinked"] == 0
    assert s["jobs_in_outbox"] > 0


def test_the_workload_tcs_carry_its_own_source_id_and_their_reports_come_back_to_it() -> None:
    """Its PUS-1 reports are addressed to the workload, not to source 0 that the console
    and procedures also see: each sender's verification is attributable."""
    from flightsw.ground.console import CONSOLE_SOURCE_ID
    from flightsw.ground.procedure import PROCEDURE_SOURCE_ID
    from flightsw.services.sequencer.app import SOURCE_ID as SEQUENCER
    from tests.apps.conftest import small_node

    assert len({0, SOURCE_ID, CONSOLE_SOURCE_ID, PROCEDURE_SOURCE_ID, SEQUENCER}) == 5
    w = GroundWorkload(WorkloadConfig(), 16, 3, ENCODER, lambda: 0)
    [tc, *_] = w.poll(0)
    assert PusTc.decode(tc).source_id == SOURCE_ID
    h = small_node(boards=4, radiation_enabled=False)
    h.send_raw(tc)
    h.run(3)
    reports = [p for p in h.tm if p.service == 1 and p.subservice in (1, 7)]
    assert reports and {p.dest_id for p in reports} == {SOURCE_ID}
