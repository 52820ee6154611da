"""What the ground console knows of the spacecraft, decoded from the dictionary alone:
named values with units and limit state, events with severity, the command history with
its PUS-1 stages, and playback kept apart from real time.

The console (line mode or full screen) feeds it every TM packet with the channel it came
on (real time, or playback of the packet store) and every command it sends; it answers
with the lines the line mode prints and keeps the tables the full-screen view shows.

Limit state: the spacecraft's own PUS-12 monitoring definitions, as its definitions
report TM(12,9) gives them (``monitoring.report_monitoring_definitions``), are checked on
the ground against each value of the point they name (``LOW``/``HIGH``/``OK``; a point
without a limit definition has no state); the check transitions TM(12,12) the
spacecraft reports are shown among the events.

Playback (TM the packet store dumps) is marked ``PLAYBACK`` and kept apart: its values,
events and verifications never overwrite the real-time ones nor advance a command's
stages (they are what happened before, seen again). Every table is bounded: the last
``history`` commands, the last ``events`` events of each kind.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from flightsw.base.errors import DecodeError
from flightsw.ground.tm_decoder import TmDecoder
from flightsw.packets import PusTm

SEVERITY = {1: "INFO", 2: "LOW", 3: "MEDIUM", 4: "HIGH"}
STAGES = {
    1: "accepted",
    2: "rejected",
    3: "started",
    4: "start failed",
    5: "progress",
    6: "progress failed",
    7: "completed",
    8: "failed",
}
FAILED = {2, 4, 6, 8}
NS_PER_S = 1_000_000_000


@dataclass
class Value:
    """One telemetry point's latest value."""

    name: str
    value: Any
    unit: str
    state: str  # "" (no limit defined), "OK", "LOW", "HIGH"
    time_ns: int


@dataclass
class Command:
    """A command sent from this console and the PUS-1 stages reported for it."""

    request_id: int
    name: str
    stages: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.stages[-1] if self.stages else "sent"


@dataclass
class View:
    """The values and events of one channel (real time, or playback)."""

    values: dict[str, Value] = field(default_factory=dict)
    events: deque[str] = field(default_factory=deque)


def fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


class ConsoleModel:
    """The console's picture of the spacecraft, from one dictionary."""

    def __init__(
        self,
        dictionary: dict[str, Any],
        history: int = 200,
        events: int = 200,
        source_id: int | None = None,
    ) -> None:
        self.source_id = source_id  # reports for other sources are not this console's
        self.decoder = TmDecoder(dictionary)
        self.units = {t["name"]: t.get("unit", "") for t in dictionary["telemetry"]}
        self.hk = {h["sid"]: h for h in dictionary["housekeeping"]}
        self.events_by_id = {e["id"]: e for e in dictionary["events"]}
        self.commands_by_name = {c["name"]: c for c in dictionary["commands"]}
        self.history: OrderedDict[int, Command] = OrderedDict()
        self.history_limit = history
        self.events_limit = events
        self.live = View(events=deque(maxlen=events))
        self.playback = View(events=deque(maxlen=events))
        self.limits: dict[str, tuple[float, float]] = {}  # point -> (low, high)
        self.playback_packets = 0
        self.unknown_requests = 0
        self.other_sources = 0  # verification reports addressed to another TC source

    # --- commands ------------------------------------------------------------------

    def sent(self, request_id: int, name: str) -> None:
        self.history[request_id] = Command(request_id, name)
        while len(self.history) > self.history_limit:
            self.history.popitem(last=False)

    def complete(self, text: str) -> list[str]:
        """Completions of the last word of ``text``: a command name, then its argument
        names (``key=``) not given yet."""
        words = text.split(" ")
        if len(words) == 1:
            return sorted(n for n in self.commands_by_name if n.startswith(words[0]))
        cmd = self.commands_by_name.get(words[0])
        if cmd is None:
            return []
        args = cmd.get("args")  # None for a command with a variable layout
        names = [a["name"] for a in args] if args is not None else []
        layout = cmd.get("layout")
        if isinstance(layout, dict):
            names += [f["name"] for f in layout["fields"]]
        given = {w.partition("=")[0] for w in words[1:-1]}
        last = words[-1]
        return [f"{n}=" for n in names if n not in given and n.startswith(last)]

    # --- telemetry -----------------------------------------------------------------

    def ingest(self, raw: bytes, playback: bool = False) -> list[str]:
        """Take one TM packet; the lines the line mode prints for it."""
        view = self.playback if playback else self.live
        mark = "PLAYBACK " if playback else ""
        self.playback_packets += playback
        try:
            decoded = self.decoder.decode(raw)
        except DecodeError as exc:
            try:
                tm = PusTm.decode(raw, time_len=self.decoder.time_len)
            except DecodeError:
                return [f"{mark}BAD TM {exc}"]
            return [f"{mark}TM({tm.service},{tm.subservice}) {len(raw)} octets"]
        tm, t, f = decoded.packet, decoded.time_ns, decoded.fields
        if tm.service == 3 and tm.subservice == 25:
            return [mark + self._hk(view, t, f)]
        if tm.service == 1:
            return [mark + self._verification(tm.subservice, f, playback, tm.dest_id)]
        if tm.service == 5 and tm.subservice in SEVERITY:
            line = self._event(tm.subservice, f)
            view.events.append(f"{t / NS_PER_S:10.1f} {line}")
            return [f"{mark}EVENT {line}"]
        if (tm.service, tm.subservice) == (12, 9):
            self._definitions(f)
        if (tm.service, tm.subservice) == (12, 12):
            for tr in f.get("transitions", []):
                line = f"MONITOR pmon {tr.get('pmon_id')} {_short(tr)}"
                view.events.append(f"{t / NS_PER_S:10.1f} {line}")
        body = " ".join(f"{k}={_short(v)}" for k, v in f.items())
        return [f"{mark}TM({tm.service},{tm.subservice}) {decoded.name} {body}".rstrip()]

    def _hk(self, view: View, t: int, f: dict[str, Any]) -> str:
        h = self.hk[f["sid"]]
        parts = []
        for p, v in zip(h["points"], f["values"], strict=True):
            name = f"{h['app']}.{p['name']}"
            unit = self.units.get(name, "")
            state = self.state(name, v)
            view.values[name] = Value(name, v, unit, state, t)
            shown = "" if unit == "1" else unit  # dimensionless
            parts.append(f"{p['name']}={fmt(v)}{shown}" + (f"({state})" if state else ""))
        return f"HK {h['name']} " + " ".join(parts)

    def state(self, point: str, value: Any) -> str:
        limits = self.limits.get(point)
        if limits is None or not isinstance(value, int | float):
            return ""
        low, high = limits
        return "LOW" if value < low else "HIGH" if value > high else "OK"

    def _definitions(self, f: dict[str, Any]) -> None:
        for d in f.get("definitions", []):
            if d.get("check") == "limit":
                self.limits[str(d["point"])] = (float(d["low"]), float(d["high"]))
        for view in (self.live, self.playback):
            for v in view.values.values():
                v.state = self.state(v.name, v.value)

    def _verification(self, subservice: int, f: dict[str, Any], playback: bool, dest: int) -> str:
        """A PUS-1 report, put to the command it verifies. The request id (APID and
        sequence count) alone is not the command's: another TC source (the SIL's
        simulated ground, an on-board sequence, a second console) numbers its TCs from
        0 as well; the report's destination id is the source id of the TC it verifies
        (PUS-C), so with ``source_id`` set only reports addressed to it are ours."""
        rid = int(f["request_id"])
        stage = STAGES.get(subservice, str(subservice))
        if subservice in FAILED:
            stage += f" code {f.get('failure_code')}"
        if self.source_id is not None and dest != self.source_id:
            self.other_sources += 1
            return f"VERIFY request 0x{rid:08x} of source 0x{dest:04x} {stage}"
        cmd = self.history.get(rid)
        if cmd is not None and not playback:
            cmd.stages.append(stage)
        if cmd is None:
            self.unknown_requests += 1
        name = cmd.name if cmd is not None else f"request 0x{rid:08x}"
        return f"VERIFY {name} {stage}"

    def _event(self, subservice: int, f: dict[str, Any]) -> str:
        e = self.events_by_id.get(f["event_id"])
        if e is None:
            return f"{SEVERITY[subservice]} unknown id 0x{f['event_id']:04x}"
        args = f.get("args")
        named = (
            dict(zip([a["name"] for a in e["args"]], args, strict=True))
            if isinstance(args, list)
            else {}
        )
        text = " ".join(f"{k}={fmt(v)}" for k, v in named.items())
        return f"{SEVERITY[subservice]} {e['name']} {text}".rstrip()

    # --- tables for the full-screen view --------------------------------------------

    def value_rows(self, playback: bool = False) -> list[str]:
        view = self.playback if playback else self.live
        return [
            f"{v.name:<36} {fmt(v.value):>12} {v.unit:<5} {v.state:<4} {v.time_ns / NS_PER_S:9.1f}"
            for v in sorted(view.values.values(), key=lambda v: v.name)
        ]

    def command_rows(self) -> list[str]:
        return [f"{c.name:<36} {' > '.join(c.stages) or 'sent'}" for c in self.history.values()]


def _short(v: Any) -> str:
    if isinstance(v, dict | list):
        text = json.dumps(v, default=fmt, separators=(",", ":"))
        return text if len(text) <= 80 else text[:77] + "..."
    return fmt(v)
