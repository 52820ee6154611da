"""Declared configuration: checks, defaults, and nothing but ConfigError on any input."""

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.schema import REQUIRED, ConfigError, Opt, Schema, from_dataclass
from sim_hw.spacecraft import SpacecraftConfig

INNER = Schema(Opt("gain", "float", 1.0, min=0, max=5), Opt("on", "bool", False))
SCHEMA = Schema(
    Opt("count", "int", 3, min=1, max=10),
    Opt("rate", "float", None, above=0, max=100),
    Opt("mode", "str", "a", choices=("a", "b")),
    Opt("name", "str", REQUIRED, pattern=r"[a-z]+"),
    Opt("key", "hex", None, min=2, max=4),
    Opt("inner", "table", {}, fields=INNER),
    Opt("tags", "list", [], max=3, items=Opt("tag", "str")),
    check=lambda t: None if t["count"] != 7 else (_ for _ in ()).throw(ValueError("not 7")),
)

toml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["a", "b", "abc", "00ff", "0", "zz"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["gain", "on", "x", "count", "name"]), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(["count", "rate", "mode", "name", "key", "inner", "tags", "bogus"])


@given(st.dictionaries(keys, toml_values, max_size=8))
def test_any_table_gives_a_checked_table_or_a_config_error(raw: dict[str, Any]) -> None:
    try:
        out = SCHEMA.validate(raw, "t")
    except ConfigError as exc:
        assert exc.key.startswith("t") and "\n" not in str(exc)
        return
    assert set(out) >= {"count", "mode", "name", "inner", "tags"}
    assert isinstance(out["count"], int) and 1 <= out["count"] <= 10 and out["count"] != 7
    assert "rate" not in out or (isinstance(out["rate"], float) and 0 < out["rate"] <= 100)
    assert math.isfinite(out["inner"]["gain"])
    assert SCHEMA.validate(out, "t") == out  # checking a checked table changes nothing


def test_messages_name_the_key_and_the_value() -> None:
    cases = [
        ({"name": "x", "count": True}, "t.count", "True is not an integer"),
        ({"name": "x", "count": 2.0}, "t.count", "2.0 is not an integer"),
        ({"name": "x", "rate": 0}, "t.rate", "0 must be greater than 0"),
        ({"name": "x", "rate": math.inf}, "t.rate", "inf is not a finite number"),
        ({"name": "x", "mode": "c"}, "t.mode", "'c' is not one of ['a', 'b']"),
        ({"name": "X"}, "t.name", "'X' does not match"),
        ({}, "t.name", "missing"),
        ({"name": "x", "key": "0g"}, "t.key", "is not hex"),
        ({"name": "x", "key": "00"}, "t.key", "1 octets is outside 2..4"),
        ({"name": "x", "inner": {"on": "false"}}, "t.inner.on", "'false' is not a boolean"),
        ({"name": "x", "inner": {"gian": 1}}, "t.inner.gian", "unknown key (allowed: gain, on)"),
        ({"name": "x", "tags": ["a", 1]}, "t.tags[1]", "1 is not a string"),
        ({"name": "x", "tags": ["a"] * 4}, "t.tags", "4 items is outside ..3 items"),
        ({"name": "x", "count": 7}, "t", "not 7"),
    ]
    for raw, key, words in cases:
        with pytest.raises(ConfigError) as info:
            SCHEMA.validate(raw, "t")
        assert info.value.key == key and words in str(info.value), (raw, str(info.value))


def test_defaults_come_from_the_declaration() -> None:
    out = SCHEMA.validate({"name": "x"}, "t")
    assert out == {
        "count": 3,
        "mode": "a",
        "name": "x",
        "inner": {"gain": 1.0, "on": False},
        "tags": [],
    }
    out["tags"].append("y")  # defaults are copies, never shared
    assert SCHEMA.validate({"name": "x"}, "t")["tags"] == []


def test_a_dataclass_gives_its_keys() -> None:
    schema = from_dataclass(SpacecraftConfig, {"boards": (1, 10)})
    assert "boards" in schema and "altitude_km" in schema and "schedule" not in schema
    assert schema.validate({"boards": 4}, "sc") == {"boards": 4}
    with pytest.raises(ConfigError, match=r"11 is outside 1\.\.10"):
        schema.validate({"boards": 11}, "sc")
    with pytest.raises(ConfigError, match=r"-1\.0 is outside 0"):
        schema.validate({"avionics_w": -1.0}, "sc")


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Schema(Opt("a", "int"), Opt("a", "int"))
    with pytest.raises(ValueError, match="unknown type"):
        Opt("a", "integer")
