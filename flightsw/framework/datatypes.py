"""Scalar data types shared by commands, telemetry, events and parameters.

One table says how each type is packed on the wire (big-endian, as CCSDS and PUS use)
and what values it can hold, so range checks and the ground dictionary agree with the
encoder.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from flightsw.base.errors import CommandError, EncodeError

Value = int | float | bool


@dataclass(frozen=True, slots=True)
class DataType:
    """A wire type: its name, struct code, and the range of values it can hold."""

    name: str
    code: str
    kind: str  # "uint", "int", "float", "bool"
    bits: int

    @property
    def size(self) -> int:
        return self.bits // 8

    @property
    def min(self) -> float:
        if self.kind == "int":
            return -(1 << (self.bits - 1))
        if self.kind == "float":
            return -math.inf
        return 0

    @property
    def max(self) -> float:
        if self.kind == "uint":
            return (1 << self.bits) - 1
        if self.kind == "int":
            return (1 << (self.bits - 1)) - 1
        if self.kind == "bool":
            return 1
        return math.inf

    def coerce(self, value: object, field: str) -> Value:
        """Check a Python value against this type; raise EncodeError naming the field."""
        if self.kind == "bool":
            if isinstance(value, bool) or value in (0, 1):
                return bool(value)
            raise EncodeError(field, f"expected a bool, got {value!r}")
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EncodeError(field, f"expected a number, got {value!r}")
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EncodeError(field, f"expected an integer, got {value!r}")
        if not self.min <= value <= self.max:
            raise EncodeError(field, f"{value} outside {self.name} range [{self.min}, {self.max}]")
        return value


TYPES: dict[str, DataType] = {
    t.name: t
    for t in (
        DataType("u8", "B", "uint", 8),
        DataType("u16", "H", "uint", 16),
        DataType("u32", "I", "uint", 32),
        DataType("u64", "Q", "uint", 64),
        DataType("i8", "b", "int", 8),
        DataType("i16", "h", "int", 16),
        DataType("i32", "i", "int", 32),
        DataType("i64", "q", "int", 64),
        DataType("f32", "f", "float", 32),
        DataType("f64", "d", "float", 64),
        DataType("bool", "?", "bool", 8),
    )
}


def data_type(name: str) -> DataType:
    """Look a type up by name; DeclarationError-free so callers choose their error."""
    try:
        return TYPES[name]
    except KeyError:
        raise EncodeError("type", f"unknown data type {name!r}; known: {sorted(TYPES)}") from None


def struct_for(type_names: list[str] | tuple[str, ...]) -> struct.Struct:
    """A big-endian struct packing the given types in order."""
    return struct.Struct(">" + "".join(data_type(n).code for n in type_names))


def in_range(value: Value, lo: float | None, hi: float | None) -> bool:
    """True when value lies in [lo, hi] (None = unbounded); NaN is never in range."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def check_range(name: str, value: Value, lo: float | None, hi: float | None, code: int) -> None:
    """Raise CommandError(code) when a value is outside its declared range."""
    if not in_range(value, lo, hi):
        raise CommandError(code, f"{name}={value} outside [{lo}, {hi}]")
