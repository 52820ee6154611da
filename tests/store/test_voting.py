"""The voting store under a write torn between copies: never a value that was not written."""

from __future__ import annotations

import contextlib

import pytest

from flightsw.store.voting import COPIES, VotingStore
from tests.support.nv import PowerFailingNv


@pytest.mark.parametrize("copies_written", range(COPIES + 1))
def test_a_torn_write_reads_back_old_or_new_never_anything_else(copies_written: int) -> None:
    nv = PowerFailingNv()
    VotingStore(nv, "s").write(b"old")
    nv.writes_left = copies_written
    with pytest.raises(OSError) if copies_written < COPIES else contextlib.nullcontext():
        VotingStore(nv, "s").write(b"new")
    nv.writes_left = None
    value = VotingStore(nv, "s").read()
    # Copies are written in order: the new value wins only once most copies hold it, so
    # a writer that goes on only after write() returned never relies on a value that a
    # reset could take back (what makes the SDLS reservation safe).
    assert value == (b"new" if copies_written >= 2 else b"old")
