"""FOP-1's state table (CCSDS 232.1-B-2 Table 5-1, event numbers of Cor. 1) as data.

A row per event, a cell per state S1..S6: the actions FOP-1 takes, in order, and the
state it goes to (None: it stays). :class:`~flightsw.link.fop.Fop` classifies what
happened into an event and runs the cell; it has no other state logic. Actions are the
procedures of §5.2 and the responses to the user (§5.3). Conditions on a directive's
qualifier (a V*(R) out of range, a Set V(S) while suspended) make it an invalid
directive, E40.

Not here: E15 (a CLCW that is not usable: :meth:`Clcw.decode` refuses it and CLCWs of
other virtual channels are counted and ignored) and E42/E44/E46 (the lower procedures
refuse a frame: ours never refuse, they make FOP-1 wait; see the ``fop`` module doc).
"""

from __future__ import annotations

from enum import StrEnum

S1, S2, S3, S4, S5, S6 = 1, 2, 3, 4, 5, 6
STATES = (S1, S2, S3, S4, S5, S6)


class Act(StrEnum):
    """One action of a Table 5-1 cell."""

    ACCEPT = "accept"  # Accept response to the request or directive
    REJECT = "reject"  # Reject response (the reason comes with the event)
    CONFIRM = "confirm"  # Positive Confirm response to the directive
    QUEUE_FDU = "add the FDU to the wait queue"
    TRANSMIT_BD = "transmit a Type-BD frame"
    CONFIRM_BD = "Positive Confirm of the Type-BD frame the lower layer took"
    AD_OUT_READY = "AD_Out_Flag := Ready"
    BC_OUT_READY = "BC_Out_Flag := Ready"
    BD_OUT_READY = "BD_Out_Flag := Ready"
    REMOVE_ACKED = "remove acknowledged frames from the sent queue (§5.2.8)"
    CANCEL_TIMER = "cancel the timer"
    RESTART_TIMER = "restart the timer"
    LOOK_FOR_FDU = "look for FDU (§5.2.10)"
    LOOK_FOR_DIRECTIVE = "look for directive (§5.2.9)"
    RETRANSMIT_AD = "initiate AD retransmission (§5.2.7)"
    RETRANSMIT_BC = "initiate BC retransmission (§5.2.6)"
    RELEASE_BC = "release the copy of the Type-BC frame"
    CONFIRM_INIT = "Positive Confirm of the Initiate AD directive"
    INITIALISE = "initialise (§5.2.14)"
    HOLD_INIT = "the Initiate AD directive waits for its confirmation"
    SEND_UNLOCK = "transmit a Type-BC frame with Unlock"
    SET_VS_TO_VR = "V(S) := NN(R) := V*(R)"
    SEND_SET_VR = "transmit a Type-BC frame with Set V(R)"
    RESUME = "SS := 0 (resume in the suspended state)"
    SET_VS = "V(S) := NN(R) := V*(S)"
    SET_PARAMETER = "set K, T1_Initial, Transmission_Limit or Timeout_Type"
    SUSPEND = "suspend (§5.2.16): SS := the state"
    ALERT_LIMIT = "alert: transmission limit"
    ALERT_T1 = "alert: T1 expired at the transmission limit"
    ALERT_LOCKOUT = "alert: lockout"
    ALERT_SYNCH = "alert: synchronisation"
    ALERT_NNR = "alert: N(R) out of range"
    ALERT_CLCW = "alert: CLCW (wait flag without retransmit)"
    ALERT_TERM = "alert: terminated by directive"


Cell = tuple[tuple[Act, ...], int | None]

IGNORE: Cell = ((), None)


def do(*acts: Act, to: int | None = None) -> Cell:
    return acts, to


def alert(act: Act) -> Cell:
    return (act,), S6


A = Act
_SYNCH, _CLCW, _LIMIT = alert(A.ALERT_SYNCH), alert(A.ALERT_CLCW), alert(A.ALERT_LIMIT)
_T1 = alert(A.ALERT_T1)
_REJECT = do(A.REJECT)
_ACK_ALL = do(A.REMOVE_ACKED, A.CANCEL_TIMER, A.LOOK_FOR_FDU, to=S1)
_ACK_SOME = do(A.REMOVE_ACKED, A.LOOK_FOR_FDU, to=S1)
_RETRANSMIT = do(A.RETRANSMIT_AD, A.LOOK_FOR_FDU, to=S2)
_RETRANSMIT_ACKED = do(A.REMOVE_ACKED, A.RETRANSMIT_AD, A.LOOK_FOR_FDU, to=S2)
_TIMER_AD = do(A.RETRANSMIT_AD, A.LOOK_FOR_FDU)
_TIMER_BC = do(A.RETRANSMIT_BC, A.LOOK_FOR_DIRECTIVE)
_ONLY_S6 = (_REJECT, _REJECT, _REJECT, _REJECT, _REJECT)  # S1..S5 of directives for S6


def _resume(state: int, look: bool) -> tuple[Cell, ...]:
    acts = (A.ACCEPT, A.RESTART_TIMER, A.RESUME, A.CONFIRM) + ((A.LOOK_FOR_FDU,) if look else ())
    return (*_ONLY_S6, do(*acts, to=state))


def _all(cell: Cell) -> tuple[Cell, ...]:
    return (cell,) * 6


FOP_TABLE: dict[str, tuple[Cell, ...]] = {
    # --- CLCW arrives (valid, this VC), §5.3.3 -------------------- S1 .. S6
    "E1": (
        IGNORE,
        _SYNCH,
        _SYNCH,
        do(A.CANCEL_TIMER, A.CONFIRM_INIT, to=S1),
        do(A.RELEASE_BC, A.CANCEL_TIMER, A.CONFIRM_INIT, to=S1),
        IGNORE,
    ),
    "E2": (_ACK_ALL, _ACK_ALL, _ACK_ALL, IGNORE, IGNORE, IGNORE),
    "E3": (_CLCW, _CLCW, _CLCW, _CLCW, _CLCW, IGNORE),
    "E4": (_SYNCH, _SYNCH, _SYNCH, _SYNCH, IGNORE, IGNORE),
    "E5": (IGNORE, _SYNCH, _SYNCH, IGNORE, IGNORE, IGNORE),
    "E6": (_ACK_SOME, _ACK_SOME, _ACK_SOME, IGNORE, IGNORE, IGNORE),
    "E7": (_CLCW, _CLCW, _CLCW, IGNORE, IGNORE, IGNORE),
    "E101": (*(do(A.REMOVE_ACKED, A.ALERT_LIMIT, to=S6),) * 3, IGNORE, IGNORE, IGNORE),
    "E102": (_LIMIT, _LIMIT, _LIMIT, IGNORE, IGNORE, IGNORE),
    "E8": (_RETRANSMIT_ACKED, _RETRANSMIT_ACKED, _RETRANSMIT_ACKED, IGNORE, IGNORE, IGNORE),
    "E9": (*(do(A.REMOVE_ACKED, to=S3),) * 3, IGNORE, IGNORE, IGNORE),
    "E10": (_RETRANSMIT, IGNORE, _RETRANSMIT, IGNORE, IGNORE, IGNORE),
    "E11": (*(do(to=S3),) * 3, IGNORE, IGNORE, IGNORE),
    "E12": (*(do(to=S2),) * 3, IGNORE, IGNORE, IGNORE),
    "E103": (*(do(to=S3),) * 3, IGNORE, IGNORE, IGNORE),
    "E13": (*(alert(A.ALERT_NNR),) * 4, IGNORE, IGNORE),
    "E14": (*(alert(A.ALERT_LOCKOUT),) * 4, IGNORE, IGNORE),
    # --- timer T1 expires, §5.3.4 ---------------------------------
    "E16": (_TIMER_AD, _TIMER_AD, IGNORE, _T1, _TIMER_BC, IGNORE),
    "E104": (_TIMER_AD, _TIMER_AD, IGNORE, do(A.SUSPEND, to=S6), _TIMER_BC, IGNORE),
    "E17": (_T1, _T1, _T1, _T1, _T1, IGNORE),
    "E18": (*(do(A.SUSPEND, to=S6),) * 4, _T1, IGNORE),
    # --- requests to transfer an FDU, §5.3.1 ----------------------
    "E19": (
        do(A.QUEUE_FDU, A.LOOK_FOR_FDU),
        do(A.QUEUE_FDU, A.LOOK_FOR_FDU),
        do(A.QUEUE_FDU),
        _REJECT,
        _REJECT,
        _REJECT,
    ),
    "E20": _all(_REJECT),
    "E21": _all(do(A.ACCEPT, A.TRANSMIT_BD)),
    "E22": _all(_REJECT),
    # --- directives, §5.3.2 ----------------------------------------
    "E23": (*_ONLY_S6, do(A.ACCEPT, A.INITIALISE, A.CONFIRM, to=S1)),
    "E24": (*_ONLY_S6, do(A.ACCEPT, A.INITIALISE, A.HOLD_INIT, A.RESTART_TIMER, to=S4)),
    "E25": (*_ONLY_S6, do(A.ACCEPT, A.INITIALISE, A.HOLD_INIT, A.SEND_UNLOCK, to=S5)),
    "E26": _all(_REJECT),
    "E27": (
        *_ONLY_S6,
        do(A.ACCEPT, A.INITIALISE, A.SET_VS_TO_VR, A.HOLD_INIT, A.SEND_SET_VR, to=S5),
    ),
    "E28": _all(_REJECT),
    "E29": (*(do(A.ACCEPT, A.ALERT_TERM, A.CONFIRM, to=S6),) * 5, do(A.ACCEPT, A.CONFIRM)),
    "E30": _all(_REJECT),
    "E31": _resume(S1, look=True),
    "E32": _resume(S2, look=True),
    "E33": _resume(S3, look=False),
    "E34": _resume(S4, look=False),
    "E35": (*_ONLY_S6, do(A.ACCEPT, A.SET_VS, A.CONFIRM)),
    "E36": _all(do(A.ACCEPT, A.SET_PARAMETER, A.CONFIRM)),
    "E37": _all(do(A.ACCEPT, A.SET_PARAMETER, A.CONFIRM)),
    "E38": _all(do(A.ACCEPT, A.SET_PARAMETER, A.CONFIRM)),
    "E39": _all(do(A.ACCEPT, A.SET_PARAMETER, A.CONFIRM)),
    "E40": _all(_REJECT),
    # --- the lower procedures took a frame, §5.3.5 ----------------
    "E41": (
        do(A.AD_OUT_READY, A.LOOK_FOR_FDU),
        do(A.AD_OUT_READY, A.LOOK_FOR_FDU),
        *(do(A.AD_OUT_READY),) * 4,
    ),
    "E43": (
        *(do(A.BC_OUT_READY),) * 4,
        do(A.BC_OUT_READY, A.LOOK_FOR_DIRECTIVE),
        do(A.BC_OUT_READY),
    ),
    "E45": _all(do(A.BD_OUT_READY, A.CONFIRM_BD)),
}

EVENTS: dict[str, str] = {
    "E1": "CLCW: N(R) = V(S) = NN(R), no retransmit, no wait",
    "E2": "CLCW: N(R) = V(S) != NN(R), no retransmit, no wait",
    "E3": "CLCW: N(R) = V(S), no retransmit, wait",
    "E4": "CLCW: N(R) = V(S), retransmit",
    "E5": "CLCW: N(R) = NN(R) < V(S), no retransmit, no wait",
    "E6": "CLCW: NN(R) < N(R) < V(S), no retransmit, no wait",
    "E7": "CLCW: NN(R) <= N(R) < V(S), no retransmit, wait",
    "E101": "CLCW: NN(R) < N(R) < V(S), retransmit, Transmission_Limit = 1",
    "E102": "CLCW: N(R) = NN(R) < V(S), retransmit, Transmission_Limit = 1",
    "E8": "CLCW: NN(R) < N(R) < V(S), retransmit, no wait, Transmission_Limit > 1",
    "E9": "CLCW: NN(R) < N(R) < V(S), retransmit, wait, Transmission_Limit > 1",
    "E10": "CLCW: N(R) = NN(R) < V(S), retransmit, no wait, Transmission_Count < limit",
    "E11": "CLCW: N(R) = NN(R) < V(S), retransmit, wait, Transmission_Count < limit",
    "E12": "CLCW: N(R) = NN(R) < V(S), retransmit, no wait, Transmission_Count >= limit > 1",
    "E103": "CLCW: N(R) = NN(R) < V(S), retransmit, wait, Transmission_Count >= limit > 1",
    "E13": "CLCW: N(R) outside [NN(R), V(S)]",
    "E14": "CLCW: lockout",
    "E16": "T1 expires, Transmission_Count < Transmission_Limit, Timeout_Type 0",
    "E104": "T1 expires, Transmission_Count < Transmission_Limit, Timeout_Type 1",
    "E17": "T1 expires, Transmission_Count >= Transmission_Limit, Timeout_Type 0",
    "E18": "T1 expires, Transmission_Count >= Transmission_Limit, Timeout_Type 1",
    "E19": "request to transfer an FDU (AD), the wait queue has room",
    "E20": "request to transfer an FDU (AD), the wait queue is full",
    "E21": "request to transfer an FDU (BD), BD_Out ready",
    "E22": "request to transfer an FDU (BD), BD_Out not ready",
    "E23": "Initiate AD without CLCW check",
    "E24": "Initiate AD with CLCW check",
    "E25": "Initiate AD with Unlock, BC_Out ready",
    "E26": "Initiate AD with Unlock, BC_Out not ready",
    "E27": "Initiate AD with Set V(R), BC_Out ready",
    "E28": "Initiate AD with Set V(R), BC_Out not ready",
    "E29": "Terminate AD service",
    "E30": "Resume AD service, SS = 0",
    "E31": "Resume AD service, SS = 1",
    "E32": "Resume AD service, SS = 2",
    "E33": "Resume AD service, SS = 3",
    "E34": "Resume AD service, SS = 4",
    "E35": "Set V(S), SS = 0",
    "E36": "Set FOP sliding window width K",
    "E37": "Set T1_Initial",
    "E38": "Set Transmission_Limit",
    "E39": "Set Timeout_Type",
    "E40": "invalid directive (or qualifier)",
    "E41": "the lower procedures accepted a Type-AD frame",
    "E43": "the lower procedures accepted a Type-BC frame",
    "E45": "the lower procedures accepted a Type-BD frame",
}


# --- which event a CLCW is: the condition columns of Table 5-1 (E1..E14, E101..E103) ---

ALL, SOME, INVALID = "all", "some", "invalid"  # N(R) = V(S); NN(R) <= N(R) < V(S); other
CLCW_CONDITIONS = ("lockout", "nr", "retransmit", "wait", "nr_is_nnr", "limit_one", "below")
"""Lockout flag; where N(R) falls; Retransmit and Wait flags; N(R) = NN(R);
Transmission_Limit = 1; Transmission_Count < Transmission_Limit."""

_OK = dict(lockout=False)  # the rows below all have Lockout clear, but E14
_SOME = dict(_OK, nr=SOME)  # N(R) acknowledges some of the frames outstanding, not all
_RETRY = dict(_SOME, retransmit=True, limit_one=False, nr_is_nnr=True)  # nothing new acked

CLCW_EVENTS: dict[str, dict[str, object]] = {
    # a condition left out is "don't care"; the rows are exclusive and cover every case
    "E1": dict(_OK, nr=ALL, retransmit=False, wait=False, nr_is_nnr=True),
    "E2": dict(_OK, nr=ALL, retransmit=False, wait=False, nr_is_nnr=False),
    "E3": dict(_OK, nr=ALL, retransmit=False, wait=True),
    "E4": dict(_OK, nr=ALL, retransmit=True),
    "E5": dict(_SOME, retransmit=False, wait=False, nr_is_nnr=True),
    "E6": dict(_SOME, retransmit=False, wait=False, nr_is_nnr=False),
    "E7": dict(_SOME, retransmit=False, wait=True),
    "E101": dict(_SOME, retransmit=True, limit_one=True, nr_is_nnr=False),
    "E102": dict(_SOME, retransmit=True, limit_one=True, nr_is_nnr=True),
    "E8": dict(_SOME, retransmit=True, limit_one=False, nr_is_nnr=False, wait=False),
    "E9": dict(_SOME, retransmit=True, limit_one=False, nr_is_nnr=False, wait=True),
    "E10": dict(_RETRY, below=True, wait=False),
    "E11": dict(_RETRY, below=True, wait=True),
    "E12": dict(_RETRY, below=False, wait=False),
    "E103": dict(_RETRY, below=False, wait=True),
    "E13": dict(_OK, nr=INVALID),
    "E14": dict(lockout=True),
}

_VALUES: dict[str, tuple[object, ...]] = {c: (False, True) for c in CLCW_CONDITIONS}
_VALUES["nr"] = (ALL, SOME, INVALID)


def _compile_clcw_events() -> dict[tuple[object, ...], str]:
    """Every combination of the conditions, looked up once: the event whose row matches
    it. A combination no row or two rows match is a defect of the table, found here."""
    import itertools

    out: dict[tuple[object, ...], str] = {}
    for combo in itertools.product(*(_VALUES[c] for c in CLCW_CONDITIONS)):
        facts = dict(zip(CLCW_CONDITIONS, combo, strict=True))
        rows = [e for e, row in CLCW_EVENTS.items() if all(facts[k] == v for k, v in row.items())]
        if len(rows) != 1:
            raise TypeError(f"Table 5-1 CLCW rows {rows} for {facts}: need exactly one")
        out[combo] = rows[0]
    return out


CLCW_EVENT_OF = _compile_clcw_events()
"""(lockout, nr, retransmit, wait, nr_is_nnr, limit_one, below) -> the event."""
