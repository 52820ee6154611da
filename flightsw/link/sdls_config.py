"""The link security a mission asks for, read from the comms service's ``sdls`` option.

One reading, shared by the flight side (``flightsw.services.comms.app``), the ground station
and the CLI, so the three can never disagree on a key or an SPI.

``sdls = "none"`` runs the link without authentication: an explicit choice, reported at
start. Otherwise ``sdls`` is a table::

    sdls = { spi = 1, key = "<hex>", mode = "hmac-sha256",      # the TC SA (required)
             km = { spi = 2, key = "<hex>" },                     # key-management SA
             tm = { spi = 3, key = "<hex>", arsn_len = 8 },       # authenticated TM
             master_key = "<hex>",                                # unwraps loaded keys
             allow_published_key = false,
             require_state = false }     # true: the state was provisioned before flight

With a key-management SA, an endpoint whose saved state is lost starts locked until the
ground answers its challenge (see :mod:`flightsw.link.sdls`); ``require_state`` says that
state *absent* from the NV store is lost too (a flight build whose state was written at
integration), rather than a first start.

A comms service with no ``sdls`` option at all is refused: no authentication must never
be the result of a forgotten line.

Published keys: the keys printed in this repository (the default mission's, the
trivial ones) are known to everyone. :meth:`LinkSecurity.published` names the SAs that
use one; the flight build and the CLI warn about them, and refuse them outside SIL
(bench hardware, a real radio) unless ``allow_published_key = true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.link.sdls import SecurityAssociation

SA_KEYS = {"spi", "key", "mode", "arsn_len"}
SDLS_KEYS = {
    "spi",
    "key",
    "mode",
    "km",
    "tm",
    "master_key",
    "allow_published_key",
    "require_state",
}
TM_DEFAULT_ARSN_LEN = 8  # TM frames flow fast: 4 octets would run out in months


def _published() -> frozenset[bytes]:
    shipped = [bytes(range(i, i + 32)) for i in (0, 32, 64, 96)]  # the default mission's
    trivial = [bytes(32), b"\xff" * 32]
    keys: set[bytes] = set()
    for k in shipped + trivial:
        keys.update({k, k[:16], k[:24]})
    return frozenset(keys)


PUBLISHED_KEYS = _published()


class SdlsConfigError(FlightswError):
    """A link security configuration that cannot be used; names the option."""


def _hex_key(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise SdlsConfigError(f"{where}: a hex string, not {type(value).__name__}")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise SdlsConfigError(f"{where}: not hex ({exc})") from None


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SdlsConfigError(f"{where}: an integer, not {value!r}")
    return value


def _sa(
    table: dict[str, Any],
    where: str,
    key_management: bool = False,
    arsn_len: int = 4,
    allowed: set[str] = SA_KEYS,
) -> SecurityAssociation:
    unknown = set(table) - allowed
    if unknown:
        raise SdlsConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for required in ("spi", "key"):
        if required not in table:
            raise SdlsConfigError(f"{where}.{required}: missing")
    mode = table.get("mode", "hmac-sha256")
    if mode not in ("hmac-sha256", "aes-gcm"):
        raise SdlsConfigError(f"{where}.mode: {mode!r} is not hmac-sha256 or aes-gcm")
    try:
        return SecurityAssociation(
            spi=_int(table["spi"], f"{where}.spi"),
            key=_hex_key(table["key"], f"{where}.key"),
            mode=mode,
            arsn_len=_int(table.get("arsn_len", arsn_len), f"{where}.arsn_len"),
            key_management=key_management,
        )
    except ValueError as exc:
        raise SdlsConfigError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class LinkSecurity:
    """The security associations of one mission's space link (all None: ``sdls = "none"``)."""

    tc: SecurityAssociation | None = None
    km: SecurityAssociation | None = None
    tm: SecurityAssociation | None = None
    master_key: bytes | None = None
    allow_published_key: bool = False
    require_state: bool = False

    @property
    def enabled(self) -> bool:
        return self.tc is not None

    @property
    def tc_sas(self) -> list[SecurityAssociation]:
        """The SAs of the TC SDLS function: data, then key management."""
        return [sa for sa in (self.tc, self.km) if sa is not None]

    def published(self) -> list[str]:
        """What uses a published key, e.g. ``["TC SA 1", "master key"]``."""
        out = [
            f"{name} SA {sa.spi}"
            for name, sa in (("TC", self.tc), ("key-management", self.km), ("TM", self.tm))
            if sa is not None and sa.key in PUBLISHED_KEYS
        ]
        if self.master_key is not None and self.master_key in PUBLISHED_KEYS:
            out.append("master key")
        return out

    def notices(self) -> list[str]:
        """What to say at start (stderr, and an event on board)."""
        if not self.enabled:
            return ['SDLS is off (sdls = "none"): anyone who can reach the uplink can command']
        published = self.published()
        if published:
            return [
                f"published test key in use ({', '.join(published)}): anyone can command "
                "this build; a flight build loads its own keys"
            ]
        return []

    def check_deployment(self, simulated: bool) -> None:
        """Refuse published keys outside SIL unless the mission allows them explicitly."""
        published = self.published()
        if published and not simulated and not self.allow_published_key:
            raise SdlsConfigError(
                f"comms.options.sdls: published test key ({', '.join(published)}) outside "
                "simulation (bench hardware or a real radio); load your own keys, or set "
                "allow_published_key = true to accept the risk"
            )


def link_security(options: dict[str, Any], where: str = "comms.options") -> LinkSecurity:
    """The link security from a comms service's options; :class:`SdlsConfigError` if unusable."""
    if "sdls" not in options:
        raise SdlsConfigError(
            f'{where}.sdls: missing; configure the SAs, or say sdls = "none" to run '
            "without authentication"
        )
    sdls = options["sdls"]
    where = f"{where}.sdls"
    if sdls == "none":
        return LinkSecurity()
    if not isinstance(sdls, dict):
        raise SdlsConfigError(f'{where}: a table of SAs or "none", not {sdls!r}')
    unknown = set(sdls) - SDLS_KEYS
    if unknown:
        raise SdlsConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    tc = _sa({k: v for k, v in sdls.items() if k in ("spi", "key", "mode")}, where)
    km = tm = None
    if "km" in sdls:
        km = _sa(_table(sdls["km"], f"{where}.km"), f"{where}.km", key_management=True)
    if "tm" in sdls:
        tm = _sa(_table(sdls["tm"], f"{where}.tm"), f"{where}.tm", arsn_len=TM_DEFAULT_ARSN_LEN)
    spis = [sa.spi for sa in (tc, km, tm) if sa is not None]
    if len(set(spis)) != len(spis):
        raise SdlsConfigError(f"{where}: SPIs {spis} must all differ")
    master = None
    if "master_key" in sdls:
        master = _hex_key(sdls["master_key"], f"{where}.master_key")
        if len(master) not in (16, 24, 32):
            raise SdlsConfigError(f"{where}.master_key: {len(master)} octets; 16, 24 or 32")
    allow = sdls.get("allow_published_key", False)
    if not isinstance(allow, bool):
        raise SdlsConfigError(f"{where}.allow_published_key: true or false, not {allow!r}")
    require = sdls.get("require_state", False)
    if not isinstance(require, bool):
        raise SdlsConfigError(f"{where}.require_state: true or false, not {require!r}")
    return LinkSecurity(tc, km, tm, master, allow, require)


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SdlsConfigError(f"{where}: a table {{ spi, key, mode }}, not {value!r}")
    return value
