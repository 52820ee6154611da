from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from flightsw.link.clcw import Clcw
from flightsw.link.fop import (
    AlertCode,
    Directive,
    Fop,
    FopNotice,
    FopOutput,
    FopState,
    Response,
    Service,
)

S1, S2, S3, S4, S5, S6 = (
    FopState.ACTIVE,
    FopState.RETRANSMIT_WITHOUT_WAIT,
    FopState.RETRANSMIT_WITH_WAIT,
    FopState.INITIALISING_WITHOUT_BC,
    FopState.INITIALISING_WITH_BC,
    FopState.INITIAL,
)


def clcw(nr: int, r: bool = False, w: bool = False, lockout: bool = False, vcid: int = 0) -> Clcw:
    return Clcw(vcid=vcid, report_value=nr, retransmit=r, wait=w, lockout=lockout)


def active(**kwargs: int | float) -> Fop:
    params: dict[str, int | float] = {"window": 4, "wait_queue_limit": 32, "t1_initial": 1.0}
    params.update(kwargs)
    fop = Fop(**params)  # type: ignore[arg-type]
    fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
    assert fop.state is S1
    fop.take_notices()
    return fop


def of(notices: list[FopNotice], response: Response, service: Service | None = None) -> list[int]:
    return [
        n.request_id or 0
        for n in notices
        if n.response is response and (service is None or n.service is service)
    ]


def alerts(notices: list[FopNotice]) -> list[AlertCode]:
    return [n.alert for n in notices if n.alert is not None]


def seqs(outs: list[FopOutput]) -> list[int]:
    return [o.seq for o in outs if not o.bypass]


# ------------------------------------------------------------------ initial state


def test_starts_in_initial_state_and_rejects_ad() -> None:
    fop = Fop()
    assert fop.state is S6
    rid = fop.transmit_ad(b"a")
    n = fop.take_notices()
    assert of(n, Response.REJECT, Service.AD) == [rid]
    assert fop.take_outputs() == []


def test_initiate_without_clcw_accepts_and_confirms() -> None:
    fop = Fop()
    rid = fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
    n = fop.take_notices()
    assert of(n, Response.ACCEPT) == [rid] and of(n, Response.POSITIVE_CONFIRM) == [rid]
    assert fop.state is S1 and fop.last_event == "E23"


def test_initiate_rejected_when_already_active() -> None:
    fop = active()
    rid = fop.directive(Directive.INITIATE_AD_WITH_CLCW)
    assert of(fop.take_notices(), Response.REJECT) == [rid]
    assert fop.state is S1


# -------------------------------------------------------------------- AD service


def test_ad_frames_numbered_and_held_until_acknowledged() -> None:
    fop = active()
    ids = [fop.transmit_ad(bytes([i])) for i in range(6)]
    out = fop.take_outputs()
    assert seqs(out) == [0, 1, 2, 3]  # K = 4
    assert [o.data for o in out] == [b"\x00", b"\x01", b"\x02", b"\x03"]
    assert fop.vs == 4 and fop.sent_queue_len == 4 and fop.wait_queue_len == 2
    assert of(fop.take_notices(), Response.ACCEPT, Service.AD) == ids[:4]
    assert fop.timer_deadline == pytest.approx(1.0)

    fop.clcw_received(clcw(2))  # E6: frames 0, 1 acknowledged
    assert fop.last_event in ("E6", "E41")
    n = fop.take_notices()
    assert of(n, Response.POSITIVE_CONFIRM, Service.AD) == ids[:2]
    assert of(n, Response.ACCEPT, Service.AD) == ids[4:]
    assert seqs(fop.take_outputs()) == [4, 5]
    assert fop.nnr == 2 and fop.state is S1

    fop.clcw_received(clcw(6))  # E2: everything acknowledged, timer cancelled
    assert of(fop.take_notices(), Response.POSITIVE_CONFIRM, Service.AD) == ids[2:]
    assert fop.sent_queue_len == 0 and fop.timer_deadline is None


def test_e1_and_e5_are_no_ops_in_active() -> None:
    fop = active()
    fop.clcw_received(clcw(0))
    assert fop.last_event == "E1" and fop.state is S1
    fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.clcw_received(clcw(0))
    assert fop.last_event == "E5" and fop.state is S1 and fop.sent_queue_len == 1


def test_wait_queue_full_rejects() -> None:
    fop = active(window=1, wait_queue_limit=1)
    fop.transmit_ad(b"a")  # goes straight to the sent queue
    fop.transmit_ad(b"b")  # waits
    rid = fop.transmit_ad(b"c")
    assert of(fop.take_notices(), Response.REJECT, Service.AD) == [rid]
    assert fop.last_event == "E20"


def test_e8_retransmits_unacknowledged_frames() -> None:
    fop = active()
    for i in range(4):
        fop.transmit_ad(bytes([i]))
    fop.take_outputs()
    fop.clcw_received(clcw(1, r=True))  # frame 0 ok, FARM saw a gap after it
    assert fop.state is S2 and fop.transmission_count == 2
    assert seqs(fop.take_outputs()) == [1, 2, 3]
    assert fop.counters["ad_retransmitted"] == 3


def test_e10_retransmits_then_e12_at_the_limit() -> None:
    fop = active(transmission_limit=2)
    fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.clcw_received(clcw(0, r=True))  # E10: TC 1 < TL 2
    assert fop.last_event in ("E10", "E41") and fop.state is S2
    assert seqs(fop.take_outputs()) == [0]
    fop.clcw_received(clcw(0, r=True))  # S2 ignores E10/E12: T1 drives the rest
    assert fop.state is S2 and fop.take_outputs() == []


def test_e12_moves_active_to_retransmit_without_wait() -> None:
    fop = active(transmission_limit=2)
    fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.tick(1.0)  # E16: retransmission, TC = 2 = TL
    assert fop.transmission_count == 2 and fop.state is S1
    fop.take_outputs()
    fop.clcw_received(clcw(0, r=True))
    assert fop.last_event == "E12" and fop.state is S2


def test_e101_with_transmission_limit_one_alerts_limit() -> None:
    fop = active(transmission_limit=1)
    ids = [fop.transmit_ad(bytes([i])) for i in range(3)]
    fop.take_outputs()
    fop.take_notices()
    fop.clcw_received(clcw(1, r=True))
    assert fop.last_event == "E101" and fop.state is S6
    n = fop.take_notices()
    assert of(n, Response.POSITIVE_CONFIRM, Service.AD) == ids[:1]
    assert of(n, Response.NEGATIVE_CONFIRM, Service.AD) == ids[1:]
    assert alerts(n) == [AlertCode.LIMIT]


def test_e9_waits_without_sending_and_e6_resumes() -> None:
    fop = active()
    for i in range(6):
        fop.transmit_ad(bytes([i]))
    fop.take_outputs()
    fop.clcw_received(clcw(2, r=True, w=True))  # E9: FARM buffer full
    assert fop.last_event == "E9" and fop.state is S3
    assert fop.take_outputs() == []  # nothing new while the FARM waits
    fop.transmit_ad(b"x")
    assert fop.take_outputs() == []
    fop.clcw_received(clcw(4))  # E6
    assert fop.state is S1
    assert seqs(fop.take_outputs()) == [4, 5, 6]


def test_e11_and_e103_enter_retransmit_with_wait() -> None:
    fop = active()
    fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.clcw_received(clcw(0, r=True, w=True))
    assert fop.last_event == "E11" and fop.state is S3
    fop.clcw_received(clcw(0, r=True))  # E10 in S3: retransmit
    assert fop.state is S2 and seqs(fop.take_outputs()) == [0]


@pytest.mark.parametrize(
    ("report", "code", "event"),
    [
        (clcw(7), AlertCode.NNR, "E13"),
        (clcw(1, lockout=True), AlertCode.LOCKOUT, "E14"),
        (clcw(2, w=True), AlertCode.CLCW, "E3"),
        (clcw(1, w=True), AlertCode.CLCW, "E7"),
        (clcw(2, r=True), AlertCode.SYNCH, "E4"),
    ],
)
def test_bad_clcw_alerts_and_purges(report: Clcw, code: AlertCode, event: str) -> None:
    fop = active(window=2)
    ids = [fop.transmit_ad(bytes([i])) for i in range(3)]
    fop.take_outputs()
    fop.take_notices()
    fop.clcw_received(report)
    assert fop.last_event == event and fop.state is S6
    n = fop.take_notices()
    assert alerts(n) == [code]
    assert of(n, Response.NEGATIVE_CONFIRM, Service.AD) == ids[:2]  # sent queue
    assert of(n, Response.REJECT, Service.AD) == ids[2:]  # wait queue
    assert fop.sent_queue_len == 0 and fop.wait_queue_len == 0 and fop.timer_deadline is None


def test_synch_alert_in_retransmit_state() -> None:
    fop = active()
    fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.clcw_received(clcw(0, r=True))
    assert fop.state is S2
    fop.clcw_received(clcw(0))  # E5 in S2: the FARM cleared its flag without accepting
    assert alerts(fop.take_notices()) == [AlertCode.SYNCH]


def test_clcw_of_another_virtual_channel_is_ignored() -> None:
    fop = active()
    fop.clcw_received(clcw(9, lockout=True, vcid=3))
    assert fop.state is S1 and fop.counters["clcw_other_vc"] == 1


def test_clcws_ignored_in_initial_state() -> None:
    fop = Fop()
    fop.clcw_received(clcw(5, lockout=True))
    assert fop.state is S6 and fop.take_notices() == []


# --------------------------------------------------------------------------- T1


def test_timer_retransmits_until_limit_then_alerts() -> None:
    fop = active(transmission_limit=3)
    rid = fop.transmit_ad(b"a")
    assert seqs(fop.take_outputs()) == [0]
    fop.tick(0.5)
    assert fop.take_outputs() == []
    fop.tick(1.0)  # E16
    assert fop.last_event in ("E16", "E41") and seqs(fop.take_outputs()) == [0]
    fop.tick(2.0)  # E16 again (TC 2 < 3)
    assert seqs(fop.take_outputs()) == [0] and fop.transmission_count == 3
    fop.take_notices()
    fop.tick(3.0)  # E17
    assert fop.state is S6
    n = fop.take_notices()
    assert alerts(n) == [AlertCode.T1] and of(n, Response.NEGATIVE_CONFIRM) == [rid]


def test_timeout_type_1_suspends_and_resume_continues() -> None:
    fop = active(transmission_limit=1, timeout_type=1)
    rid = fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.take_notices()
    fop.tick(1.0)  # E18
    assert fop.state is S6 and fop.suspend_state == 1 and fop.sent_queue_len == 1
    n = fop.take_notices()
    assert [x.response for x in n] == [Response.SUSPEND]
    assert fop.transmit_ad(b"b") and of(fop.take_notices(), Response.REJECT) != []
    fop.directive(Directive.SET_TRANSMISSION_LIMIT, 3)
    assert of(fop.take_notices(), Response.POSITIVE_CONFIRM) != []
    fop.directive(Directive.RESUME_AD)  # E31
    assert fop.state is S1 and fop.suspend_state == 0
    assert fop.timer_deadline == pytest.approx(2.0)
    fop.clcw_received(clcw(1))
    assert rid in of(fop.take_notices(), Response.POSITIVE_CONFIRM, Service.AD)


def test_resume_rejected_when_not_suspended() -> None:
    fop = Fop()
    rid = fop.directive(Directive.RESUME_AD)
    assert of(fop.take_notices(), Response.REJECT) == [rid] and fop.last_event == "E30"


def test_timer_ignored_in_retransmit_with_wait() -> None:
    fop = active()
    fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.clcw_received(clcw(0, r=True, w=True))
    assert fop.state is S3
    fop.tick(5.0)
    assert fop.state is S3 and fop.take_outputs() == []


# ------------------------------------------------------------ initialisation S4/S5


def test_initiate_with_clcw_waits_for_clean_clcw() -> None:
    fop = Fop(t1_initial=2.0)
    rid = fop.directive(Directive.INITIATE_AD_WITH_CLCW)
    assert fop.state is S4 and of(fop.take_notices(), Response.ACCEPT) == [rid]
    fop.clcw_received(clcw(0, r=False))
    assert fop.state is S1
    assert of(fop.take_notices(), Response.POSITIVE_CONFIRM) == [rid]
    assert fop.timer_deadline is None


def test_initiate_with_clcw_times_out() -> None:
    fop = Fop(t1_initial=2.0)
    rid = fop.directive(Directive.INITIATE_AD_WITH_CLCW)
    fop.take_notices()
    fop.tick(2.0)
    n = fop.take_notices()
    assert fop.state is S6 and alerts(n) == [AlertCode.T1]
    assert of(n, Response.NEGATIVE_CONFIRM) == [rid]


def test_initiate_with_unlock_sends_bc_and_ignores_lockout_until_done() -> None:
    fop = Fop(t1_initial=1.0, transmission_limit=2)
    rid = fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)
    assert fop.state is S5
    assert fop.take_outputs() == [FopOutput(True, True, 0, b"\x00")]
    fop.clcw_received(clcw(0, lockout=True))  # the Unlock has not arrived yet
    assert fop.state is S5
    fop.tick(1.0)  # E16: BC retransmission
    assert fop.take_outputs() == [FopOutput(True, True, 0, b"\x00")]
    fop.clcw_received(clcw(0))
    assert fop.state is S1 and fop.sent_queue_len == 0
    assert of(fop.take_notices(), Response.POSITIVE_CONFIRM) == [rid]


def test_initiate_with_unlock_gives_up_at_the_limit() -> None:
    fop = Fop(t1_initial=1.0, transmission_limit=1)
    rid = fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)
    fop.take_notices()
    fop.tick(1.0)
    n = fop.take_notices()
    assert fop.state is S6 and alerts(n) == [AlertCode.T1]
    assert of(n, Response.NEGATIVE_CONFIRM) == [rid]


def test_initiate_with_set_vr() -> None:
    fop = Fop()
    fop.directive(Directive.INITIATE_AD_WITH_SET_VR, 200)
    assert fop.state is S5 and fop.vs == 200 and fop.nnr == 200
    assert fop.take_outputs() == [FopOutput(True, True, 0, b"\x82\x00\xc8")]
    fop.clcw_received(clcw(3))  # FARM has not processed it yet: E13 ignored in S5
    assert fop.state is S5
    fop.clcw_received(clcw(200))
    assert fop.state is S1
    fop.transmit_ad(b"a")
    assert seqs(fop.take_outputs()) == [200]


def test_initiate_with_set_vr_rejects_bad_value() -> None:
    fop = Fop()
    rid = fop.directive(Directive.INITIATE_AD_WITH_SET_VR, 256)
    assert of(fop.take_notices(), Response.REJECT) == [rid] and fop.state is S6


def test_set_vs_only_in_initial_state() -> None:
    fop = Fop()
    fop.directive(Directive.SET_VS, 42)
    assert fop.vs == 42 and fop.nnr == 42
    fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
    fop.take_notices()
    rid = fop.directive(Directive.SET_VS, 1)
    assert of(fop.take_notices(), Response.REJECT) == [rid] and fop.vs == 42


def test_terminate_alerts_and_purges() -> None:
    fop = active()
    ad = fop.transmit_ad(b"a")
    fop.take_outputs()
    fop.take_notices()
    rid = fop.directive(Directive.TERMINATE_AD)
    n = fop.take_notices()
    assert fop.state is S6 and alerts(n) == [AlertCode.TERM]
    assert of(n, Response.NEGATIVE_CONFIRM, Service.AD) == [ad]
    assert of(n, Response.POSITIVE_CONFIRM, Service.DIRECTIVE) == [rid]


@pytest.mark.parametrize(
    ("directive", "good", "bad", "attr"),
    [
        (Directive.SET_WINDOW, 7, 0, "k"),
        (Directive.SET_T1_INITIAL, 2.5, -1, "t1_initial"),
        (Directive.SET_TRANSMISSION_LIMIT, 9, 256, "transmission_limit"),
        (Directive.SET_TIMEOUT_TYPE, 1, 2, "timeout_type"),
    ],
)
def test_parameter_directives(directive: Directive, good: float, bad: float, attr: str) -> None:
    fop = Fop()
    ok = fop.directive(directive, good)
    assert getattr(fop, attr) == good
    assert of(fop.take_notices(), Response.POSITIVE_CONFIRM) == [ok]
    rejected = fop.directive(directive, bad)
    assert getattr(fop, attr) == good
    assert of(fop.take_notices(), Response.REJECT) == [rejected]


# -------------------------------------------------------------- BD and lower layer


def test_bd_frames_bypass_everything() -> None:
    fop = Fop()  # BD works even in S6
    rid = fop.transmit_bd(b"cmd")
    assert fop.take_outputs() == [FopOutput(True, False, 0, b"cmd")]
    n = fop.take_notices()
    assert of(n, Response.ACCEPT, Service.BD) == [rid]
    assert of(n, Response.POSITIVE_CONFIRM, Service.BD) == [rid]


def test_full_outbox_stalls_lower_layer_and_rejects_second_bd() -> None:
    fop = Fop(out_limit=1)
    a = fop.transmit_bd(b"1")
    b = fop.transmit_bd(b"2")  # accepted by FOP, stalled in the lower layer
    c = fop.transmit_bd(b"3")  # E22: BD_Out not ready
    n = fop.take_notices()
    assert of(n, Response.REJECT, Service.BD) == [c] and fop.last_event == "E22"
    assert of(n, Response.POSITIVE_CONFIRM, Service.BD) == [a]
    assert [o.data for o in fop.take_outputs()] == [b"1"]
    assert of(fop.take_notices(), Response.POSITIVE_CONFIRM, Service.BD) == [b]
    assert [o.data for o in fop.take_outputs()] == [b"2"]


def test_stalled_ad_frames_flow_when_outbox_drains() -> None:
    fop = active(out_limit=2, window=8)
    for i in range(6):
        fop.transmit_ad(bytes([i]))
    assert seqs(fop.take_outputs()) == [0, 1]
    assert seqs(fop.take_outputs()) == [2, 3]
    assert seqs(fop.take_outputs()) == [4, 5]
    assert fop.sent_queue_len == 6


def test_notices_are_bounded() -> None:
    fop = Fop(notice_limit=3)
    for _ in range(5):
        fop.transmit_ad(b"x")  # each rejected in S6
    assert len(fop.take_notices()) == 3 and fop.counters["notices_dropped"] == 2


def test_sequence_numbers_wrap() -> None:
    fop = Fop(window=4, wait_queue_limit=8)
    fop.directive(Directive.SET_VS, 254)
    fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
    for i in range(4):
        fop.transmit_ad(bytes([i]))
    assert seqs(fop.take_outputs()) == [254, 255, 0, 1]
    fop.clcw_received(clcw(0))  # E6 across the wrap
    assert fop.nnr == 0 and fop.outstanding() == [0, 1]


@pytest.mark.parametrize(
    "kwargs", [{"window": 0}, {"t1_initial": 0}, {"timeout_type": 2}, {"vcid": 64}]
)
def test_bad_configuration(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Fop(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------- stateful fuzz of FOP-1 alone

TERMINAL = {Response.POSITIVE_CONFIRM, Response.NEGATIVE_CONFIRM, Response.REJECT}


class FopFuzz(RuleBasedStateMachine):
    """Random CLCWs, time, requests and directives: FOP-1 stays structurally sound."""

    def __init__(self) -> None:
        super().__init__()
        self.fop = Fop(window=4, wait_queue_limit=3, t1_initial=1.0, transmission_limit=3)
        self.fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
        self.now = 0.0
        self.history: dict[int, list[Response]] = {}
        self.kinds: dict[int, Service] = {}
        self.ad_ids: list[int] = []

    def _collect(self) -> None:
        for n in self.fop.take_notices():
            if n.request_id is not None and n.service is not None:
                self.history.setdefault(n.request_id, []).append(n.response)
                self.kinds[n.request_id] = n.service

    @rule(n=st.integers(1, 8))
    def ad(self, n: int) -> None:
        for _ in range(n):
            self.ad_ids.append(self.fop.transmit_ad(b"a"))

    @rule()
    def restart(self) -> None:
        self.fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)

    @rule()
    def bd(self) -> None:
        self.fop.transmit_bd(b"b")

    @rule(
        dnr=st.integers(-3, 6),
        r=st.booleans(),
        w=st.booleans(),
        lockout=st.booleans(),
        anchor_vs=st.booleans(),
    )
    def report(self, dnr: int, r: bool, w: bool, lockout: bool, anchor_vs: bool) -> None:
        base = self.fop.vs if anchor_vs else self.fop.nnr
        self.fop.clcw_received(clcw((base + dnr) & 0xFF, r, w, lockout and dnr == 5))

    @rule(dt=st.floats(0.0, 2.5))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.fop.tick(self.now)

    @rule(d=st.sampled_from(list(Directive)), value=st.integers(-1, 256))
    def directive(self, d: Directive, value: int) -> None:
        self.fop.directive(d, value)

    @rule()
    def drain(self) -> None:
        for out in self.fop.take_outputs():
            assert 0 <= out.seq <= 255

    @invariant()
    def sent_queue_is_a_contiguous_run_ending_at_vs(self) -> None:
        fop = self.fop
        seqs_ = fop.outstanding()
        if seqs_:
            assert seqs_ == [(seqs_[0] + i) & 0xFF for i in range(len(seqs_))]
            assert (seqs_[-1] + 1) & 0xFF == fop.vs
            assert (seqs_[0] - fop.nnr) & 0xFF <= (fop.vs - fop.nnr) & 0xFF
        if fop.state is S6 and fop.suspend_state == 0:
            assert fop.sent_queue_len == 0 and fop.wait_queue_len == 0
        if fop.state is S6:
            assert fop.timer_deadline is None
        assert fop.wait_queue_len <= fop.wait_queue_limit

    @invariant()
    def every_request_ends_once(self) -> None:
        self._collect()
        for rid, responses in self.history.items():
            assert sum(r in TERMINAL for r in responses) <= 1, (rid, responses)
            if self.kinds[rid] is Service.AD and Response.POSITIVE_CONFIRM in responses:
                assert responses[0] is Response.ACCEPT
        held = set(self.fop.pending_requests())
        for rid in self.ad_ids:  # each AD request is held by FOP-1 xor has ended
            ended = any(r in TERMINAL for r in self.history.get(rid, []))
            assert ended != (rid in held), (rid, self.history.get(rid))


TestFopFuzz = FopFuzz.TestCase
TestFopFuzz.settings = settings(max_examples=150, stateful_step_count=50, deadline=None)
