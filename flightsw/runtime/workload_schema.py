"""The ``[workload]`` table of a mission: the ground's jobs for a simulated node.

The workload is the operator's side (``flightsw.sil.workload`` generates and uplinks
the jobs), but its table is declared here, below the ground, so the mission loader
checks it at load with every other table: unknown keys, types, ranges, and the keys
that depend on each other. Job sizes and checkpoint intervals take the ranges every
payload submission path accepts (``flightsw.apps.payload.job_list``; a test keeps the
two equal).
"""

from __future__ import annotations

from typing import Any

from flightsw.base.schema import ConfigError, Opt, Schema

JOB_BOARD_HOURS = (0.001, 10_000.0)  # = flightsw.apps.payload.job_list.BOARD_HOURS
JOB_CHECKPOINT_S = (1.0, 86_400.0)  # = flightsw.apps.payload.job_list.CHECKPOINT_S
JOBS_PER_TC_MAX = 76  # job records in one 1024-octet TC frame


def _check(t: dict[str, Any]) -> None:
    if not t["min_board_hours"] <= t["mean_board_hours"] <= t["max_board_hours"]:
        raise ConfigError("mean_board_hours", "must lie between min_ and max_board_hours")


def _hours(name: str, default: float, doc: str = "") -> Opt:
    lo, hi = JOB_BOARD_HOURS
    return Opt(name, "float", default, min=lo, max=hi, unit="h", doc=doc)


WORKLOAD = Schema(
    Opt("enabled", "bool", True, doc="false: no jobs from the ground"),
    Opt("seed", "int", 0, min=0, max=2**63 - 1, doc="mixed with the mission seed"),
    Opt("load", "float", 1.2, min=0, max=1000, doc="arrivals / the node's full-power capacity"),
    Opt("backlog_per_board", "float", 2.0, min=0, max=1000, doc="jobs waiting at the start"),
    Opt("queue_per_board", "float", 1.0, min=0, max=1000, doc="the node's queue kept this deep"),
    _hours("mean_board_hours", 1.0, "job size (exponential, clipped to min..max)"),
    _hours("min_board_hours", 0.05),
    _hours("max_board_hours", 24.0),
    Opt(
        "checkpoint_s",
        "float",
        600.0,
        min=JOB_CHECKPOINT_S[0],
        max=JOB_CHECKPOINT_S[1],
        unit="s",
    ),
    Opt("priorities", "int", 4, min=1, max=256, doc="priorities 0..priorities-1, uniform"),
    Opt("uplink_period_s", "float", 30.0, above=0, max=86_400, unit="s", doc="ground looks"),
    Opt("jobs_per_tc", "int", 64, min=1, max=JOBS_PER_TC_MAX),
    Opt("tcs_per_s", "int", 8, min=1, max=1000),
    Opt("max_ground_jobs", "int", 200_000, min=1, max=10_000_000, doc="beyond: dropped"),
    check=_check,
)
