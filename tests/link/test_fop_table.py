"""FOP-1 against CCSDS 232.1-B-2 Table 5-1, every (event, state) cell.

``TABLE_5_1`` below is a transcription of the standard's table made for this test, in
its own words, independent of ``flightsw.link.fop_table`` (which the implementation
runs). For each cell the test puts a FOP-1 in the state (forcing the state where the
situation cannot arise naturally, e.g. outstanding frames in S4), makes the event
happen through the public interface, and checks what can be seen: the state after, the
alert or suspension, acknowledged and (re)transmitted frames, Type-BC frames, the timer,
and the responses to the request or directive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from flightsw.link.clcw import Clcw
from flightsw.link.fop import Directive, Fop, FopNotice, FopState, Response, Service
from flightsw.link.fop_table import FOP_TABLE

# Per event: one cell per state S1..S6, as words: "ack" (acknowledged frames confirmed
# and removed), "cancel" (timer cancelled), "look" (look for an FDU), "retransmit"
# (AD retransmission), "bc-again" (BC retransmission + look for directive), "look-dir"
# (look for directive),
# "release-bc", "confirm-init", "alert <code>", "suspend", "accept", "reject",
# "confirm", "queue", "bd", "confirm-bd", "init", "hold", "unlock", "set-vr",
# "resume", "set-vs", "param", "restart" (timer), "->N" (next state). "" is: ignore.
ALERT = {"synch", "clcw", "limit", "t1", "lockout", "nnr", "term"}
TABLE_5_1: dict[str, list[str]] = {
    "E1": ["", "alert synch", "alert synch", "cancel confirm-init ->1",
           "release-bc cancel confirm-init ->1", ""],
    "E2": ["ack cancel look ->1"] * 3 + [""] * 3,
    "E3": ["alert clcw"] * 5 + [""],
    "E4": ["alert synch"] * 4 + ["", ""],
    "E5": ["", "alert synch", "alert synch", "", "", ""],
    "E6": ["ack look ->1"] * 3 + [""] * 3,
    "E7": ["alert clcw"] * 3 + [""] * 3,
    "E101": ["ack alert limit"] * 3 + [""] * 3,
    "E102": ["alert limit"] * 3 + [""] * 3,
    "E8": ["ack retransmit look ->2"] * 3 + [""] * 3,
    "E9": ["ack ->3"] * 3 + [""] * 3,
    "E10": ["retransmit look ->2", "", "retransmit look ->2", "", "", ""],
    "E11": ["->3"] * 3 + [""] * 3,
    "E12": ["->2"] * 3 + [""] * 3,
    "E103": ["->3"] * 3 + [""] * 3,
    "E13": ["alert nnr"] * 4 + ["", ""],
    "E14": ["alert lockout"] * 4 + ["", ""],
    "E16": ["retransmit look", "retransmit look", "", "alert t1", "bc-again", ""],
    "E104": ["retransmit look", "retransmit look", "", "suspend", "bc-again", ""],
    "E17": ["alert t1"] * 5 + [""],
    "E18": ["suspend"] * 4 + ["alert t1", ""],
    "E19": ["queue look", "queue look", "queue", "reject", "reject", "reject"],
    "E20": ["reject"] * 6,
    "E21": ["accept bd"] * 6,
    "E22": ["reject"] * 6,
    "E23": ["reject"] * 5 + ["accept init confirm ->1"],
    "E24": ["reject"] * 5 + ["accept init hold restart ->4"],
    "E25": ["reject"] * 5 + ["accept init hold unlock ->5"],
    "E26": ["reject"] * 6,
    "E27": ["reject"] * 5 + ["accept init set-vr hold ->5"],
    "E28": ["reject"] * 6,
    "E29": ["accept alert term confirm"] * 5 + ["accept confirm"],
    "E30": ["reject"] * 6,
    "E31": ["reject"] * 5 + ["accept restart resume confirm look ->1"],
    "E32": ["reject"] * 5 + ["accept restart resume confirm look ->2"],
    "E33": ["reject"] * 5 + ["accept restart resume confirm ->3"],
    "E34": ["reject"] * 5 + ["accept restart resume confirm ->4"],
    "E35": ["reject"] * 5 + ["accept set-vs confirm"],
    "E36": ["accept param confirm"] * 6,
    "E37": ["accept param confirm"] * 6,
    "E38": ["accept param confirm"] * 6,
    "E39": ["accept param confirm"] * 6,
    "E40": ["reject"] * 6,
    "E41": ["look", "look", "", "", "", ""],
    "E43": ["", "", "", "", "look-dir", ""],
    "E45": ["confirm-bd"] * 6,
}  # fmt: skip


@dataclass
class Seen:
    """What a cell did, as the user of FOP-1 sees it."""

    state: int
    alert: str = ""
    suspended: bool = False
    acked: bool = False
    ad_again: bool = False  # an AD frame sent again
    ad_new: bool = False  # a new AD frame sent
    bc: bool = False  # a Type-BC frame sent
    bd_confirmed: bool = False
    init_confirmed: bool = False
    bc_released: bool = False
    timer: str = "kept"  # "kept", "cancelled" or "restarted"
    responses: list[Response] = field(default_factory=list)  # to the event's request


def expected(words: str, state: int, request_kind: str, running: bool, expired: bool) -> Seen:
    """What the cell's words make visible. ``running``: the timer ran before the event;
    ``expired``: the event is its expiry (it stops before the cell runs)."""
    w = words.split()
    nxt = next((int(x[2:]) for x in w if x.startswith("->")), state)
    stopped = "cancelled" if running else "kept"
    seen = Seen(nxt, timer=stopped if expired else "kept")
    if "alert" in w:
        seen.alert, seen.state = w[w.index("alert") + 1], 6
        seen.timer = stopped
    if "suspend" in w:
        seen.suspended, seen.state, seen.timer = True, 6, stopped
    seen.acked = "ack" in w
    seen.bc_released = "release-bc" in w
    seen.init_confirmed = "confirm-init" in w
    seen.bd_confirmed = "confirm-bd" in w
    if "cancel" in w:
        seen.timer = stopped
    if "restart" in w or "retransmit" in w or "bc-again" in w:
        seen.timer = "restarted"
    if "retransmit" in w and "look" in w:
        seen.ad_again = True
    room = "ack" in w or "retransmit" not in w  # K is full until frames are acknowledged
    if "look" in w and request_kind in ("look-new", "ad") and room:
        seen.ad_new = True
        seen.timer = "restarted"
    if "bc-again" in w or "look-dir" in w or "unlock" in w or "set-vr" in w:
        seen.bc = True
    if "unlock" in w or "set-vr" in w:
        seen.timer = "restarted"
    for word, response in (
        ("accept", Response.ACCEPT),
        ("reject", Response.REJECT),
        ("confirm", Response.POSITIVE_CONFIRM),
    ):
        if word in w:
            seen.responses.append(response)
    if request_kind == "ad" and "queue" in w and "look" in w:
        seen.responses = [Response.ACCEPT]  # the FDU left the wait queue at once
    if "bd" in w or "confirm-bd" in w:  # the BD request's Accept, its frame taken at once
        seen.responses = [Response.ACCEPT, Response.POSITIVE_CONFIRM]
        seen.bd_confirmed = True
    if "hold" in w:
        seen.responses = [Response.ACCEPT]  # confirmed later, by a CLCW
    return seen


# --- putting FOP-1 in a state and making an event happen -------------------------------

CLCW_EVENTS = {"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11", "E12"}
CLCW_EVENTS |= {"E13", "E14", "E101", "E102", "E103"}


def clcw_for(event: str, fop: Fop) -> Clcw:
    vs, nnr = fop.vs, fop.nnr
    nr, r, w, lockout = {
        "E1": (vs, False, False, False),
        "E2": (vs, False, False, False),
        "E3": (vs, False, True, False),
        "E4": (vs, True, False, False),
        "E5": (nnr, False, False, False),
        "E6": (nnr + 1, False, False, False),
        "E7": (nnr, False, True, False),
        "E101": (nnr + 1, True, False, False),
        "E102": (nnr, True, False, False),
        "E8": (nnr + 1, True, False, False),
        "E9": (nnr + 1, True, True, False),
        "E10": (nnr, True, False, False),
        "E11": (nnr, True, True, False),
        "E12": (nnr, True, False, False),
        "E103": (nnr, True, True, False),
        "E13": (vs + 7, False, False, False),
        "E14": (nnr, False, False, True),
    }[event]
    return Clcw(vcid=0, report_value=nr & 0xFF, retransmit=r, wait=w, lockout=lockout)


def active(outstanding: int, limit: int = 3, waiting: int = 0, out_limit: int = 16) -> Fop:
    """Active (S1), ``outstanding`` AD frames sent, ``waiting`` FDUs held by K, at t=0.5."""
    fop = Fop(
        window=max(outstanding, 1),
        wait_queue_limit=8,
        t1_initial=1.0,
        transmission_limit=limit,
        out_limit=out_limit,
    )
    fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
    for i in range(outstanding + waiting):
        fop.transmit_ad(bytes([i]))
    fop.take_outputs()
    fop.tick(0.5)
    return fop


def initialising(state: int, limit: int = 3, timeout_type: int = 0) -> Fop:
    """S4 (Initiate AD with CLCW check) or S5 (with Unlock), the directive pending."""
    fop = Fop(t1_initial=1.0, transmission_limit=limit, timeout_type=timeout_type)
    how = Directive.INITIATE_AD_WITH_CLCW if state == 4 else Directive.INITIATE_AD_WITH_UNLOCK
    fop.directive(how)
    fop.take_outputs()
    fop.tick(0.5)
    assert fop.state == state
    return fop


def force(fop: Fop, state: int) -> Fop:
    fop.state = FopState(state)
    return fop


@dataclass
class Case:
    fop: Fop
    fire: Callable[[], int | None]  # makes the event happen; the request id, if any
    kind: str = ""  # "ad" (a request), "look-new" (an FDU waits for room), ""
    timer_event: bool = False  # T1 expires: the timer stops before the cell runs


def case(event: str, state: int) -> Case:
    if event in CLCW_EVENTS:
        natural = state in (4, 5) and event in ("E1", "E3", "E4", "E13", "E14")
        if natural:
            fop = initialising(state)
        else:
            limit = 1 if event in ("E101", "E102") else 2 if event in ("E12", "E103") else 3
            outstanding = 0 if event == "E1" else 3
            fop = force(active(outstanding, limit, waiting=1 if outstanding else 0), state)
            if event in ("E12", "E103"):
                fop.transmission_count = limit
        report = clcw_for(event, fop)
        return Case(
            fop, lambda: fop.clcw_received(report), "look-new" if fop.wait_queue_len else ""
        )
    if event in ("E16", "E104", "E17", "E18"):
        at_limit = event in ("E17", "E18")
        timeout_type = 1 if event in ("E104", "E18") else 0
        if state in (4, 5):
            fop = initialising(state, limit=1 if at_limit else 3, timeout_type=timeout_type)
        else:
            fop = force(active(2, limit=1 if at_limit else 3), state)
            fop.timeout_type = timeout_type
        deadline = fop.timer_deadline if fop.timer_deadline is not None else 1.0
        fop.timer_deadline = deadline  # S6: a timer left running, to show it is ignored

        def expire() -> None:
            fop.tick(deadline)

        return Case(fop, expire, timer_event=True)
    if event in ("E19", "E20"):
        fop = active(1, waiting=1 if event == "E20" else 0)
        if event == "E19":
            fop.k = 2  # room for the FDU, so that "look" sends it
        else:
            fop.wait_queue_limit = 1
        force(fop, state)
        return Case(fop, lambda: fop.transmit_ad(b"new"), "ad")
    if event in ("E21", "E22"):
        fop = force(active(0, out_limit=1), state)
        if event == "E22":
            fop.transmit_bd(b"1")
            fop.transmit_bd(b"2")  # stalls: BD_Out not ready
            fop.take_notices()
        return Case(fop, lambda: fop.transmit_bd(b"x"))
    if "E23" <= event <= "E40" and len(event) == 3:
        return directive_case(event, state)
    return lower_case(event, state)


def directive_case(event: str, state: int) -> Case:
    fop = force(active(1, waiting=1), state) if state != 6 else Fop(t1_initial=1.0)
    if state == 6:
        fop.tick(0.5)
    d, value = {
        "E23": (Directive.INITIATE_AD_WITHOUT_CLCW, 0),
        "E24": (Directive.INITIATE_AD_WITH_CLCW, 0),
        "E25": (Directive.INITIATE_AD_WITH_UNLOCK, 0),
        "E26": (Directive.INITIATE_AD_WITH_UNLOCK, 0),
        "E27": (Directive.INITIATE_AD_WITH_SET_VR, 9),
        "E28": (Directive.INITIATE_AD_WITH_SET_VR, 9),
        "E29": (Directive.TERMINATE_AD, 0),
        "E35": (Directive.SET_VS, 7),
        "E36": (Directive.SET_WINDOW, 3),
        "E37": (Directive.SET_T1_INITIAL, 2.0),
        "E38": (Directive.SET_TRANSMISSION_LIMIT, 4),
        "E39": (Directive.SET_TIMEOUT_TYPE, 1),
        "E40": (Directive.SET_WINDOW, 0),
    }.get(event, (Directive.RESUME_AD, 0))
    if event in ("E26", "E28"):
        fop._ready["bc"] = False  # a Type-BC frame the lower layer has not taken
    if "E30" <= event <= "E34":
        fop.suspend_state = int(event[1:]) - 30  # as a timeout in S1..S4 would leave it
    return Case(fop, lambda: fop.directive(d, value))


def lower_case(event: str, state: int) -> Case:
    if event == "E41":  # an AD frame stalled in the lower layer is taken in ``state``
        fop = active(0, out_limit=1)
        fop.k = 3
        fop.transmit_bd(b"bd")
        fop.transmit_ad(b"a")  # stalls: the outbox holds the BD frame
        fop.transmit_ad(b"b")  # waits: AD_Out not ready
        fop.take_notices()
        fop.tick(0.9)
        force(fop, state)
        return Case(fop, lambda: len(fop.take_outputs()) and None, "look-new")
    if event == "E43":  # a Type-BC frame stalled in the lower layer is taken in ``state``
        fop = Fop(t1_initial=1.0, out_limit=1)
        fop.transmit_bd(b"bd")
        fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)  # BC stalls
        fop.tick(0.5)
        for sent in fop._sent:  # marked to go again while the lower layer still holds it
            sent.to_be_retransmitted = sent.control
        fop.take_notices()
        force(fop, state)
        return Case(fop, lambda: len(fop.take_outputs()) and None)
    fop = force(active(0), state)  # E45
    return Case(fop, lambda: fop.transmit_bd(b"x"))


def observe(c: Case) -> tuple[Seen, bool]:
    """What firing the case's event made visible, and whether the timer was running."""
    fop = c.fop
    counters = dict(fop.counters)
    deadline = fop.timer_deadline
    pending_init = fop._pending_init
    had_bc = any(s.control for s in fop._sent)
    fop.take_notices()
    rid = c.fire()
    notices: list[FopNotice] = fop.take_notices()
    seen = Seen(int(fop.state))
    for n in notices:
        if n.response is Response.ALERT and n.alert is not None:
            seen.alert = n.alert.value
        if n.response is Response.SUSPEND:
            seen.suspended = True
        if n.response is Response.POSITIVE_CONFIRM and n.service is Service.AD:
            seen.acked = True
        if n.response is Response.POSITIVE_CONFIRM and n.service is Service.BD:
            seen.bd_confirmed = True
        if n.request_id is not None and n.request_id == pending_init:
            seen.init_confirmed = n.response is Response.POSITIVE_CONFIRM
        if rid is not None and n.request_id == rid and n.response is not Response.ALERT:
            seen.responses.append(n.response)
    seen.ad_new = fop.counters["ad_sent"] > counters["ad_sent"]
    seen.ad_again = fop.counters["ad_retransmitted"] > counters["ad_retransmitted"]
    seen.bc = fop.counters["bc_sent"] > counters["bc_sent"]
    seen.bc_released = had_bc and not any(s.control for s in fop._sent) and not seen.alert
    if fop.timer_deadline is None:
        seen.timer = "kept" if deadline is None else "cancelled"
    elif deadline is None or fop.timer_deadline > deadline:
        seen.timer = "restarted"
    return seen, deadline is not None


CELLS = [(e, s) for e in TABLE_5_1 for s in range(1, 7)]


@pytest.mark.parametrize(("event", "state"), CELLS, ids=[f"{e}-S{s}" for e, s in CELLS])
def test_every_cell_of_table_5_1(event: str, state: int) -> None:
    c = case(event, state)
    seen, running = observe(c)
    assert c.fop.last_event in (event, "E41", "E43", "E45")  # lower-layer events follow
    want = expected(TABLE_5_1[event][state - 1], state, c.kind, running, c.timer_event)
    assert seen == want, (event, state, TABLE_5_1[event][state - 1])


def test_the_cell_test_covers_the_whole_table() -> None:
    assert set(TABLE_5_1) == set(FOP_TABLE)
    assert all(len(cells) == 6 for cells in FOP_TABLE.values())


def test_the_clcw_condition_rows_are_exclusive_and_each_is_reachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLCW events are looked up from the condition columns of Table 5-1: every
    combination of conditions has exactly one row, and every row is some combination's."""
    from flightsw.link import fop_table

    assert set(fop_table.CLCW_EVENT_OF.values()) == set(fop_table.CLCW_EVENTS)
    assert set(fop_table.CLCW_EVENTS) == {f"E{n}" for n in range(1, 15)} | {"E101", "E102", "E103"}
    overlapping = dict(fop_table.CLCW_EVENTS, E2=dict(lockout=False, nr=fop_table.ALL))
    monkeypatch.setattr(fop_table, "CLCW_EVENTS", overlapping)
    with pytest.raises(TypeError, match="exactly one"):
        fop_table._compile_clcw_events()
    gap = {k: v for k, v in fop_table.CLCW_EVENTS.items() if k != "E13"}
    monkeypatch.setattr(fop_table, "CLCW_EVENTS", gap)
    with pytest.raises(TypeError, match="exactly one"):
        fop_table._compile_clcw_events()
