"""Ping: the build answers TC(17,1) and reports completion."""

from flightsw.ground.procedure import Procedure


def run(p: Procedure) -> None:
    rid = p.send("test.ping")
    p.await_verification(rid, "accepted")
    p.assert_completed(rid)
