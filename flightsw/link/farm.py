"""FARM-1, the on-board receiving half of COP-1 (CCSDS 232.1-B-2 §6) for one virtual channel.

FARM-1 decides, frame by frame, whether a TC frame's data is handed up: sequence-
controlled (Type-AD) frames only in order and only while there is buffer room, bypass
(Type-BD) frames always, and control commands (Type-BC: Unlock, Set V(R)) act on the FARM
itself. It reports its state to the ground in the CLCW, which is what drives FOP-1's
acknowledgements and retransmissions.

It works on plain values (bypass flag, control flag, N(S), data) so it does not depend on
the TC frame codec; the caller decodes frames, discards the ones that do not decode
(``invalid_frame()``), and feeds the rest to :meth:`Farm.receive`.

The state table is Table 6-1 of 232.1-B-2 (states S1 Open, S2 Wait, S3 Lockout; events
E1..E10), held as data in ``FARM_TABLE``: :meth:`Farm.receive` classifies a frame into an
event and applies that event's cell for the current state. Every discard is counted by
reason. The delivery buffer is bounded: a full
buffer is what puts FARM-1 into Wait, and :meth:`Farm.pull` (the consumer taking an FDU)
is the "buffer release" signal (E10) that lets it out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import IntEnum

from flightsw.link.clcw import Clcw

UNLOCK = b"\x00"  # 232.0-B §4.1.3.3.2: Unlock control command
SET_VR_PREFIX = b"\x82\x00"  # 232.0-B §4.1.3.3.3: Set V(R) = 0x82 0x00 V*(R)


class FarmState(IntEnum):
    """232.1-B-2 §6.1.2."""

    OPEN = 1  # S1
    WAIT = 2  # S2
    LOCKOUT = 3  # S3


@dataclass(frozen=True, slots=True)
class FarmResult:
    """What FARM-1 did with one frame: the 232.1-B-2 event and whether its data was accepted."""

    event: str  # "E1".."E10", or "invalid"
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """One FDU handed to the higher procedures (the consumer)."""

    bypass: bool
    data: bytes
    seq: int  # N(S) of the frame it came in (meaningless for BD frames, kept for tracing)


S1, S2, S3 = 1, 2, 3


@dataclass(frozen=True, slots=True)
class FarmCell:
    """One cell of Table 6-1: what FARM-1 does on an event in a state. An empty cell
    discards the frame (counted under ``discard``) and changes nothing."""

    accept: bool = False  # the FDU goes to the buffer (a Type-AD one: V(R) := V(R) + 1)
    command: bool = False  # a control command carried out (the frame is accepted)
    retransmit: bool | None = None  # Retransmit_Flag := this
    wait: bool | None = None  # Wait_Flag := this
    farm_b: bool = False  # FARM-B_Counter := FARM-B_Counter + 1
    set_vr: bool = False  # V(R) := V*(R)
    to: int | None = None  # the next state (Lockout_Flag is set exactly in S3)
    discard: str = ""  # what a discarded frame is counted as
    text: str = ""  # the reason given with the result


def _discard(counter: str, text: str, to: int | None = None) -> FarmCell:
    return FarmCell(discard=counter, text=text, to=to)


_LOCKED = _discard("lockout", "lockout")  # any Type-AD frame in S3
_GAP = "positive window: frame(s) missing before it"
_UNLOCK = FarmCell(command=True, retransmit=False, wait=False, farm_b=True, to=S1, text="unlock")
_SET_VR = FarmCell(
    command=True, retransmit=False, wait=False, farm_b=True, set_vr=True, to=S1, text="set V(R)"
)
_INVALID_BC = _discard("invalid_control", "invalid control command")

FARM_TABLE: dict[str, tuple[FarmCell, FarmCell, FarmCell]] = {
    # event: (S1 Open, S2 Wait, S3 Lockout), CCSDS 232.1-B-2 Table 6-1
    "E1": (  # Type-AD, N(S) = V(R), buffer available (in S2 it is not: cannot occur)
        FarmCell(accept=True, retransmit=False, text="accepted in sequence"),
        _discard("buffer_full", "buffer full"),
        _LOCKED,
    ),
    "E2": (  # Type-AD, N(S) = V(R), no buffer available
        FarmCell(retransmit=True, wait=True, to=S2, discard="buffer_full", text="buffer full"),
        _discard("buffer_full", "buffer full"),
        _LOCKED,
    ),
    "E3": (  # Type-AD, N(S) > V(R), within the positive window
        FarmCell(retransmit=True, discard="positive_window", text=_GAP),
        _discard("positive_window", _GAP),
        _LOCKED,
    ),
    "E4": (  # Type-AD, N(S) < V(R), within the negative window
        _discard("negative_window", "negative window: duplicate"),
        _discard("negative_window", "negative window: duplicate"),
        _discard("lockout", "negative window: duplicate"),
    ),
    "E5": (  # Type-AD, N(S) outside both windows
        _discard("lockout_window", "lockout window: N(S) outside both windows", to=S3),
        _discard("lockout_window", "lockout window: N(S) outside both windows", to=S3),
        _discard("lockout", "lockout window: N(S) outside both windows"),
    ),
    "E6": (FarmCell(accept=True, farm_b=True, text="bypass frame accepted"),) * 3,  # Type-BD
    "E7": (_UNLOCK, _UNLOCK, _UNLOCK),  # Type-BC Unlock
    "E8": (
        _SET_VR,
        _SET_VR,
        FarmCell(command=True, farm_b=True, text="set V(R) ignored in lockout"),
    ),
    "E9": (_INVALID_BC, _INVALID_BC, _INVALID_BC),  # Type-BC, not a valid command
    "E10": (  # buffer release signal
        FarmCell(wait=False, text="buffer released"),
        FarmCell(wait=False, to=S1, text="buffer released"),
        FarmCell(wait=False, text="buffer released"),
    ),
}
"""FARM-1's state table as data; :class:`Farm` classifies a frame into an event and
applies the cell of its current state, nothing else."""

_RESULTS = {
    event: tuple(FarmResult(event, cell.accept or cell.command, cell.text) for cell in cells)
    for event, cells in FARM_TABLE.items()
}
_PLAN = {
    event: tuple(
        (
            cell.accept,
            cell.discard,
            cell.retransmit,
            cell.wait,
            cell.farm_b,
            cell.set_vr,
            None if cell.to is None else FarmState(cell.to),
            result,
        )
        for cell, result in zip(cells, _RESULTS[event], strict=True)
    )
    for event, cells in FARM_TABLE.items()
}
"""Table 6-1 unpacked once for :meth:`Farm._apply`: each cell's fields, its next state
as a ``FarmState`` and its result."""
_E6_OVERFLOW = FarmResult("E6", False, "bypass frame dropped: delivery buffer at hard limit")
_INVALID = FarmResult("invalid", False, "invalid frame")

DISCARD_REASONS = (
    "lockout",  # any AD frame while in S3
    "buffer_full",  # E2
    "positive_window",  # E3
    "negative_window",  # E4
    "lockout_window",  # E5
    "invalid_control",  # E9
    "invalid_frame",  # undecodable or illegal flag combination
    "bd_overflow",  # BD frame arriving when the buffer is at its hard limit
)


class Farm:
    """FARM-1 for one virtual channel.

    ``window`` is the FARM sliding window width W (even, 2..254): the positive and
    negative windows are each W/2 wide (232.1-B-2 §6.1.8). ``buffer_limit`` is how many
    AD FDUs may wait for the consumer before FARM-1 enters Wait. BD frames are always
    accepted (E6) but, to stay bounded, are dropped and counted once the buffer holds
    ``buffer_limit + bd_headroom`` FDUs.
    """

    def __init__(
        self,
        vcid: int = 0,
        window: int = 10,
        buffer_limit: int = 8,
        bd_headroom: int = 8,
        status: int = 0,
    ) -> None:
        if not 0 <= vcid <= 63:
            raise ValueError(f"vcid {vcid} is not in 0..63")
        if window % 2 or not 2 <= window <= 254:
            raise ValueError(f"FARM window {window} is not an even number in 2..254")
        if buffer_limit < 1 or bd_headroom < 0:
            raise ValueError("buffer_limit must be >= 1 and bd_headroom >= 0")
        self.vcid = vcid
        self.window = window
        self.pw = window // 2
        self.nw = window // 2
        self.buffer_limit = buffer_limit
        self.hard_limit = buffer_limit + bd_headroom
        self.status = status
        self.state = FarmState.OPEN
        self.vr = 0
        self.wait = False
        self.retransmit = False
        self.farm_b_count = 0  # full count; the CLCW carries it modulo 4
        self.no_rf_available = False  # set by the physical layer
        self.no_bit_lock = False
        self._buffer: deque[Delivered] = deque()
        self._ad_in_buffer = 0
        self.accepted_ad = 0
        self.accepted_bd = 0
        self.unlocks = 0
        self.set_vrs = 0
        self.lockout_resets = 0  # lockouts left by a link-layer reset
        self.discarded: dict[str, int] = dict.fromkeys(DISCARD_REASONS, 0)

    # ------------------------------------------------------------------ events

    def receive(self, bypass: bool, control: bool, seq: int, data: bytes) -> FarmResult:
        """One frame that decoded: classify it into a 232.1-B-2 event and apply Table 6-1."""
        if not bypass:
            if control or type(seq) is not int or not 0 <= seq <= 255:
                self.discarded["invalid_frame"] += 1
                return _INVALID
            d = (seq - self.vr) & 0xFF
            if d == 0:
                event = "E1" if self._ad_in_buffer < self.buffer_limit else "E2"
            elif d < self.pw:
                event = "E3"
            elif d >= 256 - self.nw:
                event = "E4"
            else:
                event = "E5"
            return self._apply(event, False, seq, data)
        if not control:
            if len(self._buffer) >= self.hard_limit:  # bounded: a BD flood cannot grow it
                self.discarded["bd_overflow"] += 1
                return _E6_OVERFLOW
            return self._apply("E6", True, seq if type(seq) is int else 0, data)
        if data == UNLOCK:
            self.unlocks += 1
            return self._apply("E7", True, 0, b"")
        if len(data) == 3 and data[:2] == SET_VR_PREFIX:
            self.set_vrs += 1
            return self._apply("E8", True, data[2], b"")
        return self._apply("E9", True, 0, b"")

    def invalid_frame(self) -> FarmResult:
        """A frame that failed to decode or validate (232.1-B-2 §6.2: discarded, counted)."""
        self.discarded["invalid_frame"] += 1
        return _INVALID

    def _apply(self, event: str, bypass: bool, seq: int, data: bytes) -> FarmResult:
        """The Table 6-1 cell of ``event`` in the current state. For a Type-AD frame
        ``seq`` is its N(S); for Set V(R) it is V*(R)."""
        accept, discard, retransmit, wait, farm_b, set_vr, to, result = _PLAN[event][self.state - 1]
        if accept:
            self._buffer.append(Delivered(bypass, bytes(data), seq))
            if bypass:
                self.accepted_bd += 1
            else:
                self._ad_in_buffer += 1
                self.vr = (self.vr + 1) & 0xFF
                self.accepted_ad += 1
        elif discard:
            self.discarded[discard] += 1
        if retransmit is not None:
            self.retransmit = retransmit
        if wait is not None:
            self.wait = wait
        if farm_b:
            self.farm_b_count += 1
        if set_vr:
            self.vr = seq
        if to is not None:
            self.state = to
        return result

    def buffer_released(self) -> None:
        """E10, the buffer release signal, once the consumer has made room."""
        if self._ad_in_buffer < self.buffer_limit:
            self._apply("E10", True, 0, b"")

    # ---------------------------------------------------------------- consumer

    def pull(self) -> Delivered | None:
        """The next FDU for the higher procedures, oldest first; frees its buffer slot."""
        if not self._buffer:
            return None
        item = self._buffer.popleft()
        if not item.bypass:
            self._ad_in_buffer -= 1
            if self.wait:
                self.buffer_released()
        return item

    def peek(self) -> Delivered | None:
        """The FDU :meth:`pull` would return next, left in the buffer (None when empty).

        A consumer with limited room looks before it takes: an FDU it cannot take yet
        stays here, the buffer fills, and FARM-1 enters Wait (flow control to FOP-1)."""
        return self._buffer[0] if self._buffer else None

    def pending(self) -> int:
        """FDUs waiting for the consumer."""
        return len(self._buffer)

    def reset(self) -> None:
        """A link-layer reset (FDIR's answer to a long silence): leave Lockout, the one
        state that keeps the uplink shut until the ground unlocks it, as Unlock (E7) does.

        V(R) is kept, and so are the FDUs already accepted, Wait and Retransmit while
        Open or in Wait. The CLCW's N(R) says "every frame before it was accepted": a
        V(R) put back to 0 would make FOP-1 take later reports as acknowledging frames
        FARM-1 never saw (and drop them as delivered), and a Wait cleared with the buffer
        still full would put FOP-1 out of step. Counters are kept."""
        if self.state is FarmState.LOCKOUT:
            self.state = FarmState.OPEN
            self.wait = False
            self.retransmit = False
            self.lockout_resets += 1

    # ------------------------------------------------------------------ report

    def clcw(self) -> Clcw:
        """The CLCW for this virtual channel as of now (232.1-B-2 §6.1.4)."""
        return Clcw(
            vcid=self.vcid,
            report_value=self.vr,
            lockout=self.state is FarmState.LOCKOUT,
            wait=self.wait,
            retransmit=self.retransmit,
            farm_b_counter=self.farm_b_count & 3,
            no_rf_available=self.no_rf_available,
            no_bit_lock=self.no_bit_lock,
            status=self.status,
        )
