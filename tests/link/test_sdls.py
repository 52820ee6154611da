from __future__ import annotations

import contextlib
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.base.errors import FlightswError
from flightsw.link.sdls import (
    Authenticated,
    KeyCommand,
    KeyState,
    Mode,
    SaState,
    SdlsError,
    SdlsReason,
    SdlsStateError,
    SdlsTc,
    SdlsTm,
    SecurityAssociation,
    key_command_activate,
    key_command_deactivate,
    key_command_load,
    key_command_resync,
    key_command_set_arsn,
)

HDR = bytes([0x20, 0x2A, 0x04, 0x1F, 0x07])  # a TC primary header (values do not matter)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
MASTER = bytes(range(100, 132))
MODES: list[Mode] = ["hmac-sha256", "aes-gcm"]


def pair(mode: Mode, **kw: int) -> tuple[SdlsTc, SdlsTc]:
    """(ground, flight) sharing SA 1 (data, given mode) and SA 9 (key management)."""

    def make() -> SdlsTc:
        return SdlsTc(
            [
                SecurityAssociation(1, KEY, mode, **kw),  # type: ignore[arg-type]
                SecurityAssociation(9, OTHER_KEY, "hmac-sha256", key_management=True),
            ],
            master_key=MASTER,
        )

    return make(), make()


def reason_of(fn: object, *args: object) -> SdlsReason:
    with pytest.raises(SdlsError) as exc:
        fn(*args)  # type: ignore[operator]
    return exc.value.reason


@pytest.mark.parametrize("mode", MODES)
def test_good_frames_verify(mode: Mode) -> None:
    ground, flight = pair(mode)
    for i in range(5):
        data = bytes([i]) * (i + 1)
        body = ground.protect(HDR, data, 1)
        assert len(body) == 2 + 4 + len(data) + 16
        assert body[:2] == b"\x00\x01" and int.from_bytes(body[2:6], "big") == i + 1
        assert body[6 : 6 + len(data)] == data  # authentication only: data in clear
        assert flight.verify(HDR, body) == data
    assert flight.counters["verified"] == 5 and ground.counters["protected"] == 5


def test_hmac_layout_matches_an_independent_computation() -> None:
    ground, _ = pair("hmac-sha256")
    body = ground.protect(HDR, b"hello", 1)
    sec = b"\x00\x01" + (1).to_bytes(4, "big")
    mac = hmac.new(KEY, HDR + sec + b"hello", hashlib.sha256).digest()[:16]
    assert body == sec + b"hello" + mac


def test_gcm_layout_matches_an_independent_computation() -> None:
    ground, _ = pair("aes-gcm")
    body = ground.protect(HDR, b"hello", 1)
    sec = b"\x00\x01" + (1).to_bytes(4, "big")
    iv = bytes(8) + (1).to_bytes(4, "big")
    tag = AESGCM(KEY).encrypt(iv, b"", HDR + sec + b"hello")
    assert body == sec + b"hello" + tag


@pytest.mark.parametrize("mode", MODES)
def test_same_data_gets_fresh_arsn_and_mac(mode: Mode) -> None:
    ground, _ = pair(mode)
    a, b = ground.protect(HDR, b"x", 1), ground.protect(HDR, b"x", 1)
    assert a[2:6] != b[2:6] and a[-16:] != b[-16:]


@pytest.mark.parametrize("mode", MODES)
@given(st.data())
def test_any_bit_flip_is_rejected(mode: Mode, data: st.DataObject) -> None:
    ground, flight = pair(mode)
    payload = data.draw(st.binary(min_size=1, max_size=20))
    body = ground.protect(HDR, payload, 1)
    frame = bytearray(HDR + body)
    pos = data.draw(st.integers(0, len(frame) - 1))
    frame[pos] ^= 1 << data.draw(st.integers(0, 7))
    hdr, forged = bytes(frame[:5]), bytes(frame[5:])
    reason = reason_of(flight.verify, hdr, forged)
    if 5 <= pos < 7:  # the SPI: now names an SA that does not exist (or the wrong one)
        assert reason in (SdlsReason.UNKNOWN_SPI, SdlsReason.BAD_MAC)
    else:
        assert reason is SdlsReason.BAD_MAC
    assert flight.counters[reason.value] == 1 and flight.counters["verified"] == 0
    assert flight.verify(HDR, body) == payload  # the forgery did not spoil the real one


@pytest.mark.parametrize("mode", MODES)
def test_replay_rejected_and_counted(mode: Mode) -> None:
    ground, flight = pair(mode)
    body = ground.protect(HDR, b"cmd", 1)
    flight.verify(HDR, body)
    assert reason_of(flight.verify, HDR, body) is SdlsReason.REPLAY
    assert reason_of(flight.verify, HDR, body) is SdlsReason.REPLAY
    assert flight.counters["replay"] == 2


def test_window_accepts_reordered_frames_once() -> None:
    ground, flight = pair("hmac-sha256", arsn_window=4)
    frames = [ground.protect(HDR, bytes([i]), 1) for i in range(6)]
    assert flight.verify(HDR, frames[4]) == b"\x04"  # ARSN 5 arrives first
    assert flight.verify(HDR, frames[2]) == b"\x02"  # 3: within the window, unseen
    assert flight.verify(HDR, frames[1]) == b"\x01"  # 2: 5 - 2 = 3 < 4
    assert reason_of(flight.verify, HDR, frames[0]) is SdlsReason.REPLAY  # 1: too old
    assert reason_of(flight.verify, HDR, frames[2]) is SdlsReason.REPLAY  # seen
    assert flight.verify(HDR, frames[3]) == b"\x03"
    assert flight.verify(HDR, frames[5]) == b"\x05"


def test_window_zero_is_strictly_increasing() -> None:
    ground, flight = pair("hmac-sha256", arsn_window=0)
    a, b = ground.protect(HDR, b"a", 1), ground.protect(HDR, b"b", 1)
    flight.verify(HDR, b)
    assert reason_of(flight.verify, HDR, a) is SdlsReason.REPLAY


def test_big_arsn_jump_is_cheap() -> None:
    ground, flight = pair("hmac-sha256", arsn_len=8)
    for _ in range(3):
        ground.protect(HDR, b"skip", 1)
    ground._sas[1].send = 2**63  # as if the ground had sent that many
    flight.verify(HDR, ground.protect(HDR, b"far", 1))
    assert flight._sas[1].seen == 1


@pytest.mark.parametrize("mode", MODES)
def test_truncated_frames(mode: Mode) -> None:
    ground, flight = pair(mode)
    body = ground.protect(HDR, b"abc", 1)
    for cut in (0, 1, 2, 6, 2 + 4 + 16 - 1):
        assert reason_of(flight.verify, HDR, body[:cut]) is SdlsReason.TRUNCATED
    # shorter than the whole frame but long enough: the MAC no longer matches
    assert reason_of(flight.verify, HDR, body[:-1]) is SdlsReason.BAD_MAC
    assert flight.counters["truncated"] == 5


def test_unknown_spi_and_bad_header() -> None:
    ground, flight = pair("hmac-sha256")
    body = ground.protect(HDR, b"abc", 1)
    assert reason_of(flight.verify, HDR, b"\x00\x07" + body[2:]) is SdlsReason.UNKNOWN_SPI
    assert reason_of(flight.verify, HDR[:4], body) is SdlsReason.BAD_HEADER
    assert reason_of(ground.protect, HDR, b"x", 7) is SdlsReason.UNKNOWN_SPI
    assert reason_of(ground.protect, HDR + b"\x00", b"x", 1) is SdlsReason.BAD_HEADER
    assert flight.counters["unknown_spi"] == 1 and flight.counters["bad_header"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_wrong_key_rejected(mode: Mode) -> None:
    intruder = SdlsTc([SecurityAssociation(1, OTHER_KEY, mode)])
    _, flight = pair(mode)
    assert reason_of(flight.verify, HDR, intruder.protect(HDR, b"x", 1)) is SdlsReason.BAD_MAC


def test_header_is_authenticated() -> None:
    ground, flight = pair("aes-gcm")
    body = ground.protect(HDR, b"x", 1)
    other_header = bytes([0x20, 0x2A, 0x08, 0x1F, 0x07])  # another VCID
    assert reason_of(flight.verify, other_header, body) is SdlsReason.BAD_MAC


def test_arsn_exhaustion_refuses_to_send() -> None:
    ground, _ = pair("hmac-sha256", arsn_len=1)
    for _ in range(255):
        ground.protect(HDR, b"x", 1)
    assert reason_of(ground.protect, HDR, b"x", 1) is SdlsReason.ARSN_EXHAUSTED


@pytest.mark.parametrize("mode", MODES)
@given(hdr=st.binary(max_size=8), body=st.binary(max_size=64))
def test_garbage_raises_only_sdls_error(mode: Mode, hdr: bytes, body: bytes) -> None:
    _, flight = pair(mode)
    with contextlib.suppress(SdlsError):
        flight.verify(hdr, body)
    with contextlib.suppress(SdlsError):
        flight.verify(HDR, b"\x00\x01" + body)  # a known SPI, garbage after it


@pytest.mark.parametrize(
    "kwargs",
    [
        {"spi": 0},
        {"spi": 0xFFFF},
        {"mode": "aes-gcm", "key": bytes(20)},
        {"key": bytes(8)},
        {"mac_len": 8},
        {"mode": "aes-gcm", "mac_len": 20},
        {"mode": "aes-gcm", "arsn_len": 2},
        {"mode": "aes-gcm", "iv_fixed": bytes(3)},
        {"mode": "des"},
        {"arsn_len": 9},
    ],
)
def test_bad_security_associations(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"spi": 1, "key": KEY}
    args.update(kwargs)
    with pytest.raises(ValueError):
        SecurityAssociation(**args)  # type: ignore[arg-type]


def test_sdls_error_is_a_project_error() -> None:
    err = SdlsError(SdlsReason.REPLAY, "old", 3)
    assert isinstance(err, FlightswError) and "SPI 3" in str(err) and "replay" in str(err)


# ----------------------------------------------------------------- key management


def send_key_command(ground: SdlsTc, flight: SdlsTc, command: bytes) -> KeyCommand:
    """Ground protects under the key-management SA; both sides apply the verified command."""
    body = ground.protect(HDR, command, 9)
    result = flight.handle_key_command(flight.verify_authenticated(HDR, body))
    assert ground.handle_key_command(ground.verify_authenticated(HDR, body)) is result
    return result


@pytest.mark.parametrize("mode", MODES)
def test_rekey_over_authenticated_commands(mode: Mode) -> None:
    ground, flight = pair(mode)
    old_frame = ground.protect(HDR, b"old", 1)
    new_key = bytes(range(200, 232))
    assert send_key_command(ground, flight, key_command_load(1, new_key, MASTER)) is (
        KeyCommand.LOAD
    )
    assert flight.has_pending_key(1)
    assert flight.verify(HDR, old_frame) == b"old"  # loaded is not active yet
    assert send_key_command(ground, flight, key_command_activate(1)) is KeyCommand.ACTIVATE
    assert not flight.has_pending_key(1) and ground.arsn_sent(1) == 0
    fresh = ground.protect(HDR, b"new", 1)
    assert int.from_bytes(fresh[2:6], "big") == 1  # ARSN restarted with the new key
    assert flight.verify(HDR, fresh) == b"new"
    stale = SdlsTc([SecurityAssociation(1, KEY, mode)]).protect(HDR, b"stale", 1)
    assert reason_of(flight.verify, HDR, stale) is SdlsReason.BAD_MAC  # old key is dead
    assert flight.counters["key_commands"] == 2


def test_deactivate_makes_sa_non_operational() -> None:
    ground, flight = pair("hmac-sha256")
    frame = ground.protect(HDR, b"x", 1)
    send_key_command(ground, flight, key_command_deactivate(1))
    assert flight.key_state(1) is KeyState.DEACTIVATED
    assert reason_of(flight.verify, HDR, frame) is SdlsReason.SA_NOT_OPERATIONAL
    assert reason_of(ground.protect, HDR, b"x", 1) is SdlsReason.SA_NOT_OPERATIONAL
    send_key_command(ground, flight, key_command_load(1, bytes(range(50, 82)), MASTER))
    send_key_command(ground, flight, key_command_activate(1))
    assert flight.key_state(1) is KeyState.ACTIVE
    assert flight.verify(HDR, ground.protect(HDR, b"y", 1)) == b"y"


def test_key_commands_need_a_key_management_sa() -> None:
    ground, flight = pair("hmac-sha256")
    body = ground.protect(HDR, key_command_deactivate(1), 1)  # data SA, not key management
    token = flight.verify_authenticated(HDR, body)
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND
    assert flight.key_state(1) is KeyState.ACTIVE


def test_forged_or_foreign_tokens_are_refused() -> None:
    ground, flight = pair("hmac-sha256")
    forged = Authenticated(9, 1, key_command_deactivate(1), True, object())
    assert reason_of(flight.handle_key_command, forged) is SdlsReason.BAD_KEY_COMMAND
    other = SdlsTc([SecurityAssociation(9, OTHER_KEY, key_management=True)])
    foreign = other.verify_authenticated(HDR, ground.protect(HDR, key_command_deactivate(1), 9))
    assert reason_of(flight.handle_key_command, foreign) is SdlsReason.BAD_KEY_COMMAND
    assert flight.key_state(1) is KeyState.ACTIVE
    assert flight.counters["bad_key_command"] == 2


@pytest.mark.parametrize(
    "command",
    [
        b"",
        b"\x07\x00\x01",
        b"\x02\x00\x01",  # activate with nothing loaded
        b"\x02\x00\x05",  # unknown SPI
        b"\x03\x00\x09",  # deactivate the key-management SA itself
        b"\x03\x00\x01\x00",  # trailing octet
        b"\x01\x00\x01" + bytes(40),  # does not unwrap under the master key
        b"\x01\x00\x01" + bytes(7),
    ],
)
def test_bad_key_commands(command: bytes) -> None:
    ground, flight = pair("hmac-sha256")
    token = flight.verify_authenticated(HDR, ground.protect(HDR, command, 9))
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND
    assert flight.key_state(1) is KeyState.ACTIVE and not flight.has_pending_key(1)


def test_wrapped_key_of_wrong_size_for_the_sa() -> None:
    ground, flight = pair("aes-gcm")
    command = key_command_load(1, bytes(range(40)), MASTER)  # 40 octets: not an AES key
    token = flight.verify_authenticated(HDR, ground.protect(HDR, command, 9))
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND


def test_load_needs_a_master_key() -> None:
    ground, _ = pair("hmac-sha256")
    flight = SdlsTc([SecurityAssociation(9, OTHER_KEY, key_management=True)])
    token = flight.verify_authenticated(
        HDR, ground.protect(HDR, key_command_load(9, KEY, MASTER), 9)
    )
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND


@given(st.binary(max_size=48))
def test_random_key_commands_raise_only_sdls_error(command: bytes) -> None:
    ground, flight = pair("hmac-sha256")
    token = flight.verify_authenticated(HDR, ground.protect(HDR, command, 9))
    with contextlib.suppress(SdlsError):
        flight.handle_key_command(token)


# ------------------------------------------------------------- set ARSN (355.1)


def test_set_arsn_reopens_an_uplink_closed_by_a_far_ahead_arsn() -> None:
    ground, flight = pair("hmac-sha256")
    sent = [ground.protect(HDR, bytes([i]), 1) for i in range(5)]
    for body in sent:
        flight.verify(HDR, body)
    ground._sas[1].send = 2**32 - 2  # a ground fault: one frame far ahead
    flight.verify(HDR, ground.protect(HDR, b"far", 1))
    ground._sas[1].send = 5  # the ground's real counter
    assert reason_of(flight.verify, HDR, ground.protect(HDR, b"x", 1)) is SdlsReason.REPLAY
    assert send_key_command(ground, flight, key_command_set_arsn(1, 6)) is KeyCommand.SET_ARSN
    assert flight.arsn_received(1) == 6
    assert flight.verify(HDR, ground.protect(HDR, b"ok", 1)) == b"ok"  # ARSN 7
    for body in sent:  # nothing the ground sent before becomes acceptable again
        assert reason_of(flight.verify, HDR, body) is SdlsReason.REPLAY
    assert flight.key_log[-1] == (KeyCommand.SET_ARSN, 1)


@pytest.mark.parametrize(
    "command",
    [
        key_command_set_arsn(9, 0),  # the key-management SA's own ARSN: rekey it instead
        key_command_set_arsn(1, 0)[:-1],  # 3 ARSN octets for a 4-octet SA
        key_command_set_arsn(1, 0) + b"\x00",
        key_command_set_arsn(5, 0),  # no such SA
    ],
)
def test_bad_set_arsn_commands_change_nothing(command: bytes) -> None:
    ground, flight = pair("hmac-sha256")
    flight.verify(HDR, ground.protect(HDR, b"a", 1))
    token = flight.verify_authenticated(HDR, ground.protect(HDR, command, 9))
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND
    assert flight.arsn_received(1) == 1 and flight.arsn_received(9) == 1


# --------------------------------------------------------- surviving a reset


class MemoryState:
    """An SDLS state store in memory (what a reset leaves: only what was saved)."""

    def __init__(self) -> None:
        self.saved: dict[int, SaState] | None = None
        self.saves = 0
        self.broken = False

    def load(self) -> dict[int, SaState] | None:
        return self.saved

    def save(self, states: dict[int, SaState]) -> None:
        if self.broken:
            raise SdlsStateError("medium failed")
        self.saved = dict(states)
        self.saves += 1


def flight_with(store: MemoryState, mode: Mode = "hmac-sha256", window: int = 64) -> SdlsTc:
    return SdlsTc(
        [
            SecurityAssociation(1, KEY, mode, arsn_window=window),
            SecurityAssociation(9, OTHER_KEY, key_management=True),
        ],
        master_key=MASTER,
        store=store,
    )


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=40)
@given(st.data())
def test_no_frame_accepted_before_a_reset_is_accepted_after_it(
    mode: Mode, data: st.DataObject
) -> None:
    ground, _ = pair(mode)
    frames = [ground.protect(HDR, bytes([i]), 1) for i in range(data.draw(st.integers(1, 30)))]
    store = MemoryState()
    flight = flight_with(store, mode, window=8)
    order = data.draw(st.permutations(range(len(frames))))
    accepted = []
    for i in order[: data.draw(st.integers(0, len(frames)))]:
        with contextlib.suppress(SdlsError):
            flight.verify(HDR, frames[i])
            accepted.append(i)
    rebooted = flight_with(store, mode, window=8)
    assert rebooted.state_status == ("restored" if store.saved is not None else "fresh")
    for i in accepted:
        assert reason_of(rebooted.verify, HDR, frames[i]) is SdlsReason.REPLAY
    assert rebooted.verify(HDR, ground.protect(HDR, b"fresh", 1)) == b"fresh"


def test_a_sender_never_repeats_an_arsn_across_restarts() -> None:
    store = MemoryState()
    sas = [SecurityAssociation(1, KEY, "aes-gcm")]
    used: set[int] = set()
    for _session in range(4):
        ground = SdlsTc(sas, store=store, send_reserve=8, persist_received=False)
        for _ in range(5):
            arsn = int.from_bytes(ground.protect(HDR, b"x", 1)[2:6], "big")
            assert arsn not in used  # under GCM a repeat would reuse an IV
            used.add(arsn)
    assert store.saves == 4  # one reservation per session: 5 frames fit in a block of 8


def test_a_failed_reservation_refuses_to_send_and_is_retried() -> None:
    store = MemoryState()
    ground = SdlsTc([SecurityAssociation(1, KEY)], store=store, fail_closed=True)
    ground.protect(HDR, b"a", 1)
    store.broken = True
    assert reason_of(ground.protect, HDR, b"b", 1) is SdlsReason.STATE_ERROR
    assert ground.arsn_sent(1) == 1
    store.broken = False
    assert int.from_bytes(ground.protect(HDR, b"c", 1)[2:6], "big") == 2
    assert store.saved is not None and store.saved[1].send_reserved == 2


def test_flight_keeps_accepting_when_the_store_fails_and_counts_it() -> None:
    ground, _ = pair("hmac-sha256")
    store = MemoryState()
    store.broken = True
    flight = flight_with(store)
    assert flight.verify(HDR, ground.protect(HDR, b"a", 1)) == b"a"
    assert flight.counters["state_errors"] == 1


def test_keys_loaded_by_command_survive_a_reset() -> None:
    ground, _ = pair("aes-gcm")
    store = MemoryState()
    flight = flight_with(store, "aes-gcm")
    new_key = bytes(range(200, 232))
    for command in (key_command_load(1, new_key, MASTER), key_command_activate(1)):
        send_key_command(ground, flight, command)
    rebooted = flight_with(store, "aes-gcm")
    assert rebooted.verify(HDR, ground.protect(HDR, b"new", 1)) == b"new"
    stale = SdlsTc([SecurityAssociation(1, KEY, "aes-gcm")]).protect(HDR, b"old", 1)
    assert reason_of(rebooted.verify, HDR, stale) is SdlsReason.BAD_MAC
    send_key_command(ground, rebooted, key_command_deactivate(1))
    assert flight_with(store, "aes-gcm").key_state(1) is KeyState.DEACTIVATED


def test_state_of_another_key_is_ignored() -> None:
    store = MemoryState()
    ground, _ = pair("hmac-sha256")
    flight = flight_with(store)
    flight.verify(HDR, ground.protect(HDR, b"a", 1))
    other = SdlsTc([SecurityAssociation(1, OTHER_KEY)], store=store)  # reconfigured SA 1
    assert other.arsn_received(1) == 0 and other.counters["state_ignored"] == 2


def test_unreadable_state_is_reported_as_lost() -> None:
    class Lost(MemoryState):
        def load(self) -> dict[int, SaState] | None:
            raise SdlsStateError("every copy is corrupt")

    flight = flight_with(Lost())
    assert flight.state_status == "lost" and "corrupt" in flight.state_detail


# ------------------------------------------------------------------------ TM


@pytest.mark.parametrize("mode", MODES)
def test_tm_frames_carry_their_own_sa_and_header(mode: Mode) -> None:
    sa = SecurityAssociation(3, KEY, mode, arsn_len=8)
    flight, ground = SdlsTm(sa), SdlsTm(sa)
    tm_hdr = bytes(6)
    body = flight.protect_frame(tm_hdr, b"zone")
    assert len(body) == flight.overhead + 4 and body[:2] == b"\x00\x03"
    assert ground.verify_frame(tm_hdr, body) == b"zone"
    assert reason_of(ground.verify_frame, tm_hdr, body) is SdlsReason.REPLAY
    assert reason_of(ground.verify_frame, HDR, body) is SdlsReason.BAD_HEADER  # a TC header
    with pytest.raises(ValueError):
        SdlsTm(SecurityAssociation(3, KEY, key_management=True))


# ------------------------------------------------------- lost state fails closed


def locked_flight(store: MemoryState, challenge: int, require_state: bool = False) -> SdlsTc:
    return SdlsTc(
        [
            SecurityAssociation(1, KEY),
            SecurityAssociation(9, OTHER_KEY, key_management=True),
        ],
        master_key=MASTER,
        store=store,
        challenge=lambda: challenge,
        require_state=require_state,
    )


class LostState(MemoryState):
    def load(self) -> dict[int, SaState] | None:
        raise SdlsStateError("every copy is corrupt")


def test_lost_state_locks_until_a_resync_answers_the_challenge() -> None:
    ground, _ = pair("hmac-sha256")
    recorded = [ground.protect(HDR, b"cmd%d" % i, 1) for i in range(5)]
    store = LostState()
    flight = locked_flight(store, challenge=0x1122334455667788)
    assert flight.locked and flight.challenge == 0x1122334455667788
    for frame in recorded:  # every frame recorded before the loss: refused, counted
        assert reason_of(flight.verify, HDR, frame) is SdlsReason.LOCKED
    assert flight.counters["locked"] == 5
    # Key management other than a resync is refused while locked (a recorded Set ARSN
    # would otherwise lower the floor again) ...
    old_set = ground.protect(HDR, key_command_set_arsn(1, 1), 9)
    token = flight.verify_authenticated(HDR, old_set)
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND
    # ... and so is a resync answering another challenge (one recorded at an earlier lock).
    floors = {1: ground.arsn_sent(1), 9: ground.arsn_sent(9)}
    wrong = ground.protect(HDR, key_command_resync(9, 0x99, floors), 9)
    token = flight.verify_authenticated(HDR, wrong)
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND
    assert flight.locked and store.saves == 0  # nothing saved while locked
    right = ground.protect(HDR, key_command_resync(9, flight.challenge, floors), 9)
    assert flight.handle_key_command(flight.verify_authenticated(HDR, right)) is (KeyCommand.RESYNC)
    assert not flight.locked and store.saves == 1
    for frame in recorded:
        assert reason_of(flight.verify, HDR, frame) is SdlsReason.REPLAY
    assert flight.verify(HDR, ground.protect(HDR, b"new", 1)) == b"new"
    # The resync itself replayed after unlocking is refused (not locked any more).
    replayed = ground.protect(HDR, key_command_resync(9, 0x1122334455667788, floors), 9)
    token = flight.verify_authenticated(HDR, replayed)
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND


def test_a_reset_while_locked_locks_again_with_a_new_challenge() -> None:
    ground, _ = pair("hmac-sha256")
    store = LostState()
    first = locked_flight(store, challenge=7)
    floors = {1: 0, 9: 0}
    answer = ground.protect(HDR, key_command_resync(9, 7, floors), 9)
    first.verify_authenticated(HDR, ground.protect(HDR, b"ping", 9))  # verified, not saved
    assert store.saves == 0
    second = locked_flight(store, challenge=8)
    assert second.locked
    token = second.verify_authenticated(HDR, answer)
    assert reason_of(second.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND


def test_state_gone_where_it_was_provisioned_locks_too() -> None:
    assert not locked_flight(MemoryState(), challenge=1).locked  # first start: fresh
    assert locked_flight(MemoryState(), challenge=1, require_state=True).locked
    restored = MemoryState()
    restored.saved = {}
    assert not locked_flight(restored, challenge=1, require_state=True).locked


@pytest.mark.parametrize(
    "floors",
    [{9: 5}, {1: 5, 9: 0, 3: 0}],
    ids=["the data SA without a floor", "an unknown SPI"],
)
def test_a_resync_must_name_every_sa_and_only_them(floors: dict[int, int]) -> None:
    ground, _ = pair("hmac-sha256")
    flight = locked_flight(LostState(), challenge=42)
    token = flight.verify_authenticated(
        HDR, ground.protect(HDR, key_command_resync(9, 42, floors), 9)
    )
    assert reason_of(flight.handle_key_command, token) is SdlsReason.BAD_KEY_COMMAND
    assert flight.locked


@given(st.binary(max_size=64), st.booleans())
def test_garbage_key_commands_to_a_locked_endpoint_raise_only_sdls_error(
    tail: bytes, as_resync: bool
) -> None:
    """Whatever arrives under the key-management SA while locked (a resync or anything
    else, any length): our error, and the endpoint stays locked."""
    ground, _ = pair("hmac-sha256")
    flight = locked_flight(LostState(), challenge=0x0123456789ABCDEF)
    command = (b"\x05\x00\x09" + tail) if as_resync else tail
    token = flight.verify_authenticated(HDR, ground.protect(HDR, command, 9))
    with contextlib.suppress(SdlsError):
        flight.handle_key_command(token)
    assert flight.locked
