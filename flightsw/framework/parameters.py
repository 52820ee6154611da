"""Parameters as the executive keeps them: one store for every app's tunables.

Each app's declared parameters get a global id (its id base + local id); values are
type- and range-checked on every set. An app sees only its own (``ctx.params``,
:class:`OwnParameters`); the whole store is the executive service ``ParameterMemory``
(PUS 20, :mod:`flightsw.services.parameters`, and FDIR's memory guard declare it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flightsw.base.errors import DeclarationError, EncodeError
from flightsw.framework.app import ParameterDef
from flightsw.framework.datatypes import Value, data_type


@dataclass
class ParameterEntry:
    """One parameter: who owns it, its declaration and its global id."""

    app: str
    pid: int
    pdef: ParameterDef


class ParameterMemory(Protocol):
    """Every app's parameters: declarations by global id, values by app and name, and the
    count of legitimate sets (a value that changed without one is an upset)."""

    @property
    def by_id(self) -> Mapping[int, ParameterEntry]: ...

    @property
    def values(self) -> Mapping[str, dict[str, Value]]: ...

    @property
    def sets(self) -> int: ...

    def set_by_id(self, pid: int, value: Value) -> None: ...

    def value_by_id(self, pid: int) -> Value: ...


class ParameterStore:
    """Values of all parameters, addressed by (app, name) on board and by id on the ground."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Value]] = {}
        self.by_id: dict[int, ParameterEntry] = {}
        self.sets = 0

    def declare(self, app: str, id_base: int, pdef: ParameterDef, override: Any = None) -> None:
        pid = id_base + pdef.local_id
        if pid in self.by_id:
            other = self.by_id[pid]
            raise DeclarationError(
                f"parameter id 0x{pid:04x} of {app}.{pdef.name} already used by "
                f"{other.app}.{other.pdef.name}"
            )
        value = pdef.default if override is None else override
        checked = self.validate(pdef, value)
        self.by_id[pid] = ParameterEntry(app, pid, pdef)
        self.values.setdefault(app, {})[pdef.name] = checked

    @staticmethod
    def validate(pdef: ParameterDef, value: Any) -> Value:
        """Type- and range-check a value; raises EncodeError naming the parameter."""
        v = data_type(pdef.type).coerce(value, pdef.name)
        if isinstance(v, float) and math.isnan(v):
            raise EncodeError(pdef.name, "NaN is not a valid value")
        if (pdef.min is not None and v < pdef.min) or (pdef.max is not None and v > pdef.max):
            raise EncodeError(pdef.name, f"{v} outside [{pdef.min}, {pdef.max}]")
        return v

    def get(self, app: str, name: str) -> Value:
        return self.values[app][name]

    def set(self, app: str, name: str, value: Any) -> None:
        entry = next(e for e in self.by_id.values() if e.app == app and e.pdef.name == name)
        self.values[app][name] = self.validate(entry.pdef, value)
        self.sets += 1

    def set_by_id(self, pid: int, value: Value) -> None:
        entry = self.by_id[pid]
        self.values[entry.app][entry.pdef.name] = value
        self.sets += 1

    def value_by_id(self, pid: int) -> Value:
        entry = self.by_id[pid]
        return self.values[entry.app][entry.pdef.name]


class OwnParameters:
    """One app's parameters as the app sees them (``ctx.params``): its own values, read
    and set (checked, and counted as a change as PUS-20's are), and no other app's. The
    whole store is the executive service ``ParameterMemory`` (FDIR's memory guard and
    PUS-20 declare it)."""

    __slots__ = ("_app", "_store", "values")

    def __init__(self, store: ParameterStore, app: str) -> None:
        self._store = store
        self._app = app
        self.values: dict[str, Value] = store.values.get(app, {})

    def get(self, name: str) -> Value:
        return self.values[name]

    def set(self, name: str, value: Any) -> None:
        self._store.set(self._app, name, value)
