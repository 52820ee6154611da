"""Submit a short job at the top priority and see it complete."""

from flightsw.ground.procedure import Procedure


def run(p: Procedure) -> None:
    rid = p.send(
        "payload.submit_job", board_hours=0.002, priority=255, deadline_s=0, checkpoint_s=60.0
    )
    p.assert_completed(rid)
    queued = p.await_event("payload.JOB_STATUS", timeout=5, state=0)
    job = queued.args["job"]
    p.await_event("payload.JOB_DONE", timeout=60, job=job)
    p.await_tm("payload.jobs_done", lambda v: v >= 1, timeout=15)
