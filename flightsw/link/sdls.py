"""SDLS authentication of TC and TM frames (CCSDS 355.0-B): security header, MAC, anti-replay, keys.

Without authentication, anyone with a transmitter who knows our frame format can command
the spacecraft, and anyone who can reach a ground tool can feed it telemetry. SDLS puts a
security header (SPI and anti-replay sequence number, ARSN) before the frame data field
and a MAC after it; the MAC covers the frame primary header (TC: 5 octets; TM: 6, plus
the secondary header when there is one), the security header and the data. The OCF (the
CLCW) and the FECF follow the trailer, outside the MAC, as 355.0 places them.

Frame layout handled here::

    primary header (passed in; authenticated) | SPI (2) | ARSN (arsn_len) | data | MAC

:class:`SdlsTc` works on TC frames (and carries the key-management procedures),
:class:`SdlsTm` on TM frames; both share the code below.

Two modes per security association (SA): ``hmac-sha256`` (HMAC truncated to ``mac_len``)
and ``aes-gcm`` used for authentication only (GMAC: the data stays in clear, the tag is
over header + security header + data). The GCM IV is the SA's fixed field followed by the
ARSN (the deterministic construction of NIST SP 800-38D §8.2.1), so it never repeats
under one key; :meth:`SdlsTc.protect` refuses to wrap the ARSN. HMAC comes from the
standard library (``hmac.digest``, OpenSSL underneath), AES-GCM from ``cryptography``.

Anti-replay: with ``arsn_window == 0`` an ARSN is accepted only if it is greater than the
last accepted one. With ``arsn_window = W > 0`` (the default, 64) an ARSN is also accepted
if it lies within W below the highest accepted and has not been seen (a bitmap, as
IPsec does), so frames reordered by the link still verify. The ground applies SDLS to
every transmission, COP-1 retransmissions included, so each copy carries a fresh ARSN.

Keys change only through authenticated commands. :meth:`SdlsTc.verify_authenticated`
returns an :class:`Authenticated` token sealed by this instance; only such a token, from a
SA marked ``key_management``, is accepted by :meth:`SdlsTc.handle_key_command` (load a
new key wrapped under the master key with RFC 3394 AES key wrap, activate it,
deactivate a SA, or set a SA's ARSN: the "Set ARSN" SA-management procedure of CCSDS
355.1, the way back when a frame with a far-ahead ARSN has closed the window). The
flight side must route it like this: TC frame -> ``verify_authenticated`` -> if
``token.key_management``: ``handle_key_command(token)``, else ``token.data`` to FARM-1 /
the packet extractor. Raw bytes never reach the key store.

Surviving a reset: given a ``store`` (:class:`SdlsStateStore`), the state of every SA
(highest ARSN accepted and its window, the send counter, operational flag, keys loaded
or activated by command) is written before it is relied on: after each accepted frame
and key command (so a replayed frame is still refused after a reboot), and, for sending,
a block of ARSNs is reserved ahead (``send_reserve``) and the next start carries on
above the reservation, so an ARSN is never sent twice under one key (for AES-GCM that
would repeat an IV). ``fail_closed`` says what a failed write does: refuse to send (the
ground) or count it in ``state_errors`` and carry on (the flight, where a dead NV store
must not also kill the uplink that could recover it).

Losing that state (every copy corrupt, or gone where the mission says it was provisioned)
fails closed when the flight side asks for it: the TC endpoint starts locked and only a
RESYNC answering a fresh challenge (reported in telemetry) reopens it with the ground's
ARSN floors; see :class:`_Sdls`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from flightsw.base.errors import FlightswError

HEADER_LEN = 5  # TC transfer frame primary header
TM_HEADER_LEN = 6  # TM transfer frame primary header
TM_MAX_HEADER_LEN = TM_HEADER_LEN + 1 + 63  # with the longest secondary header
SPI_LEN = 2
FINGERPRINT_LEN = 8
MAX_ARSN_WINDOW = 4096  # bits of the anti-replay bitmap (kept in RAM and on the NV store)
GCM_IV_LEN = 12

Mode = Literal["hmac-sha256", "aes-gcm"]


class SdlsReason(StrEnum):
    UNKNOWN_SPI = "unknown_spi"
    TRUNCATED = "truncated"
    BAD_MAC = "bad_mac"
    REPLAY = "replay"
    SA_NOT_OPERATIONAL = "sa_not_operational"
    BAD_HEADER = "bad_header"
    ARSN_EXHAUSTED = "arsn_exhausted"
    BAD_KEY_COMMAND = "bad_key_command"
    STATE_ERROR = "state_error"
    LOCKED = "locked"  # state lost: only a resync answering the challenge is accepted


class SdlsError(FlightswError):
    """A frame SDLS refuses (or cannot protect); ``reason`` is what the counters count."""

    def __init__(self, reason: SdlsReason, detail: str, spi: int | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.spi = spi
        super().__init__(
            f"SDLS {reason.value}" + (f" (SPI {spi})" if spi is not None else "") + f": {detail}"
        )


class KeyState(StrEnum):
    ACTIVE = "active"  # SA operational with its current key
    DEACTIVATED = "deactivated"  # SA not operational until a key is activated


class KeyCommand(StrEnum):
    LOAD = "load"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    SET_ARSN = "set_arsn"
    RESYNC = "resync"


_KEY_CODES = {
    1: KeyCommand.LOAD,
    2: KeyCommand.ACTIVATE,
    3: KeyCommand.DEACTIVATE,
    4: KeyCommand.SET_ARSN,
    5: KeyCommand.RESYNC,
}
CHALLENGE_LEN = 8  # octets of the nonce a locked endpoint asks the ground to answer
_RESYNC_ENTRY = 2 + 8  # SPI, ARSN floor
KEY_COMMAND_CODES = {command: code for code, command in _KEY_CODES.items()}


@dataclass(frozen=True, slots=True)
class SecurityAssociation:
    """Configuration of one SA; the runtime state (ARSNs, key state) lives in :class:`SdlsTc`."""

    spi: int
    key: bytes = field(repr=False)
    mode: Mode = "hmac-sha256"
    mac_len: int = 16
    arsn_len: int = 4
    arsn_window: int = 64
    iv_fixed: bytes | None = None  # aes-gcm only: 12 - arsn_len octets (default zeros)
    key_management: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.spi <= 0xFFFE:
            raise ValueError(f"SPI {self.spi} not in 1..65534")
        if not 1 <= self.arsn_len <= 8:
            raise ValueError(f"arsn_len {self.arsn_len} not in 1..8")
        if not 0 <= self.arsn_window <= MAX_ARSN_WINDOW:
            raise ValueError(f"arsn_window {self.arsn_window} not in 0..{MAX_ARSN_WINDOW}")
        _check_key(self.mode, self.key)
        if self.mode == "hmac-sha256":
            if not 12 <= self.mac_len <= 32:
                raise ValueError(f"HMAC-SHA-256 mac_len {self.mac_len} not in 12..32")
        elif self.mode == "aes-gcm":
            if not 12 <= self.mac_len <= 16:
                raise ValueError(f"AES-GCM mac_len {self.mac_len} not in 12..16")
            if self.arsn_len < 4:
                raise ValueError("AES-GCM needs arsn_len >= 4 (the IV's invocation field)")
            if self.iv_fixed is not None and len(self.iv_fixed) != GCM_IV_LEN - self.arsn_len:
                raise ValueError(f"iv_fixed must be {GCM_IV_LEN - self.arsn_len} octets")
        else:
            raise ValueError(f"unknown mode {self.mode!r}")

    @property
    def overhead(self) -> int:
        """Octets SDLS adds to the frame data field (security header + trailer)."""
        return SPI_LEN + self.arsn_len + self.mac_len


def _check_key(mode: str, key: bytes) -> None:
    if not isinstance(key, bytes):
        raise ValueError("key must be bytes")
    if mode == "aes-gcm" and len(key) not in (16, 24, 32):
        raise ValueError(f"AES key of {len(key)} octets; 16, 24 or 32")
    if mode == "hmac-sha256" and len(key) < 16:
        raise ValueError(f"HMAC key of {len(key)} octets; at least 16")


def fingerprint(sa: SecurityAssociation) -> bytes:
    """Which configured SA (mode and key) a saved state belongs to; reveals nothing of the key."""
    digest = hashlib.sha256(b"flightsw-sdls-sa\0" + sa.mode.encode() + b"\0" + sa.key).digest()
    return digest[:FINGERPRINT_LEN]


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Data that passed :meth:`SdlsTc.verify_authenticated`, sealed by the instance that did it."""

    spi: int
    arsn: int
    data: bytes
    key_management: bool
    seal: object = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SaState:
    """What one SA keeps across a reset.

    ``fingerprint`` names the configured SA the record belongs to (a record for another
    key or mode is ignored). ``send_reserved``: every ARSN up to it may have been sent;
    ``high`` and ``seen``: the highest ARSN accepted and the window bitmap below it;
    ``key``: the active key when a command replaced the configured one (else None);
    ``pending_key``: a key loaded but not yet activated.
    """

    fingerprint: bytes
    operational: bool
    send_reserved: int
    high: int
    seen: int
    key: bytes | None = field(default=None, repr=False)
    pending_key: bytes | None = field(default=None, repr=False)


class SdlsStateError(FlightswError):
    """SDLS state that cannot be read or written (a corrupt record, a failed medium)."""


class SdlsStateStore(Protocol):
    """Where an SDLS endpoint keeps its state: the NV store on board, a file on the ground.

    ``load`` returns None when nothing was ever saved and raises :class:`SdlsStateError`
    when something was saved but cannot be read back; ``save`` raises it when the state
    did not reach the medium.
    """

    def load(self) -> dict[int, SaState] | None: ...

    def save(self, states: dict[int, SaState]) -> None: ...


class _Runtime:
    __slots__ = (
        "aead",
        "fingerprint",
        "high",
        "key",
        "operational",
        "pending_key",
        "reserved",
        "sa",
        "seen",
        "send",
        "sent_limit",
    )

    def __init__(self, sa: SecurityAssociation) -> None:
        self.sa = sa
        self.fingerprint = fingerprint(sa)
        self.operational = True
        self.pending_key: bytes | None = None
        self.sent_limit = (1 << (8 * sa.arsn_len)) - 1
        self.install(sa.key)

    def set_key(self, key: bytes) -> None:
        self.key = key
        self.aead = AESGCM(key) if self.sa.mode == "aes-gcm" else None

    def install(self, key: bytes) -> None:
        """A new key: both ARSN counters start again."""
        self.set_key(key)
        self.send = 0  # last ARSN sent; the first frame carries 1
        self.reserved = 0  # every ARSN up to this one may have been sent (saved)
        self.high = 0  # highest ARSN accepted; 0 = none yet
        self.seen = 0  # bitmap: bit i set = ARSN (high - i) accepted

    @property
    def window_mask(self) -> int:
        return (1 << self.sa.arsn_window) - 1

    def mac(self, header: bytes, sec_header: bytes, data: bytes, arsn_raw: bytes) -> bytes:
        msg = header + sec_header + data
        sa = self.sa
        if self.aead is None:
            return hmac.digest(self.key, msg, "sha256")[: sa.mac_len]
        fixed = sa.iv_fixed if sa.iv_fixed is not None else bytes(GCM_IV_LEN - sa.arsn_len)
        return self.aead.encrypt(fixed + arsn_raw, b"", msg)[: sa.mac_len]

    def snapshot(self) -> SaState:
        return SaState(
            self.fingerprint,
            self.operational,
            self.reserved,
            self.high,
            self.seen,
            None if self.key == self.sa.key else self.key,
            self.pending_key,
        )

    def restore(self, st: SaState) -> bool:
        """Take a saved state; False (nothing changed) if it is not this SA's or is unusable."""
        if st.fingerprint != self.fingerprint:
            return False
        for key in (st.key, st.pending_key):
            if key is not None:
                try:
                    _check_key(self.sa.mode, key)
                except ValueError:
                    return False
        self.set_key(st.key if st.key is not None else self.sa.key)
        self.pending_key = st.pending_key
        self.operational = st.operational
        self.reserved = st.send_reserved
        self.send = min(st.send_reserved, self.sent_limit)  # carry on above the reservation
        self.high = st.high
        self.seen = st.seen & self.window_mask
        return True


_COUNTED = (
    *(r.value for r in SdlsReason),
    "verified",
    "protected",
    "key_commands",
    "state_errors",
    "state_ignored",
)


class _Sdls:
    """The SDLS function for one frame type: ``protect`` to send, ``verify`` to receive.

    ``store``: where the state survives a reset (see the module docstring), with
    ``send_reserve`` ARSNs reserved per write when sending, ``persist_received``
    whether each accepted frame is saved before it is handed on, and ``fail_closed``
    whether a failed write refuses (True) or is counted (False).
    ``state_status`` says how the state started: ``"ram"`` (no store), ``"fresh"``
    (nothing saved yet), ``"restored"`` or ``"lost"`` (saved but unreadable: the SAs
    start from their configuration, and the caller should say so loudly).

    Fail closed (``challenge`` given): an endpoint whose state is lost — or absent when
    ``require_state`` says it was provisioned before flight — cannot know which ARSNs it
    already accepted, so every frame recorded before would pass as fresh. It starts
    *locked* instead: data SAs refuse everything (``locked``), key management accepts
    only a RESYNC that carries the challenge drawn at this start (``challenge()``, a
    nonce the caller reports in telemetry) and sets each SA's ARSN floor. Nothing is
    saved while locked, so a reset before the resync locks again with a new challenge,
    and a resync recorded in an earlier lock answers the wrong challenge.
    """

    min_header = HEADER_LEN
    max_header = HEADER_LEN

    def __init__(
        self,
        associations: Iterable[SecurityAssociation],
        master_key: bytes | None = None,
        store: SdlsStateStore | None = None,
        send_reserve: int = 1,
        persist_received: bool = True,
        fail_closed: bool = False,
        challenge: Callable[[], int] | None = None,
        require_state: bool = False,
    ) -> None:
        self._sas: dict[int, _Runtime] = {}
        for sa in associations:
            if sa.spi in self._sas:
                raise ValueError(f"duplicate SPI {sa.spi}")
            self._sas[sa.spi] = _Runtime(sa)
        if master_key is not None and len(master_key) not in (16, 24, 32):
            raise ValueError("master key must be an AES key (16, 24 or 32 octets)")
        if send_reserve < 1:
            raise ValueError("send_reserve must be at least 1")
        self._master_key = master_key
        self._seal = object()
        self.counters: dict[str, int] = dict.fromkeys(_COUNTED, 0)
        self._store = store
        self._send_reserve = send_reserve
        self._persist_received = persist_received
        self._fail_closed = fail_closed
        self.state_status = "ram"
        self.state_detail = ""
        # Key-management commands applied (command, target SPI), for events; newest kept.
        self.key_log: deque[tuple[KeyCommand, int]] = deque(maxlen=16)
        self.challenge: int | None = None  # set while locked (see the class docstring)
        if store is not None:
            self._load(store)
        lost = self.state_status == "lost" or (self.state_status == "fresh" and require_state)
        if challenge is not None and lost:
            self.challenge = challenge() & ((1 << (8 * CHALLENGE_LEN)) - 1)

    @property
    def locked(self) -> bool:
        """True from a start with lost state until a RESYNC answered its challenge."""
        return self.challenge is not None

    @property
    def spis(self) -> list[int]:
        return sorted(self._sas)

    def association(self, spi: int) -> SecurityAssociation:
        return self._sas[spi].sa

    # ------------------------------------------------------------------ state

    def _load(self, store: SdlsStateStore) -> None:
        try:
            states = store.load()
        except SdlsStateError as exc:
            self.state_status = "lost"
            self.state_detail = str(exc)
            return
        if states is None:
            self.state_status = "fresh"
            return
        for spi, st in states.items():
            rt = self._sas.get(spi)
            if rt is None or not rt.restore(st):
                self.counters["state_ignored"] += 1
        self.state_status = "restored"

    def snapshot(self) -> dict[int, SaState]:
        """The state of every SA, as it would be saved."""
        return {spi: rt.snapshot() for spi, rt in self._sas.items()}

    def save(self) -> None:
        """Write the state now (it is also written whenever it must be); never while
        locked, so that a reset before the resync finds the state still lost."""
        if self._store is None or self.locked:
            return
        try:
            self._store.save(self.snapshot())
        except SdlsStateError as exc:
            self.counters["state_errors"] += 1
            if self._fail_closed:
                raise SdlsError(SdlsReason.STATE_ERROR, str(exc)) from None

    # ------------------------------------------------------------------ sending

    def protect(self, header: bytes, data: bytes, spi: int) -> bytes:
        """Security header + data + MAC for the frame whose primary header is ``header``."""
        if not self.min_header <= len(header) <= self.max_header:
            raise SdlsError(
                SdlsReason.BAD_HEADER, f"{len(header)} octets, expected {self.min_header}", spi
            )
        rt = self._sas.get(spi)
        if rt is None:
            raise SdlsError(SdlsReason.UNKNOWN_SPI, "no such security association", spi)
        if not rt.operational:
            raise SdlsError(SdlsReason.SA_NOT_OPERATIONAL, "key deactivated", spi)
        if rt.send >= rt.sent_limit:
            raise SdlsError(SdlsReason.ARSN_EXHAUSTED, "rekey before sending more", spi)
        arsn = rt.send + 1
        if arsn > rt.reserved and self._store is not None:
            before = rt.reserved
            rt.reserved = min(rt.sent_limit, rt.send + self._send_reserve)
            try:
                self.save()  # the reservation is on the medium before the ARSN is used
            except SdlsError:
                rt.reserved = before
                raise
        rt.send = arsn
        arsn_raw = arsn.to_bytes(rt.sa.arsn_len, "big")
        sec_header = spi.to_bytes(2, "big") + arsn_raw
        data = bytes(data)
        self.counters["protected"] += 1
        return sec_header + data + rt.mac(bytes(header), sec_header, data, arsn_raw)

    # ---------------------------------------------------------------- receiving

    def verify(self, header: bytes, body: bytes) -> bytes:
        """The data field of an authentic, fresh frame; anything else raises :class:`SdlsError`."""
        return self.verify_authenticated(header, body).data

    def verify_authenticated(self, header: bytes, body: bytes) -> Authenticated:
        """Like :meth:`verify`, returning a sealed token (for key commands)."""
        try:
            token = self._verify(header, body)
        except SdlsError as exc:
            self.counters[exc.reason.value] += 1
            raise
        if self._persist_received:
            self.save()  # before anyone acts on the frame: a reboot must not accept it again
        return token

    def _verify(self, header: bytes, body: bytes) -> Authenticated:
        if not isinstance(header, bytes | bytearray | memoryview) or not (
            self.min_header <= len(header) <= self.max_header
        ):
            raise SdlsError(
                SdlsReason.BAD_HEADER, f"primary header must be {self.min_header} octets"
            )
        if not isinstance(body, bytes | bytearray | memoryview) or len(body) < SPI_LEN:
            raise SdlsError(SdlsReason.TRUNCATED, "no room for the SPI")
        body = bytes(body)
        spi = int.from_bytes(body[:2], "big")
        rt = self._sas.get(spi)
        if rt is None:
            raise SdlsError(SdlsReason.UNKNOWN_SPI, "no such security association", spi)
        if not rt.operational:
            raise SdlsError(SdlsReason.SA_NOT_OPERATIONAL, "key deactivated", spi)
        sa = rt.sa
        if self.locked and not sa.key_management:
            raise SdlsError(SdlsReason.LOCKED, "state lost: waiting for a resync", spi)
        data_start = SPI_LEN + sa.arsn_len
        if len(body) < data_start + sa.mac_len:
            raise SdlsError(
                SdlsReason.TRUNCATED,
                f"{len(body)} octets, security header and trailer need {sa.overhead}",
                spi,
            )
        arsn_raw = body[SPI_LEN:data_start]
        data = body[data_start : len(body) - sa.mac_len]
        expected = rt.mac(bytes(header), body[:data_start], data, arsn_raw)
        if not hmac.compare_digest(expected, body[len(body) - sa.mac_len :]):
            raise SdlsError(SdlsReason.BAD_MAC, "MAC does not match", spi)
        arsn = int.from_bytes(arsn_raw, "big")
        self._check_replay(rt, arsn)
        self.counters["verified"] += 1
        return Authenticated(spi, arsn, data, sa.key_management, self._seal)

    @staticmethod
    def _check_replay(rt: _Runtime, arsn: int) -> None:
        window = rt.sa.arsn_window
        if arsn > rt.high:
            shift = arsn - rt.high
            if shift >= window:  # the whole window moved past: no old bit survives
                rt.seen = 1
            else:
                rt.seen = ((rt.seen << shift) | 1) & rt.window_mask
            rt.high = arsn
            return
        age = rt.high - arsn
        if arsn == 0 or age >= window or (rt.seen >> age) & 1:
            raise SdlsError(
                SdlsReason.REPLAY, f"ARSN {arsn} not fresh (highest {rt.high})", rt.sa.spi
            )
        rt.seen |= 1 << age

    # ----------------------------------------------------------- key management

    def key_state(self, spi: int) -> KeyState:
        rt = self._sas[spi]
        return KeyState.ACTIVE if rt.operational else KeyState.DEACTIVATED

    def has_pending_key(self, spi: int) -> bool:
        return self._sas[spi].pending_key is not None

    def arsn_sent(self, spi: int) -> int:
        """The last ARSN sent on ``spi`` (after a restart: the last one reserved)."""
        return self._sas[spi].send

    def arsn_received(self, spi: int) -> int:
        """The highest ARSN accepted on ``spi`` (0: none yet)."""
        return self._sas[spi].high

    def skip_send_to(self, spi: int, arsn: int) -> int:
        """Carry on sending above ``arsn`` (never goes back); returns the last ARSN sent.

        For a ground that learns the spacecraft already accepted higher ARSNs than it
        remembers sending, or that has just set the spacecraft's ARSN to this value.
        """
        rt = self._sas[spi]
        if arsn > rt.send:
            rt.send = min(arsn, rt.sent_limit)
            if rt.send > rt.reserved and self._store is not None:
                before = rt.reserved
                rt.reserved = rt.send
                try:
                    self.save()
                except SdlsError:
                    rt.reserved = before
                    raise
        return rt.send


class SdlsTc(_Sdls):
    """The SDLS TC function: ``protect`` on the ground, ``verify`` on board (or both in tests)."""

    def handle_key_command(self, token: Authenticated) -> KeyCommand:
        """Apply a key-management command that arrived authenticated under a key-management SA.

        Command format (the token's data): code (1: load, 2: activate, 3: deactivate,
        4: set ARSN), target SPI (2 octets), and for load the new key wrapped (RFC 3394)
        under the master key, for set ARSN the new ARSN (the target's ``arsn_len``
        octets). Activation installs the loaded key and restarts both ARSN counters.
        Set ARSN makes the target accept only ARSNs above the value (it may go down:
        the ground sets it to the highest ARSN it ever sent, so nothing it sent
        becomes acceptable again); a key-management SA's own ARSN cannot be set (a
        replayed command could then be accepted again): rekey it instead.
        """
        if not isinstance(token, Authenticated) or token.seal is not self._seal:
            raise self._key_error("not authenticated by this SDLS instance", None)
        if not token.key_management:
            raise self._key_error("SA is not a key-management SA", token.spi)
        data = token.data
        command = _KEY_CODES.get(data[0]) if data else None
        if command is None or len(data) < 3:
            raise self._key_error("unknown or short key command", token.spi)
        if command is KeyCommand.RESYNC or self.locked:
            return self._resync(token, command)
        target = int.from_bytes(data[1:3], "big")
        rt = self._sas.get(target)
        if rt is None:
            raise self._key_error(f"no SA with SPI {target}", token.spi)
        if command is KeyCommand.LOAD:
            if self._master_key is None:
                raise self._key_error("no master key to unwrap with", token.spi)
            try:
                key = aes_key_unwrap(self._master_key, data[3:])
            except (InvalidUnwrap, ValueError) as exc:
                raise self._key_error(f"key unwrap failed: {exc}", token.spi) from None
            try:
                _check_key(rt.sa.mode, key)
            except ValueError as exc:
                raise self._key_error(str(exc), token.spi) from None
            rt.pending_key = key
        elif command is KeyCommand.SET_ARSN:
            if rt.sa.key_management:
                raise self._key_error("a key-management SA's ARSN cannot be set", token.spi)
            if len(data) != 3 + rt.sa.arsn_len:
                raise self._key_error(
                    f"set ARSN for SPI {target} takes {rt.sa.arsn_len} ARSN octets", token.spi
                )
            rt.high = int.from_bytes(data[3:], "big")
            rt.seen = rt.window_mask  # everything at or below the new value counts as seen
        elif len(data) != 3:
            raise self._key_error("trailing octets after the SPI", token.spi)
        elif command is KeyCommand.ACTIVATE:
            if rt.pending_key is None:
                raise self._key_error(f"no key loaded for SPI {target}", token.spi)
            self._rekey(rt, rt.pending_key)
        else:
            if rt.sa.key_management:
                raise self._key_error("a key-management SA cannot be deactivated", token.spi)
            rt.operational = False
        self.counters["key_commands"] += 1
        self.key_log.append((command, target))
        self.save()
        return command

    def _resync(self, token: Authenticated, command: KeyCommand) -> KeyCommand:
        """RESYNC: code 5, the key-management SPI (2), the challenge (8), then per SA its
        SPI (2) and ARSN floor (8). Accepted only while locked and only with this start's
        challenge; sets each named SA to accept only ARSNs above its floor (the carrying
        SA at least above this command's own ARSN) and unlocks."""
        if not self.locked:
            raise self._key_error("resync refused: the state is not lost", token.spi)
        if command is not KeyCommand.RESYNC:
            raise self._key_error(f"{command.value} refused: locked until a resync", token.spi)
        data = token.data
        body = data[3 + CHALLENGE_LEN :]
        if len(data) < 3 + CHALLENGE_LEN or len(body) % _RESYNC_ENTRY:
            raise self._key_error("resync: challenge then (SPI, ARSN) entries", token.spi)
        if int.from_bytes(data[3 : 3 + CHALLENGE_LEN], "big") != self.challenge:
            raise self._key_error("resync does not answer this start's challenge", token.spi)
        floors: dict[int, int] = {}
        for i in range(0, len(body), _RESYNC_ENTRY):
            spi = int.from_bytes(body[i : i + 2], "big")
            if spi not in self._sas or spi in floors:
                raise self._key_error(f"resync names SPI {spi} twice or not at all", token.spi)
            floors[spi] = int.from_bytes(body[i + 2 : i + _RESYNC_ENTRY], "big")
        floors[token.spi] = max(floors.get(token.spi, 0), token.arsn)
        if set(floors) != set(self._sas):
            missing = sorted(set(self._sas) - set(floors))
            raise self._key_error(f"resync leaves SPI {missing[0]} without a floor", token.spi)
        for spi, floor in floors.items():
            rt = self._sas[spi]
            rt.high = floor
            rt.seen = rt.window_mask  # everything at or below the floor counts as seen
        self.challenge = None
        self.counters["key_commands"] += 1
        self.key_log.append((KeyCommand.RESYNC, token.spi))
        self.save()
        return KeyCommand.RESYNC

    def _rekey(self, rt: _Runtime, new_key: bytes) -> None:
        """Only reachable from :meth:`handle_key_command`, i.e. from authenticated data."""
        rt.install(new_key)
        rt.pending_key = None
        rt.operational = True

    def _key_error(self, detail: str, spi: int | None) -> SdlsError:
        self.counters[SdlsReason.BAD_KEY_COMMAND.value] += 1
        return SdlsError(SdlsReason.BAD_KEY_COMMAND, detail, spi)


class SdlsTm(_Sdls):
    """The SDLS TM function for one SA: the flight protects every frame, the ground verifies.

    The header is the TM primary header (6 octets) plus the secondary header if the
    frame has one. :meth:`protect_frame` and :meth:`verify_frame` are what the framer
    and the packet extractor call.
    """

    min_header = TM_HEADER_LEN
    max_header = TM_MAX_HEADER_LEN

    def __init__(
        self,
        sa: SecurityAssociation,
        store: SdlsStateStore | None = None,
        send_reserve: int = 1,
        persist_received: bool = True,
        fail_closed: bool = False,
    ) -> None:
        if sa.key_management:
            raise ValueError("a TM SA is not a key-management SA")
        super().__init__(
            [sa],
            store=store,
            send_reserve=send_reserve,
            persist_received=persist_received,
            fail_closed=fail_closed,
        )
        self.spi = sa.spi
        self.overhead = sa.overhead

    def protect_frame(self, header: bytes, data: bytes) -> bytes:
        """Security header + ``data`` + MAC, to go between the header and the OCF."""
        return self.protect(header, data, self.spi)

    def verify_frame(self, header: bytes, body: bytes) -> bytes:
        """The data field of an authentic, fresh frame; else :class:`SdlsError`."""
        return self.verify(header, body)


# ------------------------------------------------- ground side: building key commands


def key_command_load(spi: int, new_key: bytes, master_key: bytes) -> bytes:
    """A LOAD command: the new key travels wrapped (RFC 3394) under the master key."""
    return b"\x01" + spi.to_bytes(2, "big") + aes_key_wrap(master_key, new_key)


def key_command_activate(spi: int) -> bytes:
    return b"\x02" + spi.to_bytes(2, "big")


def key_command_deactivate(spi: int) -> bytes:
    return b"\x03" + spi.to_bytes(2, "big")


def key_command_set_arsn(spi: int, arsn: int, arsn_len: int = 4) -> bytes:
    """A SET ARSN command: SA ``spi`` will accept only ARSNs above ``arsn``."""
    return b"\x04" + spi.to_bytes(2, "big") + arsn.to_bytes(arsn_len, "big")


def key_command_resync(km_spi: int, challenge: int, floors: dict[int, int]) -> bytes:
    """A RESYNC command answering ``challenge``: every SA of the TC function gets its floor."""
    entries = b"".join(
        spi.to_bytes(2, "big") + arsn.to_bytes(8, "big") for spi, arsn in sorted(floors.items())
    )
    return b"\x05" + km_spi.to_bytes(2, "big") + challenge.to_bytes(CHALLENGE_LEN, "big") + entries
