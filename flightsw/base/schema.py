"""Declared configuration: every key of a mission file, its type, range, default and doc.

A ``Schema`` is a tuple of ``Opt`` declarations, one per key. ``Schema.validate`` checks
a table read from TOML before anything runs: unknown keys, wrong types (a boolean is not
a number, a string is not a boolean), numbers that are not finite or out of range,
strings outside their choices, hex that is not hex, nested tables and arrays. It returns
the table with every default filled in, so the declaration is also where defaults come
from. Errors are ``ConfigError`` naming the dotted key and the value; the mission loader
adds the file.

Adding a key is one line next to the code that reads it, e.g. in an app::

    OPTIONS = Schema(
        Opt("scid", "int", 0x2A, min=0, max=1023, doc="spacecraft id"),
        Opt("sdls", "table", None, fields=SDLS, doc="TC authentication; absent: none"),
    )

This module is a leaf (it imports only ``flightsw.base.errors``), so the HAL backends below
the framework declare their tables with it too.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import FlightswError

TYPES = ("int", "float", "bool", "str", "hex", "table", "list", "any")
MAX_STR = 4096
_HEX = set(string.hexdigits)


class ConfigError(FlightswError, ValueError):
    """A configuration value its declaration refuses; names the dotted key and the value."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


def show(value: object, limit: int = 60) -> str:
    """A short, one-line rendering of a user's value for an error message."""
    if isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = f"an array of {len(value)}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a key that must be given."""


@dataclass(frozen=True)
class Opt:
    """One key: its type, default (``None``: may be absent; ``REQUIRED``: must be given),
    inclusive range (numbers; for ``hex`` the length in octets; for ``list`` the number
    of items), allowed values, and for tables and arrays what they hold."""

    name: str
    type: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()  # for a "table": words that may stand instead of it
    doc: str = ""
    unit: str = ""
    fields: Schema | None = None  # a "table": its keys (None: any keys, checked elsewhere)
    items: Opt | None = None  # a "list": what each item is
    above: float | None = None  # an exclusive lower bound (a rate must be > 0)
    pattern: str | None = None  # a "str" must match this regular expression whole

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name!r}: unknown type {self.type!r}")
        if self.type == "list" and self.items is None:
            raise ValueError(f"option {self.name!r}: a list needs items")

    def check(self, value: Any, key: str) -> Any:
        """The value checked (and for tables, defaults filled); ConfigError otherwise."""
        kind = self.type
        if kind == "any":
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(key, f"{show(value)} is not a boolean (true or false)")
            return value
        if kind in ("int", "float"):
            return self._number(value, key)
        if kind in ("str", "hex"):
            return self._text(value, key)
        if kind == "table":
            if self.choices and isinstance(value, str) and value in self.choices:
                return value  # a word standing for a whole table (sdls = "none")
            if not isinstance(value, Mapping):
                words = f" or one of {list(self.choices)}" if self.choices else ""
                raise ConfigError(key, f"{show(value)} is not a table{words}")
            return dict(value) if self.fields is None else self.fields.validate(value, key)
        if not isinstance(value, list):
            raise ConfigError(key, f"{show(value)} is not an array")
        self._range(len(value), key, "items")
        assert self.items is not None
        return [self.items.check(v, f"{key}[{i}]") for i, v in enumerate(value)]

    def _number(self, value: Any, key: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            want = "an integer" if self.type == "int" else "a number"
            raise ConfigError(key, f"{show(value)} is not {want}")
        if self.type == "int" and not isinstance(value, int):
            raise ConfigError(key, f"{show(value)} is not an integer")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(key, f"{show(value)} is not a finite number")
        if self.above is not None and not value > self.above:
            raise ConfigError(key, f"{show(value)} must be greater than {self.above:g}")
        self._range(value, key, "")
        if self.choices and value not in self.choices:
            raise ConfigError(key, f"{show(value)} is not one of {list(self.choices)}")
        return float(value) if self.type == "float" else value

    def _text(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise ConfigError(key, f"{show(value)} is not a string")
        if len(value) > MAX_STR:
            raise ConfigError(key, f"a string of {len(value)} characters (at most {MAX_STR})")
        if self.choices and value not in self.choices:
            raise ConfigError(key, f"{show(value)} is not one of {list(self.choices)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise ConfigError(key, f"{show(value)} does not match {self.pattern}")
        if self.type == "hex":
            bad = next((i for i, c in enumerate(value) if c not in _HEX), None)
            if bad is not None or len(value) % 2:
                raise ConfigError(key, f"{show(value)} is not hex (an even number of 0-9a-f)")
            self._range(len(value) // 2, key, "octets")
        return value

    def _range(self, value: float, key: str, what: str) -> None:
        lo, hi = self.min, self.max
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            lo_s = "" if lo is None else f"{lo:g}"
            hi_s = "" if hi is None else f"{hi:g}"
            got = show(value) if not what else f"{value:g} {what}"
            raise ConfigError(key, f"{got} is outside {lo_s}..{hi_s}{' ' + what if what else ''}")

    def doc_line(self) -> str:
        """One line for generated documentation."""
        bounds = ""
        if self.min is not None or self.max is not None or self.above is not None:
            lo = "" if self.min is None else f"{self.min:g}"
            if self.above is not None:
                lo = f">{self.above:g}"
            hi = "" if self.max is None else f"{self.max:g}"
            bounds = f" [{lo}..{hi}]"
        default = "" if self.default is None else f" = {self.default!r}"
        return f"{self.name}: {self.type}{bounds}{default}  {self.doc}".rstrip()


class Schema:
    """The keys of one table. ``check`` (optional) sees the filled table and raises
    ValueError (or a FlightswError) for what single keys cannot say (keys that depend on
    each other); the error then names the table."""

    def __init__(self, *opts: Opt, check: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.opts: dict[str, Opt] = {}
        for opt in opts:
            if opt.name in self.opts:
                raise ValueError(f"option {opt.name!r} declared twice")
            self.opts[opt.name] = opt
        self.check = check

    def __iter__(self) -> Iterator[Opt]:
        return iter(self.opts.values())

    def __contains__(self, name: object) -> bool:
        return name in self.opts

    def __len__(self) -> int:
        return len(self.opts)

    def __bool__(self) -> bool:
        return True  # a schema with no keys is still a schema (see tests/test_code_quality)

    def extend(self, *opts: Opt) -> Schema:
        """This schema with more keys (a key declared twice is an error)."""
        return Schema(*self.opts.values(), *opts, check=self.check)

    def validate(self, raw: Any, where: str) -> dict[str, Any]:
        """``raw`` checked key by key, defaults filled; ConfigError naming ``where.key``."""
        if not isinstance(raw, Mapping):
            raise ConfigError(where or "-", f"{show(raw)} is not a table")
        prefix = f"{where}." if where else ""
        unknown = [k for k in raw if k not in self.opts]
        if unknown:
            name = sorted(map(str, unknown))[0]
            allowed = ", ".join(self.opts) or "none"
            raise ConfigError(f"{prefix}{name}", f"unknown key (allowed: {allowed})")
        out: dict[str, Any] = {}
        for name, opt in self.opts.items():
            key = f"{prefix}{name}"
            if name in raw:
                out[name] = opt.check(raw[name], key)
            elif opt.default is REQUIRED:
                raise ConfigError(key, "missing")
            elif opt.default is not None:
                if opt.type == "table" and opt.fields is not None:
                    out[name] = opt.fields.validate(opt.default, key)
                else:
                    out[name] = copy.deepcopy(opt.default)
        if self.check is not None:
            try:
                self.check(out)
            except ConfigError as exc:
                raise ConfigError(f"{prefix}{exc.key}", exc.reason) from None
            except (ValueError, TypeError, FlightswError) as exc:
                raise ConfigError(where or "-", str(exc)) from None
        return out

    def defaults(self) -> dict[str, Any]:
        """The table an empty input gives."""
        return self.validate({}, "")

    def doc_lines(self, indent: str = "") -> list[str]:
        """The declaration as text, nested tables indented."""
        lines = []
        for opt in self:
            lines.append(indent + opt.doc_line())
            if opt.fields is not None:
                lines += opt.fields.doc_lines(indent + "  ")
        return lines


NUMBER_RANGE = (0.0, 1e9)  # a count, size, power or time: finite and not negative


def from_dataclass(
    cls: Any,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    skip: tuple[str, ...] = (),
    nested: Mapping[str, Schema] | None = None,
    fill: bool = False,
    default_range: tuple[float, float] = NUMBER_RANGE,
) -> Schema:
    """The keys of a configuration dataclass: one per field, typed from its default.

    A field's range is ``metadata={"min": .., "max": .., "doc": .., "unit": ..}`` on the
    field, else its line in ``ranges``, else ``default_range``. With ``fill`` the
    defaults of the dataclass are filled in; otherwise absent keys stay absent (the
    dataclass supplies them). Fields whose default is not a bool, int, float or str
    (and not in ``nested``) cannot be set from a file and are left out.
    """
    opts = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        if nested and f.name in nested:
            opts.append(Opt(f.name, "table", {} if fill else None, fields=nested[f.name]))
            continue
        kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(f.default))
        if kind is None:
            continue
        lo, hi = (ranges or {}).get(f.name, default_range)
        meta = f.metadata
        numeric = kind in ("int", "float")
        opts.append(
            Opt(
                f.name,
                kind,
                f.default if fill else None,
                min=meta.get("min", lo) if numeric else None,
                max=meta.get("max", hi) if numeric else None,
                doc=str(meta.get("doc", "")),
                unit=str(meta.get("unit", "")),
            )
        )
    return Schema(*opts)
