"""SDLS state on the non-volatile store: the record format and the voted on-board store.

What an SDLS endpoint must keep across a processor reset (:class:`~flightsw.link.sdls.SaState`
per SA) is written as one record, declared here with construct, into a
:class:`flightsw.store.voting.VotingStore` (three CRC-checked copies, majority read and
repair), the same discipline as FDIR's critical state.

Record::

    "SDLS" | version (1) | count (1) | per SA:
        SPI (2) | fingerprint (8) | flags (1: bit 0 operational, bit 1 keys wrapped)
        | send reserved (8) | highest accepted (8) | window bitmap (4-octet length + octets)
        | key (1-octet length + octets; 0: the configured key) | pending key (same)

Keys a command loaded are stored wrapped (RFC 3394) under the master key when the
endpoint has one (loading a key needs it, so it always has one in practice), so a dump
of the NV store does not hand out session keys.
"""

from __future__ import annotations

from construct import (
    Bytes,
    Const,
    ConstructError,
    GreedyBytes,
    Int8ub,
    Int16ub,
    Int32ub,
    Int64ub,
    Prefixed,
    PrefixedArray,
    Struct,
    Terminated,
)
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from flightsw.base.errors import DecodeError
from flightsw.link.sdls import FINGERPRINT_LEN, SaState, SdlsStateError
from flightsw.store.voting import Store, VotingStore
from hal.nvstore import NvStoreError

FLAG_OPERATIONAL = 0x01
FLAG_WRAPPED = 0x02
STATE_VERSION = 1

SA_RECORD = Struct(
    "spi" / Int16ub,
    "fingerprint" / Bytes(FINGERPRINT_LEN),
    "flags" / Int8ub,
    "send_reserved" / Int64ub,
    "high" / Int64ub,
    "seen" / Prefixed(Int32ub, GreedyBytes),
    "key" / Prefixed(Int8ub, GreedyBytes),
    "pending_key" / Prefixed(Int8ub, GreedyBytes),
)
SDLS_STATE = Struct(
    "magic" / Const(b"SDLS"),
    "version" / Const(STATE_VERSION, Int8ub),
    "records" / PrefixedArray(Int8ub, SA_RECORD),
    Terminated,
)


def _seen_octets(seen: int) -> bytes:
    return seen.to_bytes((seen.bit_length() + 7) // 8, "big")


def encode_state(states: dict[int, SaState], master_key: bytes | None = None) -> bytes:
    """The record for ``states`` (loaded keys wrapped under ``master_key`` if given)."""

    def key_field(key: bytes | None) -> bytes:
        if key is None:
            return b""
        return aes_key_wrap(master_key, key) if master_key is not None else key

    records = [
        {
            "spi": spi,
            "fingerprint": st.fingerprint,
            "flags": (FLAG_OPERATIONAL if st.operational else 0)
            | (FLAG_WRAPPED if master_key is not None else 0),
            "send_reserved": st.send_reserved,
            "high": st.high,
            "seen": _seen_octets(st.seen),
            "key": key_field(st.key),
            "pending_key": key_field(st.pending_key),
        }
        for spi, st in sorted(states.items())
    ]
    return bytes(SDLS_STATE.build({"records": records}))


def decode_state(raw: bytes, master_key: bytes | None = None) -> dict[int, SaState]:
    """``states`` back from a record; :class:`DecodeError` for anything else."""
    try:
        doc = SDLS_STATE.parse(raw)
    except ConstructError as exc:
        raise DecodeError("sdls_state", 0, str(exc).splitlines()[0]) from None
    out: dict[int, SaState] = {}
    for rec in doc.records:
        wrapped = bool(rec.flags & FLAG_WRAPPED)
        if rec.spi in out:
            raise DecodeError("sdls_state.spi", 0, f"SPI {rec.spi} recorded twice")

        def key_of(field: bytes, name: str, spi: int = rec.spi, wrapped: bool = wrapped) -> bytes:
            if not wrapped:
                return bytes(field)
            if master_key is None:
                raise DecodeError(f"sdls_state.{name}", 0, f"SPI {spi}: wrapped, no master key")
            try:
                return aes_key_unwrap(master_key, bytes(field))
            except (InvalidUnwrap, ValueError) as exc:
                raise DecodeError(f"sdls_state.{name}", 0, f"SPI {spi}: {exc}") from None

        out[rec.spi] = SaState(
            fingerprint=bytes(rec.fingerprint),
            operational=bool(rec.flags & FLAG_OPERATIONAL),
            send_reserved=rec.send_reserved,
            high=rec.high,
            seen=int.from_bytes(rec.seen, "big"),
            key=key_of(rec.key, "key") if rec.key else None,
            pending_key=key_of(rec.pending_key, "pending_key") if rec.pending_key else None,
        )
    return out


class NvSdlsState:
    """An SDLS endpoint's state in a voted NV record named ``name`` (e.g. ``sdls_tc``)."""

    def __init__(self, nv: Store, name: str, master_key: bytes | None = None) -> None:
        self.voting = VotingStore(nv, name)
        self.master_key = master_key
        self.writes = 0

    def load(self) -> dict[int, SaState] | None:
        try:
            raw = self.voting.read()
        except NvStoreError as exc:
            raise SdlsStateError(f"reading the SDLS state: {exc}") from None
        if raw is None:
            if self.voting.unrecoverable:
                raise SdlsStateError("every copy of the SDLS state is corrupt")
            return None
        try:
            return decode_state(raw, self.master_key)
        except DecodeError as exc:
            raise SdlsStateError(f"the SDLS state does not decode: {exc}") from None

    def save(self, states: dict[int, SaState]) -> None:
        try:
            self.voting.write(encode_state(states, self.master_key))
        except (NvStoreError, OSError) as exc:
            raise SdlsStateError(f"writing the SDLS state: {exc}") from None
        self.writes += 1
