"""The file non-volatile store makes names durable: its directory is synced."""

import os
import stat
from pathlib import Path

import pytest

from hal.nvstore import FileNvStore, MemoryNvStore


def _record_syncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


def test_directory_synced_on_create_rename_and_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nv = FileNvStore(tmp_path)
    synced = _record_syncs(monkeypatch)
    nv.append("seg.000001", b"abc")  # a new segment: its name must be durable
    assert synced == ["file", "dir"]
    synced.clear()
    nv.append("seg.000001", b"def")  # an existing one: the data only
    assert synced == ["file"]
    synced.clear()
    nv.write("cursor", b"x")  # temp file, rename into place
    assert synced == ["file", "dir"]
    synced.clear()
    nv.delete("seg.000001")
    assert synced == ["dir"]
    assert nv.names() == ["cursor"]


def test_no_syncs_when_asked_for_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nv = FileNvStore(tmp_path, sync=False)
    synced = _record_syncs(monkeypatch)
    nv.append("a", b"1")
    nv.write("b", b"2")
    nv.delete("a")
    assert synced == []


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_write_at_writes_in_place_and_fills_a_gap_with_zeros(tmp_path: Path, kind: str) -> None:
    nv = FileNvStore(tmp_path, sync=False) if kind == "file" else MemoryNvStore()
    nv.write_at("f", 4, b"cd")  # a new file, gap before
    nv.write_at("f", 0, b"ab")
    nv.write_at("f", 7, b"xy")
    assert nv.read("f") == b"ab\0\0cd\0xy"
    nv.write_at("f", 1, b"Z")
    assert nv.read("f") == b"aZ\0\0cd\0xy" and nv.size("f") == 9
