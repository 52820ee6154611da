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
E1..E10). Every discard is counted by reason. The delivery buffer is bounded: a full
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


# Pre-built results: receive() is on the TC hot path.
_E1 = FarmResult("E1", True, "accepted in sequence")
_E1_LOCKOUT = FarmResult("E1", False, "lockout")
_E2 = FarmResult("E2", False, "buffer full")
_E2_LOCKOUT = FarmResult("E2", False, "lockout")
_E3 = FarmResult("E3", False, "positive window: frame(s) missing before it")
_E3_LOCKOUT = FarmResult("E3", False, "lockout")
_E4 = FarmResult("E4", False, "negative window: duplicate")
_E5 = FarmResult("E5", False, "lockout window: N(S) outside both windows")
_E6 = FarmResult("E6", True, "bypass frame accepted")
_E6_OVERFLOW = FarmResult("E6", False, "bypass frame dropped: delivery buffer at hard limit")
_E7 = FarmResult("E7", True, "unlock")
_E8 = FarmResult("E8", True, "set V(R)")
_E8_LOCKOUT = FarmResult("E8", True, "set V(R) ignored in lockout")
_E9 = FarmResult("E9", False, "invalid control command")
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
            return self._ad(seq, bytes(data))
        if not control:
            return self._bd(seq, bytes(data))
        return self._bc(bytes(data))

    def invalid_frame(self) -> FarmResult:
        """A frame that failed to decode or validate (232.1-B-2 §6.2: discarded, counted)."""
        self.discarded["invalid_frame"] += 1
        return _INVALID

    def _ad(self, seq: int, data: bytes) -> FarmResult:
        d = (seq - self.vr) & 0xFF
        state = self.state
        if d == 0:
            if state is FarmState.LOCKOUT:  # E1/E2 in S3: discard
                self.discarded["lockout"] += 1
                return _E1_LOCKOUT
            if self._ad_in_buffer < self.buffer_limit and state is FarmState.OPEN:
                # E1 (Table 6-1, S1): accept FDU, V(R) := V(R)+1, Retransmit_Flag := 0
                self._buffer.append(Delivered(False, data, seq))
                self._ad_in_buffer += 1
                self.vr = (self.vr + 1) & 0xFF
                self.retransmit = False
                self.accepted_ad += 1
                return _E1
            # E2: no buffer space. S1: discard, Retransmit := 1, Wait := 1 -> S2.
            # S2: discard (Retransmit already 1) -> S2.
            self.discarded["buffer_full"] += 1
            self.retransmit = True
            self.wait = True
            self.state = FarmState.WAIT
            return _E2
        if d < self.pw:
            # E3: N(S) > V(R) inside the positive window. S1: discard, Retransmit := 1.
            # S2: discard. S3: discard.
            if state is FarmState.LOCKOUT:
                self.discarded["lockout"] += 1
                return _E3_LOCKOUT
            self.discarded["positive_window"] += 1
            if state is FarmState.OPEN:
                self.retransmit = True
            return _E3
        if d >= 256 - self.nw:
            # E4: N(S) < V(R) inside the negative window: discard, in every state.
            if state is FarmState.LOCKOUT:
                self.discarded["lockout"] += 1
            else:
                self.discarded["negative_window"] += 1
            return _E4
        # E5: outside both windows. S1, S2: discard, Lockout := 1 -> S3. S3: discard.
        if state is FarmState.LOCKOUT:
            self.discarded["lockout"] += 1
        else:
            self.discarded["lockout_window"] += 1
            self.state = FarmState.LOCKOUT
        return _E5

    def _bd(self, seq: int, data: bytes) -> FarmResult:
        # E6 (all states): accept, FARM-B_Counter := FARM-B_Counter + 1.
        if len(self._buffer) >= self.hard_limit:
            self.discarded["bd_overflow"] += 1
            return _E6_OVERFLOW
        self._buffer.append(Delivered(True, data, seq if type(seq) is int else 0))
        self.farm_b_count += 1
        self.accepted_bd += 1
        return _E6

    def _bc(self, data: bytes) -> FarmResult:
        if data == UNLOCK:
            # E7: FARM-B++, Retransmit := 0; S2: Wait := 0; S3: Lockout := 0, Wait := 0 -> S1.
            self.farm_b_count += 1
            self.unlocks += 1
            self.retransmit = False
            self.wait = False
            self.state = FarmState.OPEN
            return _E7
        if len(data) == 3 and data[:2] == SET_VR_PREFIX:
            # E8: FARM-B++. S1, S2: Retransmit := 0, Wait := 0, V(R) := V*(R) -> S1.
            # S3: no other action (Set V(R) cannot leave Lockout).
            self.farm_b_count += 1
            self.set_vrs += 1
            if self.state is FarmState.LOCKOUT:
                return _E8_LOCKOUT
            self.vr = data[2]
            self.retransmit = False
            self.wait = False
            self.state = FarmState.OPEN
            return _E8
        # E9: invalid control command: discard, all states.
        self.discarded["invalid_control"] += 1
        return _E9

    def buffer_released(self) -> None:
        """E10, the buffer release signal: S2 -> S1 with Wait := 0; S3 clears Wait; S1 no-op."""
        if self._ad_in_buffer >= self.buffer_limit:
            return  # nothing released yet
        if self.state is FarmState.WAIT:
            self.state = FarmState.OPEN
        self.wait = False

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
