"""The compute payload app and its parts: the job model (``jobs``, ``running``), the
admission policy within the power budget (``power_policy``), job submissions in TCs
and uplinked CSV files (``job_list``), and the app that ties them (``app``)."""

from flightsw.apps.payload.app import JOB_SERVICE, MAX_JOBS, PayloadApp
from flightsw.apps.payload.job_list import BOARD_HOURS, CHECKPOINT_S
from flightsw.apps.payload.jobs import Job, JobState

__all__ = [
    "BOARD_HOURS",
    "CHECKPOINT_S",
    "JOB_SERVICE",
    "MAX_JOBS",
    "Job",
    "JobState",
    "PayloadApp",
]
