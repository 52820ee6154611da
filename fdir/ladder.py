"""The accelerator boards' recovery ladders, run for every board at once.

Latch-up (SEL): power off at once (the current is the only symptom and damage comes
within seconds), cool down, power on, re-admit once the heartbeat runs. A board that
latches ``sel_isolate_after`` times within ``sel_window_s`` is isolated. A latch-up is
acted on in every powered state, recovery steps included (a board can latch up again
while it is being re-admitted, or while a hang is being reset).

Hang (SEFI, missed heartbeat): reset -> power cycle -> isolate, each rung given a
bounded time to bring the heartbeat back.

Each board is in one state; every state but HEALTHY and ISOLATED has a deadline. The
ladder issues HAL commands for whole index arrays and returns what happened this step
(for events and for scoring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from hal.interfaces import AcceleratorBoards


class BoardState(IntEnum):
    HEALTHY = 0
    SEL_COOLDOWN = 1  # off after a latch-up, waiting to power on
    READMIT = 2  # on again after a latch-up, waiting for the heartbeat
    RESET_WAIT = 3  # reset after a hang, waiting for the heartbeat
    CYCLE_OFF = 4  # power-cycled after a failed reset, off
    CYCLE_WAIT = 5  # on again after the power cycle, waiting for the heartbeat
    ISOLATED = 6  # out of service until the ground re-admits it


# The states as plain ints for the array work: numpy compares an int8 array with an
# IntEnum member through Python objects (~50 us for 1024 boards), with an int in C (~2 us).
HEALTHY, SEL_COOLDOWN, READMIT, RESET_WAIT, CYCLE_OFF, CYCLE_WAIT, ISOLATED = (
    int(s) for s in BoardState
)


@dataclass(frozen=True)
class LadderTiming:
    sel_cooldown_s: float = 5.0
    readmit_wait_s: float = 5.0
    reset_wait_s: float = 4.0
    cycle_off_s: float = 3.0
    cycle_wait_s: float = 6.0
    sel_isolate_after: int = 3
    sel_window_s: float = 86_400.0
    min_beats: int = 2  # heartbeat advances needed to call a board alive


@dataclass
class StepOutcome:
    """Board indices by what happened to them this step."""

    sel_off: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    resets: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    cycles: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    recovered: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    isolated: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    hot: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


class BoardLadder:
    """Recovery state for ``n`` boards; ``step`` applies detections and runs the timers."""

    def __init__(self, n: int, timing: LadderTiming) -> None:
        self.timing = timing
        self.state = np.zeros(n, dtype=np.int8)
        self.deadline = np.zeros(n)
        self.beat_mark = np.zeros(n, dtype=np.int64)
        self.sel_times: list[list[float]] = [[] for _ in range(n)]
        self.counts = {
            "sel": 0,
            "overtemp": 0,
            "hang": 0,
            "resets": 0,
            "power_cycles": 0,
            "recovered": 0,
            "isolated": 0,
        }

    @property
    def unavailable(self) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] = self.state != HEALTHY
        return out

    @property
    def recovering(self) -> NDArray[np.bool_]:
        """Boards on a recovery step (neither healthy nor isolated)."""
        st = self.state
        out: NDArray[np.bool_] = (st != HEALTHY) & (st != ISOLATED)
        return out

    def step(
        self,
        boards: AcceleratorBoards,
        now_s: float,
        heartbeat: NDArray[np.int64],
        sel: NDArray[np.bool_],
        hang: NDArray[np.bool_],
        hot: NDArray[np.bool_] | None = None,
    ) -> StepOutcome:
        """Apply this step's detections (latch-up, hang, over-temperature) and timers.

        An over-temperature board is handled like a latch-up: off at once, cool down,
        back on, isolated if it keeps happening.
        """
        t = self.timing
        st = self.state
        out = StepOutcome()
        if not (
            np.count_nonzero(sel)
            or np.count_nonzero(hang)
            or (hot is not None and np.count_nonzero(hot))
            or np.count_nonzero(st)
        ):
            return out  # all healthy, nothing detected: the usual step, kept cheap
        healthy = st == HEALTHY
        # --- new latch-ups (in any state but isolated): off now -----------------------
        if hot is not None:
            new_hot = healthy & hot & ~sel
            self.counts["overtemp"] += int(new_hot.sum())
            out.hot = np.flatnonzero(new_hot)
            sel = sel | new_hot
        new_sel = np.flatnonzero(sel & (st != ISOLATED))
        if new_sel.size:
            boards.set_board_power(new_sel, False)
            out.sel_off = new_sel
            self.counts["sel"] += new_sel.size - out.hot.size
            isolate = []
            for b in new_sel:
                times = [x for x in self.sel_times[b] if now_s - x <= t.sel_window_s]
                times.append(now_s)
                self.sel_times[b] = times
                if len(times) >= t.sel_isolate_after:
                    isolate.append(b)
            st[new_sel] = SEL_COOLDOWN
            self.deadline[new_sel] = now_s + t.sel_cooldown_s
            if isolate:
                idx = np.array(isolate, dtype=np.intp)
                st[idx] = ISOLATED
                out.isolated = idx
        # --- new hangs: reset ---------------------------------------------------------
        new_hang = np.flatnonzero((st == HEALTHY) & hang)
        if new_hang.size:
            boards.reset_boards(new_hang)
            self._enter(new_hang, RESET_WAIT, now_s + t.reset_wait_s, heartbeat)
            out.resets = new_hang
            self.counts["hang"] += new_hang.size
            self.counts["resets"] += new_hang.size
        # --- waiting for a heartbeat --------------------------------------------------
        waiting = (st == READMIT) | (st == RESET_WAIT) | (st == CYCLE_WAIT)
        alive = heartbeat - self.beat_mark >= t.min_beats
        back = np.flatnonzero(waiting & alive)
        if back.size:
            st[back] = HEALTHY
            out.recovered = back
            self.counts["recovered"] += back.size
        expired = (now_s >= self.deadline) & ~alive
        # reset did not help -> power cycle
        cyc = np.flatnonzero((st == RESET_WAIT) & expired)
        if cyc.size:
            boards.set_board_power(cyc, False)
            st[cyc] = CYCLE_OFF
            self.deadline[cyc] = now_s + t.cycle_off_s
            out.cycles = cyc
            self.counts["power_cycles"] += cyc.size
        # off long enough -> on again, wait for the heartbeat
        for off_state, wait_state, wait_s in (
            (SEL_COOLDOWN, READMIT, t.readmit_wait_s),
            (CYCLE_OFF, CYCLE_WAIT, t.cycle_wait_s),
        ):
            due = np.flatnonzero((st == off_state) & (now_s >= self.deadline))
            if due.size:
                boards.set_board_power(due, True)
                self._enter(due, wait_state, now_s + wait_s, heartbeat)
        # nothing brought it back -> isolate (deadlines re-read: some were just set)
        expired = (now_s >= self.deadline) & ~alive
        dead = np.flatnonzero(((st == READMIT) | (st == CYCLE_WAIT)) & expired)
        if dead.size:
            boards.set_board_power(dead, False)
            st[dead] = ISOLATED
            out.isolated = np.concatenate([out.isolated, dead])
        self.counts["isolated"] = int((st == ISOLATED).sum())
        return out

    def _enter(
        self, idx: NDArray[np.intp], state: int, deadline: float, hb: NDArray[np.int64]
    ) -> None:
        self.state[idx] = state
        self.deadline[idx] = deadline
        self.beat_mark[idx] = hb[idx]

    def isolate(self, boards: AcceleratorBoards, idx: NDArray[np.intp]) -> NDArray[np.intp]:
        """Take boards out of service now (off, ISOLATED); the ones that were not yet."""
        idx = idx[self.state[idx] != ISOLATED]
        if idx.size:
            boards.set_board_power(idx, False)
            self.state[idx] = ISOLATED
            self.counts["isolated"] = int((self.state == ISOLATED).sum())
        return idx

    def release(self, idx: NDArray[np.intp]) -> None:
        """End recovery without a verdict (the board's supply went away: whatever it had
        was cleared by the power loss); isolated boards stay isolated."""
        idx = idx[self.state[idx] != ISOLATED]
        self.state[idx] = HEALTHY

    def readmit(self, idx: NDArray[np.intp]) -> None:
        """The ground's decision: put isolated boards back in service (left powered off)."""
        sel = idx[self.state[idx] == ISOLATED]
        self.state[sel] = HEALTHY
        for b in sel:
            self.sel_times[b] = []
        self.counts["isolated"] = int((self.state == ISOLATED).sum())
