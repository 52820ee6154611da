from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from flightsw.link.clcw import Clcw
from flightsw.link.farm import Farm, FarmResult, FarmState

S1, S2, S3 = FarmState.OPEN, FarmState.WAIT, FarmState.LOCKOUT


def ad(farm: Farm, seq: int, data: bytes = b"x") -> bool:
    return farm.receive(False, False, seq, data).accepted


def unlock(farm: Farm) -> None:
    farm.receive(True, True, 0, b"\x00")


def set_vr(farm: Farm, vr: int) -> None:
    farm.receive(True, True, 0, bytes([0x82, 0x00, vr]))


def farm_in(state: FarmState, vr: int = 10, window: int = 10, buffer_limit: int = 2) -> Farm:
    farm = Farm(window=window, buffer_limit=buffer_limit)
    set_vr(farm, vr)
    if state is S2:
        for _ in range(buffer_limit):
            assert ad(farm, farm.vr)
        assert not ad(farm, farm.vr)
    elif state is S3:
        assert not ad(farm, (vr + 128) & 0xFF)
    assert farm.state is state
    return farm


# --------------------------------------------------------------- Table 6-1, cell by cell


def test_e1_accepts_in_sequence_and_clears_retransmit() -> None:
    farm = farm_in(S1)
    assert not ad(farm, 11)  # E3: sets retransmit
    assert farm.retransmit
    r = farm.receive(False, False, 10, b"a")
    assert (r.event, r.accepted) == ("E1", True)
    assert farm.vr == 11 and not farm.retransmit and farm.state is S1
    assert farm.pull() is not None


def test_e2_in_open_discards_and_enters_wait() -> None:
    farm = farm_in(S1, buffer_limit=1)
    assert ad(farm, 10)
    r = farm.receive(False, False, 11, b"b")
    assert (r.event, r.accepted) == ("E2", False)
    assert farm.state is S2 and farm.wait and farm.retransmit and farm.vr == 11
    assert farm.discarded["buffer_full"] == 1
    c = farm.clcw()
    assert c.wait and c.retransmit and c.report_value == 11 and not c.lockout


def test_e10_buffer_release_leaves_wait_keeping_retransmit() -> None:
    farm = farm_in(S2)
    item = farm.pull()
    assert item is not None and item.data == b"x"
    assert farm.state is S1 and not farm.wait and farm.retransmit
    assert ad(farm, farm.vr)  # E1 again
    assert not farm.retransmit


def test_e3_positive_window() -> None:
    farm = farm_in(S1)  # W=10: PW=5, N(S) = V(R)+1 .. V(R)+4
    for seq in (11, 14):
        r = farm.receive(False, False, seq, b"")
        assert r.event == "E3" and not r.accepted
    assert farm.retransmit and farm.state is S1 and farm.vr == 10
    assert farm.discarded["positive_window"] == 2
    assert farm.receive(False, False, 15, b"").event == "E5"  # V(R)+PW is lockout


def test_e4_negative_window_is_harmless() -> None:
    farm = farm_in(S1)  # NW=5: N(S) = V(R)-5 .. V(R)-1
    for seq in (5, 9):
        r = farm.receive(False, False, seq, b"")
        assert r.event == "E4" and not r.accepted
    assert farm.state is S1 and not farm.retransmit
    assert farm.receive(False, False, 4, b"").event == "E5"


def test_windows_wrap_modulo_256() -> None:
    farm = farm_in(S1, vr=254)
    assert farm.receive(False, False, 1, b"").event == "E3"  # 254+3
    assert farm.receive(False, False, 250, b"").event == "E4"
    assert ad(farm, 254) and ad(farm, 255)
    assert farm.vr == 0
    assert farm.receive(False, False, 255, b"").event == "E4"


@pytest.mark.parametrize("start", [S1, S2])
def test_e5_enters_lockout(start: FarmState) -> None:
    farm = farm_in(start)
    r = farm.receive(False, False, 100, b"")
    assert (r.event, r.accepted) == ("E5", False)
    assert farm.state is S3 and farm.clcw().lockout
    assert farm.discarded["lockout_window"] == 1


def test_lockout_discards_every_ad_frame() -> None:
    farm = farm_in(S3)
    for seq in (10, 11, 9, 200):
        assert not ad(farm, seq)
    assert farm.state is S3 and farm.vr == 10
    assert farm.discarded["lockout"] == 4


@pytest.mark.parametrize("state", [S1, S2, S3])
def test_e6_bd_frames_accepted_in_every_state(state: FarmState) -> None:
    farm = farm_in(state)
    before = farm.farm_b_count
    r = farm.receive(True, False, 0, b"bd")
    assert (r.event, r.accepted) == ("E6", True)
    assert farm.farm_b_count == before + 1 and farm.state is state
    assert farm.clcw().farm_b_counter == (before + 1) & 3


def test_bd_flood_is_bounded_and_counted() -> None:
    farm = Farm(buffer_limit=2, bd_headroom=3)
    results = [farm.receive(True, False, 0, bytes([i])).accepted for i in range(10)]
    assert results.count(True) == 5 and farm.discarded["bd_overflow"] == 5
    assert farm.pending() == 5


@pytest.mark.parametrize("state", [S1, S2, S3])
def test_e7_unlock_returns_to_open_from_any_state(state: FarmState) -> None:
    farm = farm_in(state)
    vr = farm.vr
    unlock(farm)
    assert farm.state is S1 and not farm.wait and not farm.retransmit
    assert not farm.clcw().lockout and farm.vr == vr
    assert farm.unlocks == 1


@pytest.mark.parametrize("state", [S1, S2])
def test_e8_set_vr_in_open_and_wait(state: FarmState) -> None:
    farm = farm_in(state)
    set_vr(farm, 77)
    assert farm.state is S1 and farm.vr == 77 and not farm.retransmit and not farm.wait


def test_e8_set_vr_ignored_in_lockout_but_counted_in_farm_b() -> None:
    farm = farm_in(S3)
    before = farm.farm_b_count
    set_vr(farm, 77)
    assert farm.state is S3 and farm.vr == 10 and farm.farm_b_count == before + 1


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x82\x00", b"\x82\x01\x05", b"\x00\x00"])
def test_e9_invalid_control_commands_discarded(data: bytes) -> None:
    farm = farm_in(S1)
    r = farm.receive(True, True, 0, data)
    assert (r.event, r.accepted) == ("E9", False)
    assert farm.discarded["invalid_control"] == 1 and farm.vr == 10


def test_e10_in_lockout_clears_wait_only() -> None:
    farm = farm_in(S2)
    ad(farm, 200)  # E5 from S2 keeps the Wait flag set
    assert farm.state is S3 and farm.wait
    farm.pull()
    assert farm.state is S3 and not farm.wait


def test_illegal_flag_combination_and_bad_seq_are_invalid_frames() -> None:
    farm = Farm()
    assert farm.receive(False, True, 0, b"").event == "invalid"
    assert farm.receive(False, False, 256, b"").event == "invalid"
    assert farm.invalid_frame().event == "invalid"
    assert farm.discarded["invalid_frame"] == 3 and farm.vr == 0


@pytest.mark.parametrize("kwargs", [{"window": 9}, {"window": 0}, {"window": 256}, {"vcid": 64}])
def test_bad_configuration_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Farm(**kwargs)


# ------------------------------------------------- stateful: against a table-driven model


def model_step(m: dict[str, int | bool], kind: str, seq: int, data: bytes) -> bool:
    """An independent transcription of 232.1-B-2 Table 6-1. Returns whether data is accepted."""
    state = m["state"]
    if kind == "ad":
        d = (seq - int(m["vr"])) % 256
        room = int(m["ad_buffered"]) < int(m["limit"])
        pw, nw = int(m["w"]) // 2, int(m["w"]) // 2
        if d == 0 and room and state == 1:
            event = "E1"
        elif d == 0:
            event = "E2"
        elif d <= pw - 1:
            event = "E3"
        elif d >= 256 - nw:
            event = "E4"
        else:
            event = "E5"
        table: dict[tuple[str, int], tuple[dict[str, int | bool], int]] = {
            ("E1", 1): ({"accept": True, "retransmit": False}, 1),
            ("E1", 3): ({}, 3),
            ("E2", 1): ({"retransmit": True, "wait": True}, 2),
            ("E2", 2): ({"retransmit": True}, 2),
            ("E2", 3): ({}, 3),
            ("E3", 1): ({"retransmit": True}, 1),
            ("E3", 2): ({}, 2),
            ("E3", 3): ({}, 3),
            ("E4", 1): ({}, 1),
            ("E4", 2): ({}, 2),
            ("E4", 3): ({}, 3),
            ("E5", 1): ({}, 3),
            ("E5", 2): ({}, 3),
            ("E5", 3): ({}, 3),
        }
        actions, nxt = table[(event, int(state))]
        m.update({k: v for k, v in actions.items() if k != "accept"})
        m["state"] = nxt
        if actions.get("accept"):
            m["vr"] = (int(m["vr"]) + 1) % 256
            m["ad_buffered"] = int(m["ad_buffered"]) + 1
            return True
        return False
    if kind == "unlock":
        m.update(farm_b=int(m["farm_b"]) + 1, retransmit=False, wait=False, state=1)
        return True
    if kind == "set_vr":
        m["farm_b"] = int(m["farm_b"]) + 1
        if state != 3:
            m.update(retransmit=False, wait=False, state=1, vr=seq)
        return True
    if kind == "release":
        if int(m["ad_buffered"]) > 0:
            m["ad_buffered"] = int(m["ad_buffered"]) - 1
            if m["wait"]:
                m["wait"] = False
                if state == 2:
                    m["state"] = 1
        return False
    raise AssertionError(kind)


class FarmMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.farm = Farm(window=8, buffer_limit=3, bd_headroom=100)
        self.m: dict[str, int | bool] = {
            "state": 1,
            "vr": 0,
            "retransmit": False,
            "wait": False,
            "farm_b": 0,
            "ad_buffered": 0,
            "limit": 3,
            "w": 8,
        }
        self.last_delivered_ad: int | None = None
        # Set V(R) starts a new sequence: remember, per accepted AD frame, whether one
        # came between it and the AD frame accepted before it.
        self.jump_pending = False
        self.accepted_after_jump: list[bool] = []

    def _check_vr_change(self, before: int, accepted: bool) -> None:
        after = self.farm.vr
        assert after == ((before + 1) & 0xFF if accepted else before)
        if accepted:
            self.accepted_after_jump.append(self.jump_pending)
            self.jump_pending = False

    @rule(offset=st.integers(-12, 12), data=st.binary(max_size=4))
    def ad_near(self, offset: int, data: bytes) -> None:
        seq = (self.farm.vr + offset) & 0xFF
        before = self.farm.vr
        accepted = self.farm.receive(False, False, seq, bytes([seq]) + data).accepted
        assert accepted == model_step(self.m, "ad", seq, data)
        self._check_vr_change(before, accepted)

    @rule(seq=st.integers(0, 255))
    def ad_anywhere(self, seq: int) -> None:
        before = self.farm.vr
        accepted = self.farm.receive(False, False, seq, bytes([seq])).accepted
        assert accepted == model_step(self.m, "ad", seq, b"")
        self._check_vr_change(before, accepted)

    @rule()
    def bd(self) -> None:
        state_before, vr_before = self.farm.state, self.farm.vr
        assert self.farm.receive(True, False, 0, b"bd").accepted
        self.m["farm_b"] = int(self.m["farm_b"]) + 1
        assert (self.farm.state, self.farm.vr) == (state_before, vr_before)

    @rule()
    def unlock(self) -> None:
        unlock(self.farm)
        model_step(self.m, "unlock", 0, b"")

    @rule(vr=st.integers(0, 255))
    def set_vr(self, vr: int) -> None:
        was_locked = self.farm.state is S3
        set_vr(self.farm, vr)
        model_step(self.m, "set_vr", vr, b"")
        if not was_locked:
            self.jump_pending = True

    @rule(data=st.binary(max_size=3).filter(lambda b: b != b"\x00" and b[:2] != b"\x82\x00"))
    def bad_control(self, data: bytes) -> None:
        snapshot = self.farm.clcw()
        self.farm.receive(True, True, 0, data)
        assert self.farm.clcw() == snapshot

    @precondition(lambda self: self.farm.pending() > 0)
    @rule()
    def consume(self) -> None:
        was_locked = self.farm.state is S3
        item = self.farm.pull()
        assert item is not None
        if not item.bypass:
            model_step(self.m, "release", 0, b"")
            seq = item.data[0]
            after_jump = self.accepted_after_jump.pop(0)
            if self.last_delivered_ad is not None and not after_jump:
                assert seq == (self.last_delivered_ad + 1) & 0xFF  # in sequence order
            self.last_delivered_ad = seq
        if was_locked:
            assert self.farm.state is S3  # consuming never leaves lockout

    @invariant()
    def matches_model(self) -> None:
        f, m = self.farm, self.m
        assert int(f.state) == m["state"]
        assert f.vr == m["vr"]
        assert f.retransmit == m["retransmit"]
        assert f.wait == m["wait"]
        assert f.farm_b_count == m["farm_b"]

    @invariant()
    def clcw_reflects_state(self) -> None:
        c = self.farm.clcw()
        assert Clcw.decode(c.encode()) == c
        assert c.lockout == (self.farm.state is S3)
        assert c.wait == self.farm.wait and c.retransmit == self.farm.retransmit
        assert c.report_value == self.farm.vr
        if self.farm.state is S2:
            assert c.wait


class LockoutOnlyLeftByUnlock(RuleBasedStateMachine):
    """Once in Lockout, nothing but an Unlock command gets FARM-1 out."""

    def __init__(self) -> None:
        super().__init__()
        self.farm = Farm(window=4, buffer_limit=2)
        self.farm.receive(False, False, 100, b"")
        assert self.farm.state is S3

    @rule(seq=st.integers(0, 255), bypass=st.booleans(), control=st.booleans())
    def frame(self, seq: int, bypass: bool, control: bool) -> None:
        data = bytes([0x82, 0x00, seq]) if control else b"z"
        self.farm.receive(bypass, control, seq, data)
        assert self.farm.state is S3

    @rule()
    def consume(self) -> None:
        self.farm.pull()
        assert self.farm.state is S3


TestFarmMachine = FarmMachine.TestCase
TestFarmMachine.settings = settings(max_examples=100, stateful_step_count=60, deadline=None)
TestLockoutOnlyLeftByUnlock = LockoutOnlyLeftByUnlock.TestCase
TestLockoutOnlyLeftByUnlock.settings = settings(max_examples=30, deadline=None)


@given(
    bypass=st.booleans(),
    control=st.booleans(),
    seq=st.integers(-1000, 1000),
    data=st.binary(max_size=6),
)
def test_any_frame_values_give_a_result_never_an_exception(
    bypass: bool, control: bool, seq: int, data: bytes
) -> None:
    farm = Farm()
    r = farm.receive(bypass, control, seq, data)
    assert isinstance(r, FarmResult)
    assert Clcw.decode(farm.clcw().encode()) == farm.clcw()


def test_peek_leaves_the_fdu_and_a_full_buffer_waits_until_it_is_pulled() -> None:
    farm = Farm(buffer_limit=2)
    for seq in range(3):
        farm.receive(False, False, seq, bytes([seq]))
    assert farm.state is FarmState.WAIT and farm.vr == 2  # the third frame: no room
    first = farm.peek()
    assert first is not None and first.data == b"\x00" and farm.pending() == 2
    assert farm.pull() == first and farm.state is FarmState.OPEN


def test_reset_leaves_lockout_and_keeps_vr_and_acknowledged_fdus() -> None:
    farm = Farm(buffer_limit=2)
    farm.receive(False, False, 0, b"a")
    farm.receive(False, False, 1, b"b")
    farm.receive(False, False, 200, b"x")  # outside both windows: lockout
    assert farm.state is FarmState.LOCKOUT
    farm.reset()
    assert farm.state is FarmState.OPEN and farm.vr == 2 and farm.lockout_resets == 1
    assert [farm.pull().data, farm.pull().data] == [b"a", b"b"]  # type: ignore[union-attr]
    assert farm.receive(False, False, 2, b"c").accepted  # the ground goes on in sequence


def test_reset_never_makes_the_clcw_acknowledge_an_unaccepted_frame() -> None:
    """V(R) near the wrap: the ground has frames 254, 255 and 0 out, FARM-1 took 254 only.
    A reset to V(R) 0 would then accept 0 and report N(R) 1, which FOP-1 reads as 255
    acknowledged too: a TC lost with nobody told. Wait, with the buffer full, stays."""
    farm = Farm(buffer_limit=1)
    farm.receive(True, True, 0, bytes([0x82, 0x00, 254]))  # Set V(R) = 254
    assert farm.receive(False, False, 254, b"a").accepted
    assert not farm.receive(False, False, 255, b"b").accepted  # buffer full: Wait
    farm.reset()
    assert farm.vr == 255 and farm.state is FarmState.WAIT and farm.clcw().wait
    farm.pull()
    assert not farm.receive(False, False, 0, b"c").accepted  # 255 first, then 0
    assert farm.clcw().report_value == 255
