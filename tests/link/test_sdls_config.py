"""Reading the mission's link security: SAs, "none", published keys, refusals."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest

from flightsw.link.sdls_config import (
    PUBLISHED_KEYS,
    SdlsConfigError,
    link_security,
)
from flightsw.runtime.mission import load_mission

OWN = "5a" * 32  # a key nobody published


def sdls(**kw: Any) -> dict[str, Any]:
    return {"sdls": {"spi": 1, "key": OWN, **kw}}


def test_default_mission_has_tc_km_tm_and_says_its_keys_are_published() -> None:
    comms = next(s for s in load_mission().apps if s.name == "comms")
    sec = link_security(comms.options)
    assert sec.tc is not None and sec.km is not None and sec.tm is not None
    assert sec.km.key_management and sec.tm.arsn_len == 8 and sec.master_key is not None
    assert sec.published() == ["TC SA 1", "key-management SA 2", "TM SA 3", "master key"]
    assert "published test key" in sec.notices()[0]
    sec.check_deployment(simulated=True)
    with pytest.raises(SdlsConfigError, match="outside simulation"):
        sec.check_deployment(simulated=False)


def test_every_key_shipped_in_a_mission_file_counts_as_published() -> None:
    data = resources.files("flightsw") / "data"
    shipped = [
        bytes.fromhex(m)
        for f in data.iterdir()
        if f.name.endswith(".toml")
        for m in re.findall(r'"([0-9a-fA-F]{32,64})"', f.read_text())
    ]
    assert shipped and all(k in PUBLISHED_KEYS for k in shipped)


def test_own_keys_run_anywhere_published_ones_only_when_allowed() -> None:
    own = link_security(sdls(km={"spi": 2, "key": OWN}))
    assert own.published() == [] and own.notices() == []
    own.check_deployment(simulated=False)
    test_key = bytes(range(32)).hex()
    allowed = link_security({"sdls": {"spi": 1, "key": test_key, "allow_published_key": True}})
    allowed.check_deployment(simulated=False)
    assert allowed.notices()  # still said, loudly


def test_no_sdls_must_be_said() -> None:
    with pytest.raises(SdlsConfigError, match='sdls = "none"'):
        link_security({"scid": 42})
    off = link_security({"sdls": "none"})
    assert not off.enabled and "off" in off.notices()[0]


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"sdls": "yes"}, "sdls"),
        ({"sdls": {"spi": 1}}, "sdls.key"),
        (sdls(spy=3), "unknown key 'spy'"),
        (sdls(mode="des"), "sdls.mode"),
        (sdls(km={"spi": 1, "key": OWN}), "must all differ"),
        (sdls(km={"spi": 2, "key": "zz"}), "sdls.km.key"),
        (sdls(km=[2]), "sdls.km"),
        (sdls(tm={"spi": 3, "key": OWN, "arsn_len": 9}), "sdls.tm"),
        (sdls(tm={"spi": 3, "key": OWN, "salt": 1}), "unknown key 'salt'"),
        (sdls(master_key="00"), "sdls.master_key"),
        (sdls(allow_published_key="false"), "allow_published_key"),
        ({"sdls": {"spi": True, "key": OWN}}, "sdls.spi"),
        ({"sdls": {"spi": 0, "key": OWN}}, "SPI 0"),
        ({"sdls": {"spi": 1, "key": "00" * 8}}, "HMAC key of 8"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, Any], where: str) -> None:
    with pytest.raises(SdlsConfigError, match=re.escape(where)):
        link_security(options)
