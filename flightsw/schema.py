"""Schemas of configuration tables as the flight side imports them; defined in
:mod:`flightsw_base.schema` (the bottom layer: hal declares its [hal] tables with it)."""

from __future__ import annotations

from flightsw_base.schema import (
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
