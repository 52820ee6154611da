"""Tables (after cFS TBL): registered by their owners, loaded, validated, committed whole.

A table is a named binary image with a construct layout, a validation function and an
owner callback. Its life:

* **load**: an image (from a file on board) is decoded into the *inactive* buffer. The
  active table is not touched.
* **validate**: the owner's validation function runs on the decoded inactive image; a
  refusal names its reason (a PUS-1 ``INVALID_TABLE`` failure with the reason as data)
  and the inactive image is dropped.
* **activate** (commit): the validated image is written to the non-volatile *golden*
  copy (three CRC-checked copies, majority-voted: ``flightsw.store.voting``), then becomes the
  active one by swapping one reference, and the owner is told. A power loss during the
  NV write leaves either the whole old or the whole new image: the vote never returns a
  half-written table, and a load not yet activated is simply gone after a restart.
* **critical** tables are checked periodically (:meth:`TableRegistry.check_critical`):
  the active image's CRC-32 against the one taken at commit; a difference (an upset in
  RAM) is repaired from the golden copy and counted.

At registration a table comes from its golden copy on NV when there is one that decodes
and validates, else from the owner's default image. Registrations survive restarts of
the owning app (the registry belongs to the executive); a reboot rebuilds the registry
from NV.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import CommandError, DeclarationError, DecodeError
from flightsw.framework.app import FailureCode
from flightsw.framework.layouts import decode, encode
from flightsw.store.voting import VotingStore
from hal.interfaces import NonVolatileStore

NV_PREFIX = "table."
MAX_TABLES = 32


@dataclass
class TableDef:
    """What an owner registers: name, layout, checks, size bound and where changes go."""

    name: str
    layout: Any  # construct layout of the whole image
    validate: Callable[[Any], str | None]  # decoded image -> None (good) or the reason
    apply: Callable[[Any], None]  # the owner takes a newly active (decoded) image
    default: Any  # the decoded image used when NV holds none
    critical: bool = False
    max_size: int = 1 << 17


@dataclass
class TableState:
    """One registered table: its active image and CRC, the inactive (load) buffer."""

    tdef: TableDef
    golden: VotingStore
    active: bytes
    active_crc: int
    inactive: bytes | None = None
    inactive_value: Any = None
    validated: bool = False
    loads: int = 0
    commits: int = 0
    rejects: int = 0
    repairs: int = 0
    last_reason: str = ""


def crc32(image: bytes) -> int:
    return zlib.crc32(image) & 0xFFFFFFFF


class TableRegistry:
    """The executive's tables by name (bounded by ``MAX_TABLES``)."""

    def __init__(self, nv: NonVolatileStore) -> None:
        self.nv = nv  # golden copies, voted (the executive's store: a HAL without one gets RAM)
        self.tables: dict[str, TableState] = {}
        self.checks = 0
        self.repairs = 0
        self.unrepairable = 0

    def register(self, tdef: TableDef) -> TableState:
        """Register (or, after the owner restarted, re-attach) a table and apply its
        active image; the first registration reads the golden copy from NV."""
        state = self.tables.get(tdef.name)
        if state is not None:
            state.tdef = tdef
            tdef.apply(decode(tdef.layout, state.active, tdef.name))
            return state
        if len(self.tables) >= MAX_TABLES:
            raise DeclarationError(f"table {tdef.name!r}: more than {MAX_TABLES} tables")
        golden = VotingStore(self.nv, NV_PREFIX + tdef.name)
        value, image = tdef.default, None
        stored = golden.read()
        if stored is not None:
            try:
                candidate = decode(tdef.layout, stored, tdef.name)
                if tdef.validate(candidate) is None:
                    value, image = candidate, stored
            except DecodeError:
                pass  # a golden image this build cannot read: start from the default
        if image is None:
            image = encode(tdef.layout, value, {}, tdef.name)
            reason = tdef.validate(decode(tdef.layout, image, tdef.name))
            if reason is not None:
                raise DeclarationError(f"table {tdef.name!r}: default refused: {reason}")
        state = TableState(tdef, golden, image, crc32(image))
        self.tables[tdef.name] = state
        tdef.apply(decode(tdef.layout, image, tdef.name))
        return state

    def state(self, name: str) -> TableState:
        state = self.tables.get(name)
        if state is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no table {name!r}")
        return state

    # --- load, validate, activate -------------------------------------------------
    def load(self, name: str, image: bytes) -> TableState:
        """Decode an image into the inactive buffer (the active table is untouched)."""
        st = self.state(name)
        st.inactive, st.inactive_value, st.validated = None, None, False
        if len(image) > st.tdef.max_size:
            st.rejects += 1
            st.last_reason = f"{len(image)} octets, at most {st.tdef.max_size}"
            raise CommandError(FailureCode.INVALID_TABLE, st.last_reason, st.last_reason.encode())
        try:
            value = decode(st.tdef.layout, image, name)
        except DecodeError as exc:
            st.rejects += 1
            st.last_reason = str(exc)
            raise CommandError(
                FailureCode.INVALID_TABLE, st.last_reason, st.last_reason.encode()[:64]
            ) from None
        st.inactive, st.inactive_value = bytes(image), value
        st.loads += 1
        return st

    def validate(self, name: str) -> TableState:
        """Run the owner's validation on the inactive image; a refusal drops it."""
        st = self.state(name)
        if st.inactive is None:
            raise CommandError(FailureCode.INVALID_STATE, f"table {name!r}: nothing loaded")
        try:
            reason = st.tdef.validate(st.inactive_value)
        except Exception as exc:  # a validation function that raises refuses the image
            reason = f"validation raised {type(exc).__name__}: {exc}"
        if reason is not None:
            st.rejects += 1
            st.last_reason = reason
            st.inactive, st.inactive_value, st.validated = None, None, False
            raise CommandError(FailureCode.INVALID_TABLE, reason, reason.encode()[:64])
        st.validated = True
        return st

    def activate(self, name: str) -> TableState:
        """Commit the validated inactive image: golden copy on NV first, then the swap."""
        st = self.state(name)
        if st.inactive is None or not st.validated:
            raise CommandError(FailureCode.INVALID_STATE, f"table {name!r}: not validated")
        image, value = st.inactive, st.inactive_value
        st.golden.write(image)  # a power loss here leaves the old or the new image whole
        st.active, st.active_crc = image, crc32(image)
        st.inactive, st.inactive_value, st.validated = None, None, False
        st.commits += 1
        st.tdef.apply(value)
        return st

    def abort(self, name: str) -> None:
        """Drop the inactive buffer."""
        st = self.state(name)
        st.inactive, st.inactive_value, st.validated = None, None, False

    def commit(self, name: str, value: Any) -> TableState:
        """Load, validate and activate a decoded value in one go (an owner's own TCs)."""
        st = self.state(name)
        self.load(name, encode(st.tdef.layout, value, {}, name))
        self.validate(name)
        return self.activate(name)

    def active_value(self, name: str) -> Any:
        st = self.state(name)
        return decode(st.tdef.layout, st.active, name)

    # --- integrity ------------------------------------------------------------------
    def check_critical(self) -> list[str]:
        """CRC of every critical table's active image; a mismatch is repaired from the
        golden copy. Returns the names repaired."""
        repaired: list[str] = []
        for name, st in self.tables.items():
            if not st.tdef.critical:
                continue
            self.checks += 1
            if crc32(st.active) == st.active_crc:
                continue
            golden = st.golden.read()
            if golden is None or crc32(golden) != st.active_crc:
                # The golden copy is gone or disagrees with the committed CRC: rebuild
                # from the default rather than run on an image nobody committed.
                self.unrepairable += 1
                golden = encode(st.tdef.layout, st.tdef.default, {}, name)
                st.golden.write(golden)
            st.active, st.active_crc = golden, crc32(golden)
            st.repairs += 1
            self.repairs += 1
            st.tdef.apply(decode(st.tdef.layout, golden, name))
            repaired.append(name)
        return repaired
