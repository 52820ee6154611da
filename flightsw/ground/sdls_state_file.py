"""The ground's SDLS counters, kept in a small JSON file between ground sessions.

A ground station must never send an ARSN twice under one key: the spacecraft refuses a
second session that starts again at 1 (and under AES-GCM a repeated ARSN repeats an IV).
So the last ARSN sent (reserved ahead, in blocks) on each SA of each spacecraft is kept
here, with the highest TM ARSN accepted, and the next session carries on above them.

File (one for all spacecraft)::

    {"format": "flightsw-ground-sdls", "version": 1,
     "spacecraft": {"42": {"tc": {"1": {"fingerprint": "<16 hex>", "arsn_sent": 96,
                                        "arsn_received": 0}, ...},
                          "tm": {"3": {...}}}}}

``fingerprint`` names the key and mode the counters belong to (a new key starts again at
0, as the spacecraft does when a key is activated). Writes are atomic (temporary file,
fsync, rename, fsync of the directory). The file is locked while a session runs, so two
ground sessions cannot hand out the same ARSNs. A file that is not what it should be is
a :class:`GroundStateError` naming the file and the key: nothing is guessed, and the
operator decides (see the README's security model for the recovery procedures).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.link.sdls import FINGERPRINT_LEN, MAX_ARSN_WINDOW, SaState, SdlsStateError

FORMAT = "flightsw-ground-sdls"
VERSION = 1
FUNCTIONS = ("tc", "tm")
MAX_ARSN = (1 << 64) - 1

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, one session at a time by hand
    fcntl = None  # type: ignore[assignment]


class GroundStateError(FlightswError):
    """A ground state file that cannot be used; names the file and what is wrong."""


class GroundStateFile:
    """The counters of every spacecraft and SA, in one locked JSON file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_file: Any = None
        self._lock()
        try:
            self.doc = self._read()
        except GroundStateError:
            self.close()
            raise
        self.writes = 0

    def _lock(self) -> None:
        if fcntl is None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            f = lock_path.open("a")
        except OSError as exc:
            raise GroundStateError(f"{self.path}: cannot open the lock file: {exc}") from None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise GroundStateError(
                f"{self.path}: in use by another ground session (two sessions would send "
                "the same ARSNs); wait for it to end or give another --state"
            ) from None
        self._lock_file = f

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    def _error(self, key: str, reason: str) -> GroundStateError:
        return GroundStateError(
            f"{self.path}: {key}: {reason}; the ground's SDLS counters cannot be trusted: "
            "move the file away and resynchronise (README, security model)"
        )

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"format": FORMAT, "version": VERSION, "spacecraft": {}}
        except (OSError, UnicodeDecodeError) as exc:
            raise self._error("file", f"unreadable ({exc})") from None
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise self._error("file", f"not JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise self._error("format", f"not {FORMAT!r}")
        if doc.get("version") != VERSION:
            raise self._error("version", f"{doc.get('version')!r}, this ground reads {VERSION}")
        crafts = doc.get("spacecraft")
        if not isinstance(crafts, dict):
            raise self._error("spacecraft", "not a table")
        for scid, functions in crafts.items():
            if not scid.isdigit() or not isinstance(functions, dict):
                raise self._error(f"spacecraft.{scid}", "not a spacecraft id with a table")
            for fn, sas in functions.items():
                if fn not in FUNCTIONS or not isinstance(sas, dict):
                    raise self._error(f"spacecraft.{scid}.{fn}", "not tc/tm with a table")
                for spi, rec in sas.items():
                    self._check_record(f"spacecraft.{scid}.{fn}.{spi}", spi, rec)
        return doc

    def _check_record(self, where: str, spi: str, rec: object) -> None:
        if not spi.isdigit() or not 1 <= int(spi) <= 0xFFFE or not isinstance(rec, dict):
            raise self._error(where, "not an SPI with a table")
        if set(rec) != {"fingerprint", "arsn_sent", "arsn_received"}:
            raise self._error(where, f"keys {sorted(rec)}")
        fp = rec["fingerprint"]
        if not isinstance(fp, str) or len(fp) != 2 * FINGERPRINT_LEN:
            raise self._error(f"{where}.fingerprint", f"{fp!r}")
        try:
            bytes.fromhex(fp)
        except ValueError:
            raise self._error(f"{where}.fingerprint", f"{fp!r} is not hex") from None
        for key in ("arsn_sent", "arsn_received"):
            v = rec[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_ARSN:
                raise self._error(f"{where}.{key}", f"{v!r} is not an ARSN")

    def store(self, scid: int, function: str) -> SdlsFileStore:
        """The SDLS state store of one spacecraft's TC or TM function."""
        if function not in FUNCTIONS:
            raise ValueError(f"function {function!r}: tc or tm")
        return SdlsFileStore(self, str(scid), function)

    def write(self) -> None:
        """Replace the file atomically with the current document."""
        text = json.dumps(self.doc, indent=1, sort_keys=True) + "\n"
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with tmp.open("w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise GroundStateError(f"{self.path}: cannot write: {exc}") from None
        self.writes += 1


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not every platform opens directories; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class SdlsFileStore:
    """One spacecraft's TC or TM counters in a :class:`GroundStateFile` (an SDLS state store)."""

    def __init__(self, file: GroundStateFile, scid: str, function: str) -> None:
        self.file = file
        self.scid = scid
        self.function = function

    def _section(self) -> dict[str, Any]:
        crafts: dict[str, Any] = self.file.doc["spacecraft"]
        section: dict[str, Any] = crafts.setdefault(self.scid, {}).setdefault(self.function, {})
        return section

    def load(self) -> dict[int, SaState] | None:
        sas = self.file.doc["spacecraft"].get(self.scid, {}).get(self.function)
        if not sas:
            return None
        return {
            int(spi): SaState(
                fingerprint=bytes.fromhex(rec["fingerprint"]),
                operational=True,
                send_reserved=rec["arsn_sent"],
                high=rec["arsn_received"],
                # nothing at or below the highest TM ARSN is accepted again
                seen=(1 << MAX_ARSN_WINDOW) - 1,
            )
            for spi, rec in sas.items()
        }

    def save(self, states: dict[int, SaState]) -> None:
        section = self._section()
        for spi, st in states.items():
            section[str(spi)] = {
                "fingerprint": st.fingerprint.hex(),
                "arsn_sent": st.send_reserved,
                "arsn_received": st.high,
            }
        try:
            self.file.write()
        except GroundStateError as exc:
            raise SdlsStateError(str(exc)) from None
