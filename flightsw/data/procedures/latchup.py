"""Inject a latch-up on board 0 (powered: busy or a warm spare); FDIR cuts it, reports it
and brings the board back."""

from flightsw.ground.procedure import Procedure


def run(p: Procedure) -> None:
    p.await_tm("payload.boards_powered", lambda v: v >= 1, timeout=15)
    p.inject("sel", 0)
    p.await_event("fdir.BOARD_LATCHUP", timeout=5, board=0)
    p.await_event("fdir.BOARD_RECOVERED", timeout=60, board=0)
    p.await_tm("fdir.boards_in_recovery", lambda v: v == 0, timeout=15)
