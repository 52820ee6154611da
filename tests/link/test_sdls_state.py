"""The SDLS state record on the NV store: round trips, garbage, voting, wrapped keys."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError
from flightsw.link.sdls import FINGERPRINT_LEN, SaState, SdlsStateError
from flightsw.link.sdls_state import NvSdlsState, decode_state, encode_state
from hal.nvstore import MemoryNvStore

MASTER = bytes(range(100, 132))
keys = st.one_of(st.none(), st.sampled_from([bytes(range(16)), bytes(range(32)), bytes(24)]))
sa_states = st.builds(
    SaState,
    fingerprint=st.binary(min_size=FINGERPRINT_LEN, max_size=FINGERPRINT_LEN),
    operational=st.booleans(),
    send_reserved=st.integers(0, 2**64 - 1),
    high=st.integers(0, 2**64 - 1),
    seen=st.one_of(st.integers(0, 2**64 - 1), st.just(2**4096 - 1)),
    key=keys,
    pending_key=keys,
)
states = st.dictionaries(st.integers(1, 0xFFFE), sa_states, max_size=4)


@settings(max_examples=40)
@given(states, st.sampled_from([None, MASTER]))
def test_round_trip(value: dict[int, SaState], master: bytes | None) -> None:
    assert decode_state(encode_state(value, master), master) == value


@settings(max_examples=40)
@given(states)
def test_loaded_keys_are_stored_wrapped(value: dict[int, SaState]) -> None:
    raw = encode_state(value, MASTER)
    for st_ in value.values():
        for key in (st_.key, st_.pending_key):
            if key is not None:
                assert key not in raw


@given(st.binary(max_size=200))
def test_garbage_is_a_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_state(raw, MASTER)


@settings(max_examples=40)
@given(states, st.data())
def test_damaged_records_are_a_decode_error_or_still_a_state(
    value: dict[int, SaState], data: st.DataObject
) -> None:
    raw = bytearray(encode_state(value, MASTER))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    with contextlib.suppress(DecodeError):
        decoded = decode_state(bytes(raw), MASTER)
        assert isinstance(decoded, dict)


def test_wrapped_keys_need_the_master_key() -> None:
    value = {1: SaState(bytes(8), True, 0, 0, 0, key=bytes(range(32)))}
    with pytest.raises(DecodeError, match="master key"):
        decode_state(encode_state(value, MASTER), None)
    with pytest.raises(DecodeError):
        decode_state(encode_state(value, MASTER), bytes(32))


def test_voted_on_the_nv_store_one_bad_copy_repaired_all_bad_is_lost() -> None:
    nv = MemoryNvStore()
    store = NvSdlsState(nv, "sdls_tc", MASTER)
    assert store.load() is None  # never written: a fresh start, not a loss
    value = {1: SaState(bytes(8), True, 5, 7, 3)}
    store.save(value)
    bad = bytearray(nv.read("sdls_tc.1") or b"")
    bad[-1] ^= 1
    nv.write("sdls_tc.1", bytes(bad))
    assert NvSdlsState(nv, "sdls_tc", MASTER).load() == value
    assert nv.read("sdls_tc.1") == nv.read("sdls_tc.0")  # repaired
    for i in range(3):
        nv.write(f"sdls_tc.{i}", b"\x00" * 12)
    with pytest.raises(SdlsStateError, match="corrupt"):
        NvSdlsState(nv, "sdls_tc", MASTER).load()
