"""Commanding by name: turn ``app.command`` and argument values into a PUS TC.

The dictionary says how each command is routed and what its arguments are; this module
checks the values against it (type and range) before anything is sent, raising
EncodeError for an unknown command or a bad value. Commands whose application data has
a variable layout (the standard services' N × id lists) take named values encoded by
the layout the dictionary gives (:mod:`flightsw.framework.layouts`), or ``app_data`` bytes.
"""

from __future__ import annotations

import struct
from typing import Any

from flightsw.base.errors import EncodeError
from flightsw.framework import layouts
from flightsw.framework.datatypes import TYPES, data_type
from flightsw.packets import PusTc


class CommandEncoder:
    """Builds TCs by command name for one mission dictionary."""

    def __init__(self, dictionary: dict[str, Any]) -> None:
        self.apid: int = dictionary["apid"]
        self.commands: dict[str, dict[str, Any]] = {c["name"]: c for c in dictionary["commands"]}
        self.seq_count = 0
        self._tables = layouts.tables_from_dictionary(dictionary)

    def app_data(
        self, name: str, args: dict[str, Any] | None = None, app_data: bytes | None = None
    ) -> tuple[dict[str, Any], bytes]:
        """The command's dictionary entry and its encoded application data."""
        cmd = self.commands.get(name)
        if cmd is None:
            raise EncodeError("command", f"unknown command {name!r}; {self._suggest(name)}")
        args = dict(args or {})
        if cmd["args"] is None:
            layout = cmd.get("layout")
            if args and not isinstance(layout, dict):
                raise EncodeError(name, "takes app_data bytes, not named arguments")
            if args and app_data is not None:
                raise EncodeError(name, "takes named values or app_data, not both")
            if args and isinstance(layout, dict):
                body = layouts.encode(layouts.build(layout), args, self._tables, name)
            else:
                body = app_data or b""
        else:
            if app_data is not None:
                raise EncodeError(name, "takes named arguments, not app_data")
            body = self._pack(name, cmd["args"], args)
        if cmd["function_id"] is not None:
            body = struct.pack(">H", cmd["function_id"]) + body
        return cmd, body

    def _suggest(self, name: str) -> str:
        """What the dictionary has near ``name``: close command names, else the apps."""
        import difflib

        close = difflib.get_close_matches(name, self.commands, n=3, cutoff=0.6)
        if close:
            return f"did you mean {', '.join(close)}?"
        apps = sorted({c.split(".", 1)[0] for c in self.commands})
        return f"apps: {', '.join(apps)}"

    @staticmethod
    def _pack(name: str, decl: list[dict[str, Any]], args: dict[str, Any]) -> bytes:
        unknown = set(args) - {a["name"] for a in decl}
        if unknown:
            allowed = ", ".join(a["name"] for a in decl) or "none"
            raise EncodeError(name, f"unknown arguments {sorted(unknown)}; allowed: {allowed}")
        values = []
        for a in decl:
            field = f"{name}.{a['name']}"
            if a["name"] not in args:
                raise EncodeError(field, "missing argument")
            v = data_type(a["type"]).coerce(args[a["name"]], field)
            if (a["min"] is not None and v < a["min"]) or (a["max"] is not None and v > a["max"]):
                raise EncodeError(field, f"{v} outside [{a['min']}, {a['max']}]")
            values.append(v)
        return struct.pack(">" + "".join(TYPES[a["type"]].code for a in decl), *values)

    def encode(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        app_data: bytes | None = None,
        ack_flags: int = 0b1111,
        source_id: int = 0,
    ) -> bytes:
        """A complete TC packet; the sequence count advances with each call."""
        cmd, body = self.app_data(name, args, app_data)
        tc = PusTc(
            apid=self.apid,
            service=cmd["service"],
            subservice=cmd["subservice"],
            app_data=body,
            seq_count=self.seq_count,
            ack_flags=ack_flags,
            source_id=source_id,
        )
        self.seq_count = (self.seq_count + 1) & 0x3FFF
        return tc.encode()


def id_list(ids: list[int]) -> bytes:
    """N:u8 followed by N u16 ids: the layout of the PUS 3/5/20 id-list TCs."""
    if len(ids) > 255:
        raise EncodeError("ids", "at most 255 ids per TC")
    return struct.pack(f">B{len(ids)}H", len(ids), *ids)
