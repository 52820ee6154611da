"""SDLS authentication of TC frames (CCSDS 355.0-B): security header, MAC, anti-replay, keys.

Without authentication, anyone with a transmitter who knows our frame format can command
the spacecraft. SDLS puts a security header (SPI and anti-replay sequence number, ARSN)
before the frame data field and a MAC after it; the MAC covers the 5-octet frame primary
header, the security header and the data. The FECF stays the frame codec's business.

Frame layout handled here::

    primary header (5, passed in; authenticated) | SPI (2) | ARSN (arsn_len) | data | MAC

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
new key wrapped under the master key with RFC 3394 AES key wrap, activate it, or
deactivate a SA). The flight side must route it like this: TC frame ->
``verify_authenticated`` -> if ``token.key_management``: ``handle_key_command(token)``,
else ``token.data`` to FARM-1 / the packet extractor. Raw bytes never reach the key store.

TM authentication is not implemented here (TC only).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from flightsw.errors import FlightswError

HEADER_LEN = 5  # TC transfer frame primary header
SPI_LEN = 2
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


_KEY_CODES = {1: KeyCommand.LOAD, 2: KeyCommand.ACTIVATE, 3: KeyCommand.DEACTIVATE}


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
        if self.arsn_window < 0:
            raise ValueError("arsn_window must be >= 0")
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


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Data that passed :meth:`SdlsTc.verify_authenticated`, sealed by the instance that did it."""

    spi: int
    arsn: int
    data: bytes
    key_management: bool
    seal: object = field(repr=False, compare=False)


class _Runtime:
    __slots__ = (
        "aead",
        "high",
        "key",
        "operational",
        "pending_key",
        "sa",
        "seen",
        "send",
        "sent_limit",
    )

    def __init__(self, sa: SecurityAssociation) -> None:
        self.sa = sa
        self.operational = True
        self.pending_key: bytes | None = None
        self.sent_limit = (1 << (8 * sa.arsn_len)) - 1
        self.install(sa.key)

    def install(self, key: bytes) -> None:
        self.key = key
        self.aead = AESGCM(key) if self.sa.mode == "aes-gcm" else None
        self.send = 0  # last ARSN sent; the first frame carries 1
        self.high = 0  # highest ARSN accepted; 0 = none yet
        self.seen = 0  # bitmap: bit i set = ARSN (high - i) accepted

    def mac(self, header: bytes, sec_header: bytes, data: bytes, arsn_raw: bytes) -> bytes:
        msg = header + sec_header + data
        sa = self.sa
        if self.aead is None:
            return hmac.digest(self.key, msg, "sha256")[: sa.mac_len]
        fixed = sa.iv_fixed if sa.iv_fixed is not None else bytes(GCM_IV_LEN - sa.arsn_len)
        return self.aead.encrypt(fixed + arsn_raw, b"", msg)[: sa.mac_len]


_COUNTED = (*(r.value for r in SdlsReason), "verified", "protected", "key_commands")


class SdlsTc:
    """The SDLS TC function: ``protect`` on the ground, ``verify`` on board (or both in tests)."""

    def __init__(
        self, associations: Iterable[SecurityAssociation], master_key: bytes | None = None
    ) -> None:
        self._sas: dict[int, _Runtime] = {}
        for sa in associations:
            if sa.spi in self._sas:
                raise ValueError(f"duplicate SPI {sa.spi}")
            self._sas[sa.spi] = _Runtime(sa)
        if master_key is not None and len(master_key) not in (16, 24, 32):
            raise ValueError("master key must be an AES key (16, 24 or 32 octets)")
        self._master_key = master_key
        self._seal = object()
        self.counters: dict[str, int] = dict.fromkeys(_COUNTED, 0)

    # ------------------------------------------------------------------ sending

    def protect(self, header: bytes, data: bytes, spi: int) -> bytes:
        """Security header + data + MAC for the frame whose primary header is ``header``."""
        if len(header) != HEADER_LEN:
            raise SdlsError(SdlsReason.BAD_HEADER, f"{len(header)} octets, expected 5", spi)
        rt = self._sas.get(spi)
        if rt is None:
            raise SdlsError(SdlsReason.UNKNOWN_SPI, "no such security association", spi)
        if not rt.operational:
            raise SdlsError(SdlsReason.SA_NOT_OPERATIONAL, "key deactivated", spi)
        if rt.send >= rt.sent_limit:
            raise SdlsError(SdlsReason.ARSN_EXHAUSTED, "rekey before sending more", spi)
        rt.send += 1
        arsn_raw = rt.send.to_bytes(rt.sa.arsn_len, "big")
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
            return self._verify(header, body)
        except SdlsError as exc:
            self.counters[exc.reason.value] += 1
            raise

    def _verify(self, header: bytes, body: bytes) -> Authenticated:
        if not isinstance(header, bytes | bytearray | memoryview) or len(header) != HEADER_LEN:
            raise SdlsError(SdlsReason.BAD_HEADER, "primary header must be 5 octets")
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
                rt.seen = ((rt.seen << shift) | 1) & ((1 << window) - 1)
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
        return self._sas[spi].send

    def handle_key_command(self, token: Authenticated) -> KeyCommand:
        """Apply a key-management command that arrived authenticated under a key-management SA.

        Command format (the token's data): code (1: load, 2: activate, 3: deactivate),
        target SPI (2 octets), and for load the new key wrapped (RFC 3394) under the
        master key. Activation installs the loaded key and restarts both ARSN counters.
        """
        if not isinstance(token, Authenticated) or token.seal is not self._seal:
            raise self._key_error("not authenticated by this SDLS instance", None)
        if not token.key_management:
            raise self._key_error("SA is not a key-management SA", token.spi)
        data = token.data
        command = _KEY_CODES.get(data[0]) if data else None
        if command is None or len(data) < 3:
            raise self._key_error("unknown or short key command", token.spi)
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
        return command

    def _rekey(self, rt: _Runtime, new_key: bytes) -> None:
        """Only reachable from :meth:`handle_key_command`, i.e. from authenticated data."""
        rt.install(new_key)
        rt.pending_key = None
        rt.operational = True

    def _key_error(self, detail: str, spi: int | None) -> SdlsError:
        self.counters[SdlsReason.BAD_KEY_COMMAND.value] += 1
        return SdlsError(SdlsReason.BAD_KEY_COMMAND, detail, spi)


# ------------------------------------------------- ground side: building key commands


def key_command_load(spi: int, new_key: bytes, master_key: bytes) -> bytes:
    """A LOAD command: the new key travels wrapped (RFC 3394) under the master key."""
    return b"\x01" + spi.to_bytes(2, "big") + aes_key_wrap(master_key, new_key)


def key_command_activate(spi: int) -> bytes:
    return b"\x02" + spi.to_bytes(2, "big")


def key_command_deactivate(spi: int) -> bytes:
    return b"\x03" + spi.to_bytes(2, "big")
