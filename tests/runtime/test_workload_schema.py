"""The [workload] table's declaration agrees with the code that uses it."""

import dataclasses

from flightsw.apps.payload.job_list import BOARD_HOURS, CHECKPOINT_S
from flightsw.runtime.mission import load_mission
from flightsw.runtime.workload_schema import JOB_BOARD_HOURS, JOB_CHECKPOINT_S, WORKLOAD
from flightsw.sil.workload import WorkloadConfig


def test_job_ranges_are_the_payloads() -> None:
    assert JOB_BOARD_HOURS == BOARD_HOURS and JOB_CHECKPOINT_S == CHECKPOINT_S


def test_declared_defaults_are_the_configs_and_every_field_is_declared() -> None:
    assert WORKLOAD.defaults() == dataclasses.asdict(WorkloadConfig())


def test_the_default_mission_carries_a_workload_and_others_need_not() -> None:
    m = load_mission()
    assert m.workload["load"] > 1.0 and m.workload["enabled"]
    assert WorkloadConfig.from_table(m.workload).backlog_per_board > 0
