"""The file non-volatile store makes names durable: its directory is synced."""

import os
import stat
from pathlib import Path

import pytest

from hal.nvstore import FileNvStore


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
