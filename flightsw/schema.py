"""Schemas of configuration tables as the flight side imports them; defined in
:mod:`flightsw.base.schema` (the bottom layer: hal declares its [hal] tables with it)."""

from __future__ import annotations

from flightsw.base.schema import (
    MAX_STR,
    NUMBER_RANGE,
    REQUIRED,
    TYPES,
    ConfigError,
    Opt,
    Schema,
    from_dataclass,
    show,
)

__all__ = [
    "MAX_STR",
    "NUMBER_RANGE",
    "REQUIRED",
    "TYPES",
    "ConfigError",
    "Opt",
    "Schema",
    "from_dataclass",
    "show",
]
