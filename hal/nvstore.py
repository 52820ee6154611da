"""Non-volatile stores: a directory on a real file system, or memory for SIL.

Both satisfy ``hal.interfaces.NonVolatileStore`` plus the segment operations the
packet store uses (list, size, truncate, delete) and ``write_at`` (a file segment in
place, for files received in pieces). ``FileNvStore.append`` returns only
after the bytes are on stable storage (fsync), which is what "acknowledged" means for
the packet store; ``write`` replaces a file atomically (temp file, fsync, rename). A
file's name is on stable storage only once its directory is: the directory is synced
after a file is created, renamed into place or deleted, so a power cut cannot take
back a segment whose records were acknowledged.
"""

from __future__ import annotations

import os
from pathlib import Path

from flightsw.base.errors import FlightswError


class NvStoreError(FlightswError):
    """A name outside the store, or an I/O failure of the medium."""


def _check(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        raise NvStoreError(f"invalid store name {name!r}")
    return name


class FileNvStore:
    """Files in one directory; survives the process being killed at any instant."""

    def __init__(self, root: str | Path, sync: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.sync = sync

    def _path(self, name: str) -> Path:
        return self.root / _check(name)

    def _sync_dir(self) -> None:
        if not self.sync:
            return
        fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise NvStoreError(f"read {name}: {exc}") from exc

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        try:
            with self._path(name).open("rb") as f:
                f.seek(offset)
                return f.read(length)
        except FileNotFoundError:
            return b""

    def write(self, name: str, data: bytes) -> None:
        path = self._path(name)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            if self.sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
        self._sync_dir()

    def write_at(self, name: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` in place (zeros fill a gap past the end); a
        received file segment costs its own size, not a copy of the whole file."""
        self._write(name, data, offset)

    def append(self, name: str, data: bytes) -> None:
        self._write(name, data, None)

    def _write(self, name: str, data: bytes, offset: int | None) -> None:
        """``data`` at ``offset`` of the file (None: at its end), flushed (and synced
        with ``sync``); a file it creates gets its directory entry synced too."""
        path = self._path(name)
        created = not path.exists()
        mode = "ab" if offset is None else ("w+b" if created else "r+b")
        with path.open(mode) as f:
            if offset is not None:
                f.seek(offset)
            f.write(data)
            f.flush()
            if self.sync:
                os.fsync(f.fileno())
        if created:
            self._sync_dir()

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            return 0

    def truncate(self, name: str, length: int) -> None:
        with self._path(name).open("r+b") as f:
            f.truncate(length)
            if self.sync:
                os.fsync(f.fileno())

    def delete(self, name: str) -> None:
        path = self._path(name)
        if path.exists():
            path.unlink(missing_ok=True)
            self._sync_dir()

    def names(self, prefix: str = "") -> list[str]:
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_file() and p.name.startswith(prefix) and not p.name.endswith(".tmp")
        )


class MemoryNvStore:
    """The same operations on dictionaries: survives an executive restart, not the process."""

    def __init__(self) -> None:
        self.files: dict[str, bytearray] = {}

    def read(self, name: str) -> bytes | None:
        data = self.files.get(_check(name))
        return None if data is None else bytes(data)

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        return bytes(self.files.get(_check(name), b"")[offset : offset + length])

    def write(self, name: str, data: bytes) -> None:
        self.files[_check(name)] = bytearray(data)

    def write_at(self, name: str, offset: int, data: bytes) -> None:
        buf = self.files.setdefault(_check(name), bytearray())
        if len(buf) < offset:
            buf.extend(bytes(offset - len(buf)))
        buf[offset : offset + len(data)] = data

    def append(self, name: str, data: bytes) -> None:
        self.files.setdefault(_check(name), bytearray()).extend(data)

    def size(self, name: str) -> int:
        return len(self.files.get(_check(name), b""))

    def truncate(self, name: str, length: int) -> None:
        del self.files[_check(name)][length:]

    def delete(self, name: str) -> None:
        self.files.pop(_check(name), None)

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self.files if n.startswith(prefix))
