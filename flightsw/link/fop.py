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

The event numbers and state transitions follow Table 5-1 of 232.1-B-2 (with Cor. 1 event
numbers E101..E104); comments cite the events. E15 (a CLCW that is not usable) does not
arise here: :meth:`Clcw.decode` already refuses a CLCW whose COP in Effect is not COP-1,
and CLCWs of other virtual channels are counted and ignored.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from flightsw.link.clcw import Clcw
from flightsw.link.farm import SET_VR_PREFIX, UNLOCK


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

    # ------------------------------------------------------- CLCW (Table 5-1 E1..E14)

    def _classify(self, c: Clcw) -> str:
        if c.lockout:
            return "E14"
        nr, nnr = c.report_value, self.nnr
        outstanding = (self.vs - nnr) & 0xFF
        d = (nr - nnr) & 0xFF
        if nr == self.vs:  # valid N(R), all outstanding AD frames acknowledged
            if c.retransmit:
                return "E4"
            if c.wait:
                return "E3"
            return "E1" if nr == nnr else "E2"
        if d < outstanding:  # valid N(R), some AD frames not yet acknowledged
            if not c.retransmit:
                if c.wait:
                    return "E7"
                return "E5" if nr == nnr else "E6"
            if self.transmission_limit == 1:
                return "E101" if nr != nnr else "E102"
            if nr != nnr:
                return "E9" if c.wait else "E8"
            if self.transmission_count < self.transmission_limit:
                return "E11" if c.wait else "E10"
            return "E103" if c.wait else "E12"
        return "E13"  # N(R) outside [NN(R), V(S)]

    def _clcw(self, c: Clcw) -> None:
        ev = self._classify(c)
        self.last_event = ev
        s = self.state
        if s is S6:
            return  # every CLCW event is ignored in S6
        if ev == "E14":
            if s is not S5:  # S5 ignores lockout: the Unlock may not have arrived yet
                self._alert(AlertCode.LOCKOUT)
            return
        if ev == "E13":
            if s is not S5:
                self._alert(AlertCode.NNR)
            return
        if s is S4 or s is S5:
            self._clcw_initialising(ev)
            return
        if ev == "E1":
            if s is not S1:
                self._alert(AlertCode.SYNCH)
        elif ev == "E2":
            self._remove_acknowledged(c.report_value)
            self.timer_deadline = None
            self._look_for_fdu()
            self.state = S1
        elif ev in ("E3", "E7"):
            self._alert(AlertCode.CLCW)
        elif ev == "E4":
            self._alert(AlertCode.SYNCH)
        elif ev == "E5":
            if s is not S1:
                self._alert(AlertCode.SYNCH)
        elif ev == "E6":
            self._remove_acknowledged(c.report_value)
            self._look_for_fdu()
            self.state = S1
        elif ev == "E101":
            self._remove_acknowledged(c.report_value)
            self._alert(AlertCode.LIMIT)
        elif ev == "E102":
            self._alert(AlertCode.LIMIT)
        elif ev == "E8":
            self._remove_acknowledged(c.report_value)
            self._initiate_ad_retransmission()
            self._look_for_fdu()
            self.state = S2
        elif ev == "E9":
            self._remove_acknowledged(c.report_value)
            self.state = S3
        elif ev == "E10":
            if s is not S2:  # S2 is already retransmitting
                self._initiate_ad_retransmission()
                self._look_for_fdu()
                self.state = S2
        elif ev in ("E11", "E103"):
            self.state = S3
        elif ev == "E12":
            self.state = S2

    def _clcw_initialising(self, ev: str) -> None:
        """CLCW events in S4 and S5: only E1 completes the initialisation."""
        s = self.state
        if ev == "E1":
            if s is S5:
                self._release_bc()
            self.timer_deadline = None
            self.state = S1
            rid, self._pending_init = self._pending_init, None
            if rid is not None:
                self._respond(Response.POSITIVE_CONFIRM, Service.DIRECTIVE, rid)
        elif ev == "E3":
            self._alert(AlertCode.CLCW)
        elif ev == "E4" and s is S4:
            self._alert(AlertCode.SYNCH)
        # every other event (including E4 in S5) is ignored while initialising

    # ------------------------------------------------------- timer (E16..E18, E104)

    def _timer_expired(self) -> None:
        below = self.transmission_count < self.transmission_limit
        ev = (
            ("E16" if self.timeout_type == 0 else "E104")
            if below
            else ("E17" if self.timeout_type == 0 else "E18")
        )
        self.last_event = ev
        s = self.state
        if s is S6:
            return
        if below:
            if s in (S1, S2):
                self._initiate_ad_retransmission()
                self._look_for_fdu()
            elif s is S4:
                if ev == "E16":
                    self._alert(AlertCode.T1)
                else:
                    self._suspend(4)
            elif s is S5:
                self._initiate_bc_retransmission()
                self._look_for_directive()
            # S3: ignored (the FARM is waiting; its CLCW will restart the flow)
            return
        if ev == "E17" or s is S5:
            self._alert(AlertCode.T1)
        else:
            self._suspend(int(s))

    # ------------------------------------------------------- requests (E19..E22)

    def _request_ad(self, rid: int, data: bytes) -> None:
        if len(self._wait) >= self.wait_queue_limit:
            self.last_event = "E20"
            self._respond(Response.REJECT, Service.AD, rid, "wait queue full")
            return
        self.last_event = "E19"
        if self.state in (S4, S5, S6):
            self._respond(
                Response.REJECT, Service.AD, rid, f"AD service not active ({self.state.name})"
            )
            return
        self._wait.append((rid, data))
        if self.state is not S3:
            self._look_for_fdu()

    def _request_bd(self, rid: int, data: bytes) -> None:
        if not self._ready[_BD]:
            self.last_event = "E22"
            self._respond(Response.REJECT, Service.BD, rid, "BD_Out not ready")
            return
        self.last_event = "E21"
        self._respond(Response.ACCEPT, Service.BD, rid)
        self.counters["bd_sent"] += 1
        self._bd_pending.append(rid)
        self._ready[_BD] = False
        self._lower(_BD, FopOutput(True, False, 0, data))

    # ------------------------------------------------------- directives (E23..E40)

    def _directive(self, rid: int, d: Directive, value: float) -> None:
        s = self.state
        ok, reply = self._respond, Service.DIRECTIVE

        def reject(reason: str) -> None:
            ok(Response.REJECT, reply, rid, reason)

        def accept() -> None:
            ok(Response.ACCEPT, reply, rid)

        def confirm() -> None:
            ok(Response.POSITIVE_CONFIRM, reply, rid)

        initiates = (
            Directive.INITIATE_AD_WITHOUT_CLCW,
            Directive.INITIATE_AD_WITH_CLCW,
            Directive.INITIATE_AD_WITH_UNLOCK,
            Directive.INITIATE_AD_WITH_SET_VR,
        )
        if d in initiates:
            self.last_event = {
                Directive.INITIATE_AD_WITHOUT_CLCW: "E23",
                Directive.INITIATE_AD_WITH_CLCW: "E24",
                Directive.INITIATE_AD_WITH_UNLOCK: "E25" if self._ready[_BC] else "E26",
                Directive.INITIATE_AD_WITH_SET_VR: "E27" if self._ready[_BC] else "E28",
            }[d]
            if s is not S6:
                reject(f"AD service already initiated ({s.name})")
                return
            if self.last_event in ("E26", "E28"):
                reject("BC_Out not ready")
                return
            if d is Directive.INITIATE_AD_WITH_SET_VR and not _byte(value):
                reject(f"V*(R) {value!r} not in 0..255")
                return
            accept()
            self._initialise()
            if d is Directive.INITIATE_AD_WITHOUT_CLCW:  # E23
                confirm()
                self.state = S1
            elif d is Directive.INITIATE_AD_WITH_CLCW:  # E24
                self._pending_init = rid
                self._restart_timer()
                self.state = S4
            elif d is Directive.INITIATE_AD_WITH_UNLOCK:  # E25
                self._pending_init = rid
                self._transmit_bc(rid, UNLOCK)
                self.state = S5
            else:  # E27
                vr = int(value)
                self.vs = self.nnr = vr
                self._pending_init = rid
                self._transmit_bc(rid, SET_VR_PREFIX + bytes([vr]))
                self.state = S5
        elif d is Directive.TERMINATE_AD:  # E29
            self.last_event = "E29"
            accept()
            if s is not S6:
                self._alert(AlertCode.TERM)
            confirm()
        elif d is Directive.RESUME_AD:  # E30..E34
            ss = self.suspend_state
            self.last_event = f"E{30 + ss}"
            if ss == 0 or s is not S6:
                reject("AD service not suspended")
                return
            accept()
            self._restart_timer()
            self.suspend_state = 0
            self.state = FopState(ss)
            confirm()
            if self.state in (S1, S2):
                self._look_for_fdu()
        elif d is Directive.SET_VS:  # E35
            self.last_event = "E35"
            if s is not S6 or self.suspend_state != 0:
                reject("Set V(S) only in S6 and not suspended")
                return
            if not _byte(value):
                reject(f"V*(S) {value!r} not in 0..255")
                return
            accept()
            self.vs = self.nnr = int(value)
            confirm()
        else:  # E36..E39
            self.last_event = {
                Directive.SET_WINDOW: "E36",
                Directive.SET_T1_INITIAL: "E37",
                Directive.SET_TRANSMISSION_LIMIT: "E38",
                Directive.SET_TIMEOUT_TYPE: "E39",
            }.get(d, "E40")
            if self.last_event == "E40" or not self._set_parameter(d, value):
                reject(f"invalid directive or qualifier: {d} {value!r}")
                return
            accept()
            confirm()

    def _set_parameter(self, d: Directive, value: float) -> bool:
        if d is Directive.SET_WINDOW and _int_in(value, 1, 255):
            self.k = int(value)
        elif d is Directive.SET_T1_INITIAL and isinstance(value, int | float) and value > 0:
            self.t1_initial = float(value)
        elif d is Directive.SET_TRANSMISSION_LIMIT and _int_in(value, 1, 255):
            self.transmission_limit = int(value)
        elif d is Directive.SET_TIMEOUT_TYPE and _int_in(value, 0, 1):
            self.timeout_type = int(value)
        else:
            return False
        return True

    # ------------------------------------------------- lower layer (E41, E43, E45)

    def _lower(self, kind: str, out: FopOutput) -> None:
        """Transmit request to the lower procedures; accepted while the outbox has room."""
        if len(self._out) < self.out_limit:
            self._out.append(out)
            self._queue.append(lambda: self._lower_accepted(kind))
        else:
            self._stalled[kind] = out

    def _unstall(self) -> None:
        for kind in list(self._stalled):
            if len(self._out) >= self.out_limit:
                break
            self._lower(kind, self._stalled.pop(kind))

    def _lower_accepted(self, kind: str) -> None:
        self._ready[kind] = True
        if kind == _AD:  # E41
            self.last_event = "E41"
            if self.state in (S1, S2):
                self._look_for_fdu()
        elif kind == _BC:  # E43
            self.last_event = "E43"
            if self.state is S5:
                self._look_for_directive()
        else:  # E45
            self.last_event = "E45"
            rid = self._bd_pending.popleft() if self._bd_pending else None
            self._respond(Response.POSITIVE_CONFIRM, Service.BD, rid)

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
