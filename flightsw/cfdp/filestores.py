"""Where CFDP reads and writes files: the node's NV store, or a directory on the ground.

:class:`NvFilestore` maps a CFDP file name (``"seq1"``, ``"/seq1"``) to the on-board
file of that name (:mod:`flightsw.store.files`): the quota holds (a file whose Metadata
announces more than fits is refused before a byte is written, and a write past the
quota is refused), names are checked, and a received file becomes readable by the apps
(its ``.ok`` marker) only when the entity marks it complete after the transaction ended
without error and its checksum held. A refusal is a ``PermissionError`` to cfdp-py, which
makes it a Filestore Rejection fault: the transfer is cancelled and the sender told.

:class:`DirFilestore` is cfdp-py's host file store kept inside one directory (the
ground's ``flightsw ground put/get``): a name that leaves it is refused.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from cfdppy.filestore import NativeFilestore, VirtualFilestore
from spacepackets.cfdp import ChecksumType, FilestoreResponseStatusCode

from flightsw.base.errors import FlightswError
from flightsw.store.files import FileStoreError, OnboardFiles, check_name

SEGMENT = 4096


def onboard_name(path: Path | str) -> str:
    """The on-board file name a CFDP path stands for (FileStoreError when illegal)."""
    text = str(path).lstrip("/")
    return check_name(text)


def _crc32(read: object, size: int) -> bytes:
    """CRC-32 (the CFDP checksum type 2, ISO-HDLC, as zlib computes it) of a file."""
    crc = 0
    offset = 0
    while offset < size:
        chunk = read(offset, min(SEGMENT * 16, size - offset))  # type: ignore[operator]
        if not chunk:
            break
        crc = zlib.crc32(chunk, crc)
        offset += len(chunk)
    return struct.pack("!I", crc)


def _checksum(kind: ChecksumType, read: object, size: int) -> bytes:
    if kind == ChecksumType.NULL_CHECKSUM:
        return bytes(4)
    if kind == ChecksumType.CRC_32:
        return _crc32(read, size)
    if kind == ChecksumType.MODULAR:
        total = 0
        data = read(0, size)  # type: ignore[operator]
        data += bytes(-len(data) % 4)
        for (word,) in struct.iter_unpack("!I", data):
            total = (total + word) & 0xFFFFFFFF
        return struct.pack("!I", total)
    raise FlightswError(f"CFDP checksum type {kind!r} is not supported")


class NvFilestore(VirtualFilestore):  # type: ignore[misc]
    """CFDP's file store on the node's on-board files."""

    def __init__(self, files: OnboardFiles) -> None:
        self.files = files
        self.expected_size: dict[str, int] = {}  # from Metadata PDUs, checked at create
        self.refused = 0

    def mark_complete(self, name: str) -> None:
        """The file arrived whole and checked: readable by the apps from now on."""
        self.files.mark_complete(name)

    def _name(self, path: Path) -> str:
        try:
            return onboard_name(path)
        except FileStoreError as exc:
            self.refused += 1
            raise PermissionError(str(exc)) from None

    def read_data(self, file: Path, offset: int | None, read_len: int | None = None) -> bytes:
        name = self._name(file)
        if not self.files.exists(name):
            raise FileNotFoundError(str(file))
        size = self.files.size(name)
        return self.files.read(name, offset or 0, size if read_len is None else read_len)

    def read_from_opened_file(self, bytes_io, offset, read_len):  # type: ignore[no-untyped-def]
        bytes_io.seek(offset)
        return bytes_io.read(read_len)

    def is_directory(self, path: Path) -> bool:
        return False

    def filename_from_full_path(self, path: Path) -> str | None:
        return path.name

    def file_exists(self, path: Path) -> bool:
        try:
            return self.files.exists(onboard_name(path))
        except FileStoreError:
            return False

    def _make_room(self, name: str) -> None:
        try:
            self.files.check_room(name, self.expected_size.pop(name, 0))
        except FileStoreError as exc:
            self.refused += 1
            raise PermissionError(str(exc)) from None

    def truncate_file(self, file: Path) -> None:
        name = self._name(file)
        self._make_room(name)
        self.files.mark_complete(name, False)
        self.files.truncate(name)

    def file_size(self, file: Path) -> int:
        name = self._name(file)
        if not self.files.exists(name):
            raise FileNotFoundError(str(file))
        return self.files.size(name)

    def write_data(self, file: Path, data: bytes, offset: int | None) -> None:
        name = self._name(file)
        if not self.files.exists(name):
            raise FileNotFoundError(str(file))
        try:
            self.files.write_at(name, offset or 0, data)
        except FileStoreError as exc:
            self.refused += 1
            raise PermissionError(str(exc)) from None

    def create_file(self, file: Path) -> FilestoreResponseStatusCode:
        name = self._name(file)
        self._make_room(name)
        self.files.create(name)
        return FilestoreResponseStatusCode.CREATE_SUCCESS

    def delete_file(self, file: Path) -> FilestoreResponseStatusCode:
        name = self._name(file)
        if not self.files.exists(name):
            return FilestoreResponseStatusCode.DELETE_FILE_DOES_NOT_EXIST
        self.files.delete(name)
        return FilestoreResponseStatusCode.DELETE_SUCCESS

    def rename_file(self, _old_file: Path, _new_file: Path) -> FilestoreResponseStatusCode:
        return FilestoreResponseStatusCode.NOT_PERFORMED

    def replace_file(self, _replaced_file: Path, _source_file: Path) -> FilestoreResponseStatusCode:
        return FilestoreResponseStatusCode.NOT_PERFORMED

    def create_directory(self, _dir_name: Path) -> FilestoreResponseStatusCode:
        return FilestoreResponseStatusCode.NOT_PERFORMED

    def remove_directory(self, _dir_name: Path, recursive: bool) -> FilestoreResponseStatusCode:
        return FilestoreResponseStatusCode.NOT_PERFORMED

    def list_directory(
        self, _dir_name: Path, _file_name: Path, _recursive: bool = False
    ) -> FilestoreResponseStatusCode:
        return FilestoreResponseStatusCode.NOT_PERFORMED

    def calculate_checksum(
        self,
        checksum_type: ChecksumType,
        file_path: Path,
        size_to_verify: int,
        segment_len: int = SEGMENT,
    ) -> bytes:
        name = self._name(file_path)
        if not self.files.exists(name):
            raise FileNotFoundError(str(file_path))
        return _checksum(checksum_type, lambda o, n: self.files.read(name, o, n), size_to_verify)


class DirFilestore(NativeFilestore):  # type: ignore[misc]
    """cfdp-py's host file store confined to ``root`` (relative names resolve inside)."""

    def __init__(self, root: Path | str) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def resolve(self, path: Path | str) -> Path:
        given = Path(path)
        inside = given.is_absolute() and (given == self.root or self.root in given.parents)
        full = (given if inside else self.root / str(path).lstrip("/")).resolve()
        if full != self.root and self.root not in full.parents:
            raise PermissionError(f"{path}: outside {self.root}")
        return full

    def read_data(self, file: Path, offset: int | None, read_len: int | None = None) -> bytes:
        return bytes(super().read_data(self.resolve(file), offset, read_len))

    def file_size(self, file: Path) -> int:
        return int(super().file_size(self.resolve(file)))

    def file_exists(self, path: Path) -> bool:
        try:
            return bool(super().file_exists(self.resolve(path)))
        except PermissionError:
            return False

    def is_directory(self, path: Path) -> bool:
        try:
            return bool(super().is_directory(self.resolve(path)))
        except PermissionError:
            return False

    def truncate_file(self, file: Path) -> None:
        super().truncate_file(self.resolve(file))

    def write_data(self, file: Path, data: bytes, offset: int | None) -> None:
        super().write_data(self.resolve(file), data, offset)

    def create_file(self, file: Path) -> FilestoreResponseStatusCode:
        return super().create_file(self.resolve(file))

    def delete_file(self, file: Path) -> FilestoreResponseStatusCode:
        return super().delete_file(self.resolve(file))

    def calculate_checksum(
        self,
        checksum_type: ChecksumType,
        file_path: Path,
        size_to_verify: int,
        segment_len: int = SEGMENT,
    ) -> bytes:
        full = self.resolve(file_path)
        if not full.exists():
            raise FileNotFoundError(str(file_path))

        def read(offset: int, n: int) -> bytes:
            with full.open("rb") as f:
                f.seek(offset)
                return f.read(n)

        return _checksum(checksum_type, read, size_to_verify)
