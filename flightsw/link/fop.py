"""FOP-1, the ground (sending) half of COP-1 (CCSDS 232.1-B-2 §5) for one virtual channel.

FOP-1 numbers sequence-controlled (Type-AD) frames, keeps them until a CLCW from the
spacecraft acknowledges them, retransmits on the CLCW's retransmit flag or on timer T1,
and stops with an alert when the link is out of step (lockout, an impossible N(R), a
transmission limit reached). It also sends the bypass (Type-BD) frames and the Unlock /
Set V(R) control frames (Type-BC) used to initialise the AD service.

It works on plain values: it emits :class:`FopOutput` items (bypass, control, N(S), data)
that the caller wraps into TC frames, and it reads decoded :class:`Clcw` reports. It is
single-threaded and time-injected: the caller passes the time to :meth:`Fop.tick`.

The lower procedures (frame encoding and the radio) are modelled as a bounded outbox that
the caller drains with :meth:`Fop.take_outputs`; a transmit request is accepted at once
while the outbox has room (events E41/E43/E45), otherwise it waits there until the caller
drains it, and the corresponding Out flag stays Not_Ready, which is exactly COP-1's flow
control. Lower-layer rejections (E42/E44/E46) are not modelled: our lower layer never
refuses, it only makes FOP-1 wait.

The state logic is Table 5-1 of 232.1-B-2 (with Cor. 1 event numbers E101..E104), held as
data in :mod:`flightsw.link.fop_table`: :class:`Fop` classifies each thing that happens (a
CLCW, the timer, a request, a directive, the lower layer taking a frame) into an event,
runs that event's cell for the current state (actions in order, then the next state), and
does nothing else. Which event a CLCW is comes from the table's condition columns
(``CLCW_EVENTS``, compiled once into a lookup by every combination of conditions). The
actions are the procedures of §5.2, methods here.
``tests/link/test_fop_table.py`` checks every cell against the standard's table. E15 (a
CLCW that is not usable) does not arise here: :meth:`Clcw.decode` already refuses a CLCW
whose COP in Effect is not COP-1, and CLCWs of other virtual channels are counted and
ignored.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from flightsw.link.clcw import Clcw
from flightsw.link.farm import SET_VR_PREFIX, UNLOCK
from flightsw.link.fop_table import ALL, CLCW_EVENT_OF, FOP_TABLE, INVALID, SOME, Act


class FopState(IntEnum):
    """232.1-B-2 §5.1.2."""

    ACTIVE = 1  # S1
    RETRANSMIT_WITHOUT_WAIT = 2  # S2
    RETRANSMIT_WITH_WAIT = 3  # S3
    INITIALISING_WITHOUT_BC = 4  # S4
    INITIALISING_WITH_BC = 5  # S5
    INITIAL = 6  # S6


class AlertCode(StrEnum):
    """Reasons for an Alert (232.1-B-2 §5.2.15 and §3.4.3.4)."""

    LIMIT = "limit"  # transmission limit reached on a retransmit-flag CLCW
    T1 = "t1"  # timer expired with the transmission limit reached
    LOCKOUT = "lockout"  # CLCW lockout flag
    SYNCH = "synch"  # CLCW inconsistent with FOP's state
    NNR = "nnr"  # CLCW N(R) outside [NN(R), V(S)]
    CLCW = "clcw"  # CLCW wait flag without retransmit flag
    LLIF = "llif"  # lower layer interface failure (not produced: see module doc)
    TERM = "term"  # AD service terminated by directive


class Response(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    POSITIVE_CONFIRM = "positive_confirm"
    NEGATIVE_CONFIRM = "negative_confirm"
    ALERT = "alert"
    SUSPEND = "suspend"


class Service(StrEnum):
    AD = "ad"
    BD = "bd"
    DIRECTIVE = "directive"


class Directive(StrEnum):
    """FOP-1 directives (232.1-B-2 §5.3.2)."""

    INITIATE_AD_WITHOUT_CLCW = "initiate_ad_without_clcw"
    INITIATE_AD_WITH_CLCW = "initiate_ad_with_clcw"
    INITIATE_AD_WITH_UNLOCK = "initiate_ad_with_unlock"
    INITIATE_AD_WITH_SET_VR = "initiate_ad_with_set_vr"
    TERMINATE_AD = "terminate_ad"
    RESUME_AD = "resume_ad"
    SET_VS = "set_vs"
    SET_WINDOW = "set_fop_sliding_window"
    SET_T1_INITIAL = "set_t1_initial"
    SET_TRANSMISSION_LIMIT = "set_transmission_limit"
    SET_TIMEOUT_TYPE = "set_timeout_type"


@dataclass(frozen=True, slots=True)
class FopOutput:
    """One frame for the caller to wrap into a TC frame and send."""

    bypass: bool
    control: bool
    seq: int  # N(S); 0 for Type-B frames
    data: bytes


@dataclass(frozen=True, slots=True)
class FopNotice:
    """A response or indication to the user of FOP-1 (higher procedures / operator)."""

    response: Response
    service: Service | None = None
    request_id: int | None = None
    reason: str = ""
    alert: AlertCode | None = None


@dataclass(slots=True)
class _Sent:
    request_id: int
    control: bool  # True: the BC frame of an Initiate directive
    seq: int
    data: bytes
    to_be_retransmitted: bool = False


S1 = FopState.ACTIVE
S2 = FopState.RETRANSMIT_WITHOUT_WAIT
S3 = FopState.RETRANSMIT_WITH_WAIT
S4 = FopState.INITIALISING_WITHOUT_BC
S5 = FopState.INITIALISING_WITH_BC
S6 = FopState.INITIAL

_AD, _BC, _BD = "ad", "bc", "bd"


class Fop:
    """FOP-1 for one virtual channel; starts in S6 (Initial), as 232.1-B-2 §5.1.2 says.

    ``window`` is the FOP sliding window K (at most the FARM's W/2), ``t1_initial`` the
    timer in seconds, ``transmission_limit`` how often the first frame of the sent queue
    may be sent, ``timeout_type`` 0 (alert) or 1 (suspend) when T1 expires at the limit.
    ``wait_queue_limit`` is 1 in the standard; a larger value lets a caller queue more
    than one AD FDU (each still gets its Accept only when it leaves the wait queue).
    """

    def __init__(
        self,
        vcid: int = 0,
        window: int = 5,
        t1_initial: float = 2.0,
        transmission_limit: int = 3,
        timeout_type: int = 0,
        wait_queue_limit: int = 1,
        out_limit: int = 16,
        notice_limit: int = 4096,
        now: float = 0.0,
    ) -> None:
        if not 0 <= vcid <= 63:
            raise ValueError(f"vcid {vcid} is not in 0..63")
        for name, value, ok in (
            ("window", window, 1 <= window <= 255),
            ("t1_initial", t1_initial, t1_initial > 0),
            ("transmission_limit", transmission_limit, 1 <= transmission_limit <= 255),
            ("timeout_type", timeout_type, timeout_type in (0, 1)),
            ("wait_queue_limit", wait_queue_limit, wait_queue_limit >= 1),
            ("out_limit", out_limit, out_limit >= 1),
            ("notice_limit", notice_limit, notice_limit >= 1),
        ):
            if not ok:
                raise ValueError(f"{name} {value!r} out of range")
        self.vcid = vcid
        self.k = window
        self.t1_initial = float(t1_initial)
        self.transmission_limit = transmission_limit
        self.timeout_type = timeout_type
        self.wait_queue_limit = wait_queue_limit
        self.out_limit = out_limit
        self.now = float(now)
        self.state = S6
        self.vs = 0  # V(S)
        self.nnr = 0  # NN(R)
        self.transmission_count = 1
        self.suspend_state = 0  # SS
        self.timer_deadline: float | None = None
        self.last_event = ""
        self._sent: deque[_Sent] = deque()
        self._wait: deque[tuple[int, bytes]] = deque()
        self._out: deque[FopOutput] = deque()
        self._stalled: dict[str, FopOutput] = {}  # requests the lower layer has not accepted
        self._ready = {_AD: True, _BC: True, _BD: True}  # AD_Out/BC_Out/BD_Out flags
        self._bd_pending: deque[int] = deque()  # request ids of BD frames in the lower layer
        self._pending_init: int | None = None  # Initiate directive awaiting confirmation
        self._notices: deque[FopNotice] = deque(maxlen=notice_limit)
        self._queue: deque[Callable[[], None]] = deque()
        self._running = False
        self._next_id = 0
        # The event being run (what its cell's actions act on).
        self._rid: int | None = None
        self._service: Service | None = None
        self._data = b""
        self._nr = 0
        self._value: float = 0
        self._reason = ""
        self._directive_kind = Directive.TERMINATE_AD
        self._accepted = {_AD: self._ad_accepted, _BC: self._bc_accepted, _BD: self._bd_accepted}
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "ad_sent",
                "ad_retransmitted",
                "bc_sent",
                "bd_sent",
                "clcw_received",
                "clcw_other_vc",
                "alerts",
                "notices_dropped",
                "requests_rejected",
            ),
            0,
        )

    # =================================================================== user side

    def transmit_ad(self, data: bytes) -> int:
        """Request to transfer an FDU with the AD service; returns its request id."""
        rid = self._new_id()
        self._dispatch(lambda: self._request_ad(rid, bytes(data)))
        return rid

    def transmit_bd(self, data: bytes) -> int:
        """Request to transfer an FDU with the BD (bypass) service; returns its request id."""
        rid = self._new_id()
        self._dispatch(lambda: self._request_bd(rid, bytes(data)))
        return rid

    def directive(self, directive: Directive, value: float = 0) -> int:
        """A FOP-1 directive with its qualifier (V*(R), V*(S), K, T1, limit or type)."""
        rid = self._new_id()
        self._dispatch(lambda: self._directive(rid, directive, value))
        return rid

    def clcw_received(self, clcw: Clcw) -> None:
        """A CLCW for this virtual channel arrived (232.1-B-2 §5.3.3, events E1..E14)."""
        self.counters["clcw_received"] += 1
        if clcw.vcid != self.vcid:
            self.counters["clcw_other_vc"] += 1
            return
        self._dispatch(lambda: self._clcw(clcw))

    def tick(self, now: float) -> None:
        """Advance FOP-1's clock to ``now`` seconds; fires T1 if it has expired."""
        self.now = float(now)
        deadline = self.timer_deadline
        if deadline is not None and self.now >= deadline:
            self.timer_deadline = None
            self._dispatch(self._timer_expired)

    def take_outputs(self) -> list[FopOutput]:
        """Frames to send, oldest first; draining the outbox lets stalled requests in."""
        out = list(self._out)
        self._out.clear()
        if self._stalled:
            self._dispatch(self._unstall)
        return out

    @property
    def quiet(self) -> bool:
        """Nothing to take: no output, no notice, no request stalled below (then
        ``take_outputs`` and ``take_notices`` would return nothing and change nothing)."""
        return not (self._out or self._notices or self._stalled)

    def take_notices(self) -> list[FopNotice]:
        """Responses and indications since the last call, oldest first."""
        out = list(self._notices)
        self._notices.clear()
        return out

    @property
    def sent_queue_len(self) -> int:
        return len(self._sent)

    @property
    def wait_queue_len(self) -> int:
        return len(self._wait)

    def pending_requests(self) -> list[int]:
        """Request ids of AD FDUs FOP-1 still holds (wait queue, then sent queue)."""
        return [rid for rid, _ in self._wait] + [s.request_id for s in self._sent if not s.control]

    def outstanding(self) -> list[int]:
        """N(S) of the AD frames on the sent queue, oldest first."""
        return [s.seq for s in self._sent if not s.control]

    # ============================================================ event machinery

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _dispatch(self, fn: Callable[[], None]) -> None:
        self._queue.append(fn)
        if self._running:
            return
        self._running = True
        try:
            while self._queue:
                self._queue.popleft()()
        finally:
            self._running = False

    def _notify(self, notice: FopNotice) -> None:
        if len(self._notices) == self._notices.maxlen:
            self.counters["notices_dropped"] += 1
        self._notices.append(notice)

    def _respond(
        self, response: Response, service: Service, rid: int | None, reason: str = ""
    ) -> None:
        if response is Response.REJECT:
            self.counters["requests_rejected"] += 1
        self._notify(FopNotice(response, service, rid, reason))

    def _event(self, event: str, rid: int | None = None, service: Service | None = None) -> None:
        """Run the Table 5-1 cell of ``event`` in the current state."""
        self.last_event = event
        self._rid = rid
        self._service = service
        actions, to = _CELLS[event][self.state - 1]
        for action in actions:
            action(self)
        if to is not None:
            self.state = to

    # ------------------------------------------------- classifying what happened

    def _classify(self, c: Clcw) -> str:
        """The Table 5-1 event of a CLCW (E1..E14, E101..E103): its conditions looked up
        in :data:`~flightsw.link.fop_table.CLCW_EVENT_OF`."""
        nr, nnr = c.report_value, self.nnr
        if nr == self.vs:
            where = ALL
        elif (nr - nnr) & 0xFF < (self.vs - nnr) & 0xFF:
            where = SOME
        else:
            where = INVALID
        return CLCW_EVENT_OF[
            (
                c.lockout,
                where,
                c.retransmit,
                c.wait,
                nr == nnr,
                self.transmission_limit == 1,
                self.transmission_count < self.transmission_limit,
            )
        ]

    def _clcw(self, c: Clcw) -> None:
        self._nr = c.report_value
        self._event(self._classify(c))

    def _timer_expired(self) -> None:
        """E16/E104 below the transmission limit, E17/E18 at it (by Timeout_Type)."""
        below = self.transmission_count < self.transmission_limit
        if below:
            self._event("E16" if self.timeout_type == 0 else "E104")
        else:
            self._event("E17" if self.timeout_type == 0 else "E18")

    def _request_ad(self, rid: int, data: bytes) -> None:
        if len(self._wait) >= self.wait_queue_limit:
            self._reason = "wait queue full"
            self._event("E20", rid, Service.AD)
            return
        self._data = data
        self._reason = "AD service not active ({state})"
        self._event("E19", rid, Service.AD)

    def _request_bd(self, rid: int, data: bytes) -> None:
        self._data = data
        self._reason = "BD_Out not ready"
        self._event("E21" if self._ready[_BD] else "E22", rid, Service.BD)

    def _directive(self, rid: int, d: Directive, value: float) -> None:
        self._value = value
        self._directive_kind = d
        self._event(self._classify_directive(d, value), rid, Service.DIRECTIVE)

    def _classify_directive(self, d: Directive, value: float) -> str:
        """The event of a directive (E23..E40); sets the reason a Reject would give."""
        s = self.state
        if d in _INITIATE:
            event = _INITIATE[d][self._ready[_BC]]
            if s is not S6:
                self._reason = f"AD service already initiated ({s.name})"
            elif event in ("E26", "E28"):
                self._reason = "BC_Out not ready"
            elif event == "E27" and not _byte(value):
                self._reason = f"V*(R) {value!r} not in 0..255"
                return "E40"
            return event
        if d is Directive.TERMINATE_AD:
            return "E29"
        if d is Directive.RESUME_AD:
            self._reason = "AD service not suspended"
            return f"E{30 + self.suspend_state}"
        if d is Directive.SET_VS:
            self._reason = "Set V(S) only in S6 and not suspended"
            if self.suspend_state != 0:
                return "E40"
            if s is S6 and not _byte(value):
                self._reason = f"V*(S) {value!r} not in 0..255"
                return "E40"
            return "E35"
        self._reason = f"invalid directive or qualifier: {d} {value!r}"
        event = _PARAMETERS.get(d, "E40")
        return event if _PARAMETER_OK[event](value) else "E40"

    # ------------------------------------------------- lower layer (E41, E43, E45)

    def _lower(self, kind: str, out: FopOutput) -> None:
        """Transmit request to the lower procedures; accepted while the outbox has room."""
        if len(self._out) < self.out_limit:
            self._out.append(out)
            self._queue.append(self._accepted[kind])
        else:
            self._stalled[kind] = out

    def _unstall(self) -> None:
        for kind in list(self._stalled):
            if len(self._out) >= self.out_limit:
                break
            self._lower(kind, self._stalled.pop(kind))

    def _ad_accepted(self) -> None:
        self._event("E41")

    def _bc_accepted(self) -> None:
        self._event("E43")

    def _bd_accepted(self) -> None:
        self._event("E45")

    # ============================================== Table 5-1 actions

    def _accept(self) -> None:
        assert self._service is not None
        self._respond(Response.ACCEPT, self._service, self._rid)

    def _reject(self) -> None:
        assert self._service is not None
        reason = self._reason.replace("{state}", self.state.name)
        self._respond(Response.REJECT, self._service, self._rid, reason)

    def _confirm(self) -> None:
        self._respond(Response.POSITIVE_CONFIRM, Service.DIRECTIVE, self._rid)

    def _queue_fdu(self) -> None:
        assert self._rid is not None
        self._wait.append((self._rid, self._data))

    def _transmit_bd(self) -> None:
        assert self._rid is not None
        self.counters["bd_sent"] += 1
        self._bd_pending.append(self._rid)
        self._ready[_BD] = False
        self._lower(_BD, FopOutput(True, False, 0, self._data))

    def _confirm_bd(self) -> None:
        rid = self._bd_pending.popleft() if self._bd_pending else None
        self._respond(Response.POSITIVE_CONFIRM, Service.BD, rid)

    def _ad_ready(self) -> None:
        self._ready[_AD] = True

    def _bc_ready(self) -> None:
        self._ready[_BC] = True

    def _bd_ready(self) -> None:
        self._ready[_BD] = True

    def _remove_acked(self) -> None:
        self._remove_acknowledged(self._nr)

    def _cancel_timer(self) -> None:
        self.timer_deadline = None

    def _confirm_init(self) -> None:
        rid, self._pending_init = self._pending_init, None
        if rid is not None:
            self._respond(Response.POSITIVE_CONFIRM, Service.DIRECTIVE, rid)

    def _hold_init(self) -> None:
        self._pending_init = self._rid

    def _send_unlock(self) -> None:
        assert self._rid is not None
        self._transmit_bc(self._rid, UNLOCK)

    def _set_vs_to_vr(self) -> None:
        self.vs = self.nnr = int(self._value)

    def _send_set_vr(self) -> None:
        assert self._rid is not None
        self._transmit_bc(self._rid, SET_VR_PREFIX + bytes([int(self._value)]))

    def _resume(self) -> None:
        self.suspend_state = 0

    def _set_parameter(self) -> None:
        attr, kind = _PARAMETER_ATTR[self._directive_kind]
        setattr(self, attr, kind(self._value))

    def _suspend_here(self) -> None:
        self._suspend(int(self.state))

    # ============================================== actions (232.1-B-2 §5.2.x)

    def _transmit_ad(self, rid: int, data: bytes) -> None:
        """§5.2.4 Transmit Type-AD Frame."""
        seq = self.vs
        self.vs = (self.vs + 1) & 0xFF
        if not self._sent:
            self.transmission_count = 1
        self._sent.append(_Sent(rid, False, seq, data))
        self._restart_timer()
        self._ready[_AD] = False
        self.counters["ad_sent"] += 1
        self._lower(_AD, FopOutput(False, False, seq, data))

    def _transmit_bc(self, rid: int, data: bytes) -> None:
        """§5.2.5 Transmit Type-BC Frame."""
        self._sent.append(_Sent(rid, True, 0, data))
        self.transmission_count = 1
        self._restart_timer()
        self._ready[_BC] = False
        self.counters["bc_sent"] += 1
        self._lower(_BC, FopOutput(True, True, 0, data))

    def _initiate_ad_retransmission(self) -> None:
        """§5.2.7: abort the pending request, count, restart T1, mark every AD frame."""
        if self._stalled.pop(_AD, None) is not None:
            self._ready[_AD] = True
        self.transmission_count += 1
        self._restart_timer()
        for s in self._sent:
            if not s.control:
                s.to_be_retransmitted = True

    def _initiate_bc_retransmission(self) -> None:
        if self._stalled.pop(_BC, None) is not None:
            self._ready[_BC] = True
        self.transmission_count += 1
        self._restart_timer()
        for s in self._sent:
            if s.control:
                s.to_be_retransmitted = True

    def _remove_acknowledged(self, nr: int) -> None:
        """§5.2.8: positive confirm and drop the AD frames N(R) acknowledges; NN(R) := N(R)."""
        count = (nr - self.nnr) & 0xFF
        while self._sent and not self._sent[0].control:
            if (self._sent[0].seq - self.nnr) & 0xFF >= count:
                break
            done = self._sent.popleft()
            self._respond(Response.POSITIVE_CONFIRM, Service.AD, done.request_id)
        self.nnr = nr
        self.transmission_count = 1

    def _look_for_directive(self) -> None:
        """§5.2.9: retransmit the BC frame if it is marked and BC_Out is ready."""
        if not self._ready[_BC]:
            return
        for s in self._sent:
            if s.control and s.to_be_retransmitted:
                s.to_be_retransmitted = False
                self._ready[_BC] = False
                self.counters["bc_sent"] += 1
                self._lower(_BC, FopOutput(True, True, 0, s.data))
                return

    def _look_for_fdu(self) -> None:
        """§5.2.10: a marked AD frame first, else a new FDU from the wait queue if K allows."""
        if not self._ready[_AD]:
            return
        for s in self._sent:
            if not s.control and s.to_be_retransmitted:
                s.to_be_retransmitted = False
                self._ready[_AD] = False
                self.counters["ad_retransmitted"] += 1
                self._lower(_AD, FopOutput(False, False, s.seq, s.data))
                return
        if self._wait and (self.vs - self.nnr) & 0xFF < self.k:
            rid, data = self._wait.popleft()
            self._respond(Response.ACCEPT, Service.AD, rid)
            self._transmit_ad(rid, data)

    def _purge_sent_queue(self, reason: str) -> None:
        """§5.2.2: negative confirm for every AD frame on the sent queue."""
        for s in self._sent:
            if not s.control:
                self._respond(Response.NEGATIVE_CONFIRM, Service.AD, s.request_id, reason)
        self._sent.clear()

    def _purge_wait_queue(self, reason: str) -> None:
        """§5.2.3: reject every FDU still on the wait queue."""
        for rid, _ in self._wait:
            self._respond(Response.REJECT, Service.AD, rid, reason)
        self._wait.clear()

    def _release_bc(self) -> None:
        self._sent = deque(s for s in self._sent if not s.control)

    def _initialise(self) -> None:
        """§5.2.14."""
        self._drop_pending_init("superseded by a new Initiate AD directive")
        self._purge_sent_queue("AD service initialised")
        self._purge_wait_queue("AD service initialised")
        self.transmission_count = 1
        self.suspend_state = 0

    def _alert(self, code: AlertCode) -> None:
        """§5.2.15: stop the timer, purge both queues, tell the user why; -> S6."""
        self.counters["alerts"] += 1
        self.timer_deadline = None
        reason = f"alert {code.value}"
        self._purge_sent_queue(reason)
        self._purge_wait_queue(reason)
        for kind in (_AD, _BC):  # abort requests the lower layer has not taken
            if self._stalled.pop(kind, None) is not None:
                self._ready[kind] = True
        self._drop_pending_init(reason)
        self._notify(FopNotice(Response.ALERT, None, None, reason, code))
        self.state = S6

    def _drop_pending_init(self, reason: str) -> None:
        rid, self._pending_init = self._pending_init, None
        if rid is not None:
            self._respond(Response.NEGATIVE_CONFIRM, Service.DIRECTIVE, rid, reason)

    def _suspend(self, ss: int) -> None:
        """§5.2.16: remember the state to resume in; -> S6."""
        self.suspend_state = ss
        self.timer_deadline = None
        self._notify(FopNotice(Response.SUSPEND, None, None, f"suspended in S{ss}"))
        self.state = S6

    def _restart_timer(self) -> None:
        self.timer_deadline = self.now + self.t1_initial


def _int_in(value: float, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _byte(value: float) -> bool:
    return _int_in(value, 0, 255)


def _alerting(code: AlertCode) -> Callable[[Fop], None]:
    return lambda fop: fop._alert(code)


_ACTIONS: dict[Act, Callable[[Fop], None]] = {
    Act.ACCEPT: Fop._accept,
    Act.REJECT: Fop._reject,
    Act.CONFIRM: Fop._confirm,
    Act.QUEUE_FDU: Fop._queue_fdu,
    Act.TRANSMIT_BD: Fop._transmit_bd,
    Act.CONFIRM_BD: Fop._confirm_bd,
    Act.AD_OUT_READY: Fop._ad_ready,
    Act.BC_OUT_READY: Fop._bc_ready,
    Act.BD_OUT_READY: Fop._bd_ready,
    Act.REMOVE_ACKED: Fop._remove_acked,
    Act.CANCEL_TIMER: Fop._cancel_timer,
    Act.RESTART_TIMER: Fop._restart_timer,
    Act.LOOK_FOR_FDU: Fop._look_for_fdu,
    Act.LOOK_FOR_DIRECTIVE: Fop._look_for_directive,
    Act.RETRANSMIT_AD: Fop._initiate_ad_retransmission,
    Act.RETRANSMIT_BC: Fop._initiate_bc_retransmission,
    Act.RELEASE_BC: Fop._release_bc,
    Act.CONFIRM_INIT: Fop._confirm_init,
    Act.INITIALISE: Fop._initialise,
    Act.HOLD_INIT: Fop._hold_init,
    Act.SEND_UNLOCK: Fop._send_unlock,
    Act.SET_VS_TO_VR: Fop._set_vs_to_vr,
    Act.SEND_SET_VR: Fop._send_set_vr,
    Act.RESUME: Fop._resume,
    Act.SET_VS: Fop._set_vs_to_vr,
    Act.SET_PARAMETER: Fop._set_parameter,
    Act.SUSPEND: Fop._suspend_here,
    Act.ALERT_LIMIT: _alerting(AlertCode.LIMIT),
    Act.ALERT_T1: _alerting(AlertCode.T1),
    Act.ALERT_LOCKOUT: _alerting(AlertCode.LOCKOUT),
    Act.ALERT_SYNCH: _alerting(AlertCode.SYNCH),
    Act.ALERT_NNR: _alerting(AlertCode.NNR),
    Act.ALERT_CLCW: _alerting(AlertCode.CLCW),
    Act.ALERT_TERM: _alerting(AlertCode.TERM),
}

# Initiate AD directives: their event when BC_Out is (not ready, ready).
_INITIATE: dict[Directive, tuple[str, str]] = {
    Directive.INITIATE_AD_WITHOUT_CLCW: ("E23", "E23"),
    Directive.INITIATE_AD_WITH_CLCW: ("E24", "E24"),
    Directive.INITIATE_AD_WITH_UNLOCK: ("E26", "E25"),
    Directive.INITIATE_AD_WITH_SET_VR: ("E28", "E27"),
}
_PARAMETERS = {
    Directive.SET_WINDOW: "E36",
    Directive.SET_T1_INITIAL: "E37",
    Directive.SET_TRANSMISSION_LIMIT: "E38",
    Directive.SET_TIMEOUT_TYPE: "E39",
}
_PARAMETER_ATTR: dict[Directive, tuple[str, Callable[[float], float]]] = {
    Directive.SET_WINDOW: ("k", int),
    Directive.SET_T1_INITIAL: ("t1_initial", float),
    Directive.SET_TRANSMISSION_LIMIT: ("transmission_limit", int),
    Directive.SET_TIMEOUT_TYPE: ("timeout_type", int),
}
_PARAMETER_OK: dict[str, Callable[[float], bool]] = {
    "E36": lambda v: _int_in(v, 1, 255),
    "E37": lambda v: isinstance(v, int | float) and v > 0,
    "E38": lambda v: _int_in(v, 1, 255),
    "E39": lambda v: _int_in(v, 0, 1),
    "E40": lambda v: True,
}
_CELLS = {
    event: tuple(
        (tuple(_ACTIONS[act] for act in acts), None if to is None else FopState(to))
        for acts, to in cells
    )
    for event, cells in FOP_TABLE.items()
}
"""Table 5-1 with each action resolved to the method that does it (looked up once)."""

missing = set(Act) - set(_ACTIONS)
if missing:
    raise TypeError(f"Table 5-1 actions without an implementation: {sorted(missing)}")
