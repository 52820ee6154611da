"""Procedures: one API to command and watch a flight build, in SIL or live over a radio.

A procedure is a plain Python function ``run(p)`` that talks to a build through a
:class:`Procedure` (after the fprime-gds integration-test API, usable outside pytest):
``p.send("app.cmd", **args)`` checks the command against the dictionary before
anything is sent, then ``p.await_verification(rid, "completed")``,
``p.await_event(name, timeout)``, ``p.await_tm(point, predicate, timeout)`` and
``p.assert_completed(rid)`` wait for the build's answers. Timeouts are in the build's
time: simulated seconds on the simulated clock (an in-process SIL runs exactly that
far), the build's TM time on a live build (a paced build's clock, tracked between
packets by the host's clock).

The back end (:mod:`flightsw.ground.procedure_backends`) is what differs: an
in-process SIL (:class:`~flightsw.sil.harness.SilHarness`) or a flight build over UDP
(``flightsw sim --realtime --radio udp:...``, a bench). The same procedure runs
unchanged on either. Only real-time TM counts: packets replayed from the packet store
(VC1 playback) are not taken as new answers.

Everything the procedure did and saw (commands, verifications, events, TM samples it
waited for, faults injected, pass or fail) is kept as a report
(:meth:`Procedure.report`), written as JSON and into the archive by the runner.
"""

from __future__ import annotations

import difflib
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flightsw.base.errors import DecodeError, EncodeError, FlightswError
from flightsw.framework.datatypes import TYPES, data_type
from flightsw.framework.verification import parse_report
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc, PusTm, cuc_decode

NS_PER_S = 1_000_000_000
SEVERITY_BY_SUBSERVICE = {1: "INFO", 2: "LOW", 3: "MEDIUM", 4: "HIGH"}
# PUS-1 stage -> (success subservice, failure subservice)
STAGES: dict[str, tuple[int, int]] = {
    "accepted": (1, 2),
    "started": (3, 4),
    "progress": (5, 6),
    "completed": (7, 8),
}
STAGE_OF = {sub: stage for stage, subs in STAGES.items() for sub in subs}
HISTORY_LIMIT = 100_000  # decoded TM items kept for searching; older ones are dropped
DEFAULT_TIMEOUT_S = 10.0
# The PUS source id of a procedure's TCs: verification reports come back addressed to it,
# which tells them from reports on TCs of the same request id another source sent (the
# SIL's simulated ground workload numbers its TCs from 0 on the same APID, with source 0).
PROCEDURE_SOURCE_ID = 0x0C1


class ProcedureError(FlightswError, ValueError):
    """A procedure asked for something the dictionary does not allow; nothing was sent."""


class ProcedureFailed(FlightswError, AssertionError):
    """An expectation of the procedure was not met (a TM that never came, a failed TC)."""


class Backend(Protocol):
    """What a procedure needs of a flight build: a way up, a way down, and its time."""

    kind: str
    dictionary: dict[str, Any]
    encoder: CommandEncoder

    def now_s(self) -> float:
        """The build's time, seconds since its epoch."""
        ...

    def send(self, tc: bytes) -> None:
        """Put one TC packet on its way to the build."""
        ...

    def step(self) -> list[bytes]:
        """Let a little of the build's time pass; the real-time TM packets received."""
        ...

    def inject(self, kind: str, target: int | str, detail: dict[str, Any]) -> float:
        """Inject a fault into the simulated spacecraft now; returns its time (s)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class VerificationReport:
    """One PUS-1 report: which request, which stage, success or failure code."""

    seq: int
    t_s: float
    request_id: int
    stage: str
    failure_code: int | None
    source: int = 0  # the report's destination id: the source id of the TC it verifies


@dataclass(frozen=True)
class EventReport:
    """One event report, decoded with the dictionary."""

    seq: int
    t_s: float
    name: str
    severity: str
    args: dict[str, Any]


@dataclass(frozen=True)
class TmSample:
    """One value of a telemetry point from a housekeeping report."""

    seq: int
    t_s: float
    point: str
    value: float | int


@dataclass(frozen=True)
class HkReport:
    seq: int
    t_s: float
    structure: str
    values: dict[str, float | int]


Item = VerificationReport | EventReport | HkReport
Since = str | int | VerificationReport | EventReport | TmSample | None


@dataclass
class Command:
    """A command the procedure sent: its name, arguments and request id."""

    name: str
    args: dict[str, Any]
    request_id: int
    t_s: float
    seq: int


@dataclass
class _Decoder:
    """TM packets to verification reports, events and HK values, from the dictionary."""

    dictionary: dict[str, Any]
    time_coarse: int = 4
    hk: dict[int, tuple[str, list[str], struct.Struct]] = field(default_factory=dict)
    events: dict[int, tuple[str, list[str], struct.Struct]] = field(default_factory=dict)
    points: set[str] = field(default_factory=set)
    errors: int = 0

    def __post_init__(self) -> None:
        self.time_coarse = int(self.dictionary.get("tm_time", {}).get("coarse_octets", 4))
        for h in self.dictionary.get("housekeeping", []):
            names = [f"{h['app']}.{p['name']}" for p in h["points"]]
            fmt = ">" + "".join(TYPES[p["type"]].code for p in h["points"])
            self.hk[h["sid"]] = (h["name"], names, struct.Struct(fmt))
            self.points.update(names)
        for e in self.dictionary.get("events", []):
            fmt = ">" + "".join(TYPES[a["type"]].code for a in e["args"])
            self.events[e["id"]] = (e["name"], [a["name"] for a in e["args"]], struct.Struct(fmt))

    def decode(self, raw: bytes, seq: int) -> Item | None:
        """The packet's meaning (None for a packet a procedure does not wait for)."""
        try:
            tm = PusTm.decode(raw)
            t = cuc_decode(tm.time, self.time_coarse) / NS_PER_S
        except DecodeError:
            self.errors += 1
            return None
        data = tm.app_data
        if tm.service == 1 and tm.subservice in STAGE_OF and len(data) >= 4:
            try:
                rid, code = parse_report(tm.subservice, data)
            except DecodeError:
                self.errors += 1
                return None
            return VerificationReport(seq, t, rid, STAGE_OF[tm.subservice], code, tm.dest_id)
        if tm.service == 5 and tm.subservice in SEVERITY_BY_SUBSERVICE and len(data) >= 2:
            (eid,) = struct.unpack_from(">H", data)
            known = self.events.get(eid)
            if known is None:
                return EventReport(seq, t, f"unknown_0x{eid:04x}", "", {"_raw": data.hex()})
            name, arg_names, st = known
            if len(data) - 2 != st.size:
                args: dict[str, Any] = {"_raw": data[2:].hex()}
            else:
                args = dict(zip(arg_names, st.unpack_from(data, 2), strict=True))
            return EventReport(seq, t, name, SEVERITY_BY_SUBSERVICE[tm.subservice], args)
        if tm.service == 3 and tm.subservice == 25 and len(data) >= 2:
            (sid,) = struct.unpack_from(">H", data)
            known_hk = self.hk.get(sid)
            if known_hk is None or len(data) - 2 != known_hk[2].size:
                self.errors += 1
                return None
            structure, names, st = known_hk
            return HkReport(
                seq, t, structure, dict(zip(names, st.unpack_from(data, 2), strict=True))
            )
        return None


def _signature(cmd: dict[str, Any]) -> str:
    """``name(arg: type lo..hi unit, ...)`` for messages."""
    if cmd["args"] is None:
        return f"{cmd['name']}(app_data=bytes)"
    parts = []
    for a in cmd["args"]:
        t = data_type(a["type"])
        lo = a["min"] if a["min"] is not None else (t.min if t.kind != "float" else None)
        hi = a["max"] if a["max"] is not None else (t.max if t.kind != "float" else None)
        rng = f" {_num(lo)}..{_num(hi)}" if lo is not None and hi is not None else ""
        unit = f" {a['unit']}" if a.get("unit") else ""
        parts.append(f"{a['name']}: {a['type']}{rng}{unit}")
    return f"{cmd['name']}({', '.join(parts)})"


class Procedure:
    """The procedure API over one back end (see the module's docstring)."""

    def __init__(
        self, backend: Backend, name: str = "procedure", source_id: int = PROCEDURE_SOURCE_ID
    ) -> None:
        self.backend = backend
        self.source_id = source_id  # of the TCs it sends: their reports come back to it
        self.name = name
        self.dictionary = backend.dictionary
        self.commands = {c["name"]: c for c in self.dictionary["commands"]}
        self._decoder = _Decoder(self.dictionary)
        self.history: list[Item] = []
        self.history_dropped = 0
        self._seq = 0  # sequence number of the next decoded item
        self._mark = 0  # seq at the last command or injection
        self._sent: dict[int, int] = {}  # request id -> seq when it was last sent
        self.steps: list[dict[str, Any]] = []
        self.passed: bool | None = None
        self.error: str | None = None
        self.started_s = backend.now_s()

    # --- commanding ------------------------------------------------------------
    def check_command(
        self, name: str, args: dict[str, Any], app_data: bytes | None = None
    ) -> bytes:
        """The command's TC packet if the dictionary allows it; ProcedureError if not."""
        cmd = self.commands.get(name)
        if cmd is None:
            close = difflib.get_close_matches(name, self.commands, n=3, cutoff=0.6)
            app = name.split(".")[0]
            of_app = sorted(c for c in self.commands if c.split(".")[0] == app)
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else f"{app}'s commands: {', '.join(of_app)}"
                if of_app
                else f"apps: {', '.join(sorted({c.split('.')[0] for c in self.commands}))}"
            )
            raise ProcedureError(f"unknown command {name!r}; {hint}")
        if cmd["args"] is not None:
            allowed = {a["name"]: a for a in cmd["args"]}
            for key, value in args.items():
                if key not in allowed:
                    raise ProcedureError(f"{name}: no argument {key!r}; allowed: {_signature(cmd)}")
                a = allowed[key]
                if isinstance(value, float) and not math.isfinite(value):
                    raise ProcedureError(
                        f"{name}.{key}: {value!r} is not a finite number; allowed: "
                        f"{_signature(cmd)}"
                    )
                if data_type(a["type"]).kind != "float" and isinstance(value, float):
                    raise ProcedureError(
                        f"{name}.{key}: {value!r} is not an integer ({a['type']}); allowed: "
                        f"{_signature(cmd)}"
                    )
            for a in cmd["args"]:
                if a["name"] not in args:
                    raise ProcedureError(
                        f"{name}: argument {a['name']!r} missing; allowed: {_signature(cmd)}"
                    )
        elif args:
            raise ProcedureError(
                f"{name} takes app_data bytes, not {sorted(args)}; allowed: {_signature(cmd)}"
            )
        try:
            return self.backend.encoder.encode(
                name, args or None, app_data=app_data, source_id=self.source_id
            )
        except EncodeError as exc:
            raise ProcedureError(f"{exc}; allowed: {_signature(cmd)}") from None

    def send(self, name: str, /, app_data: bytes | None = None, **args: Any) -> int:
        """Send a command by name after checking it; returns its request id."""
        raw = self.check_command(name, args, app_data)
        rid = PusTc.decode(raw).request_id
        self._absorb()
        self._sent[rid] = self._seq
        self._mark = self._seq
        self.backend.send(raw)
        self._log("command", name=name, args=_jsonable(args), request_id=rid)
        return rid

    def send_and_assert(
        self,
        name: str,
        /,
        app_data: bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        **args: Any,
    ) -> int:
        """Send a command and wait for its completion (ProcedureFailed if it fails)."""
        rid = self.send(name, app_data=app_data, **args)
        self.assert_completed(rid, timeout)
        return rid

    def hk_structure(self, structure: str) -> int:
        """The SID of a housekeeping structure by name (``app.name``)."""
        for h in self.dictionary["housekeeping"]:
            if h["name"] == structure:
                return int(h["sid"])
        names = ", ".join(h["name"] for h in self.dictionary["housekeeping"])
        raise ProcedureError(f"unknown HK structure {structure!r}; structures: {names}")

    def set_hk_interval(self, structure: str, interval_s: float) -> int:
        """TC(3,31) for one structure (its interval in the build's seconds)."""
        if not (math.isfinite(interval_s) and 0 < interval_s <= 86_400):
            raise ProcedureError(f"interval_s: {interval_s!r} not in (0, 86400] s")
        sid = self.hk_structure(structure)
        data = struct.pack(">BHI", 1, sid, round(interval_s * 1000))
        return self.send("housekeeping.set_hk_interval", app_data=data)

    def inject(self, kind: str, target: int | str, **detail: Any) -> float:
        """Inject a fault into the simulated spacecraft now (SIL, or a simulated build's
        fault port); returns the build time it was injected at."""
        self._absorb()
        self._mark = self._seq
        t = self.backend.inject(kind, target, detail)
        self._log("inject", fault=kind, target=target, detail=_jsonable(detail))
        return t

    # --- waiting ----------------------------------------------------------------
    def now(self) -> float:
        """The build's time, seconds."""
        return self.backend.now_s()

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of the build's time pass (TM keeps being collected)."""
        end = self.backend.now_s() + seconds
        while self.backend.now_s() < end:
            self._absorb(self.backend.step())

    def await_verification(
        self, request_id: int, stage: str = "completed", timeout: float = DEFAULT_TIMEOUT_S
    ) -> VerificationReport:
        """The request's report of ``stage`` (accepted, started, progress, completed);
        ProcedureFailed if it fails at that stage or before, or nothing comes in time."""
        if stage not in STAGES:
            raise ProcedureError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
        if request_id not in self._sent:
            raise ProcedureError(f"request 0x{request_id:08x} was not sent by this procedure")
        order = list(STAGES)
        upto = order.index(stage)
        start = self._sent[request_id]

        def match(item: Item) -> bool:
            return (
                isinstance(item, VerificationReport)
                and item.request_id == request_id
                and item.source == self.source_id  # not another source's TC of that id
            )

        def failed_or_done(item: Item) -> bool:
            assert isinstance(item, VerificationReport)
            if item.failure_code is not None and order.index(item.stage) <= upto:
                return True
            return item.stage == stage and item.failure_code is None

        found = self._await(match, failed_or_done, start, timeout, f"{stage} of 0x{request_id:08x}")
        assert isinstance(found, VerificationReport)
        name = self._command_name(request_id)
        self._log(
            "verification",
            request_id=request_id,
            command=name,
            stage=found.stage,
            failure_code=found.failure_code,
            at_s=found.t_s,
        )
        if found.failure_code is not None:
            raise ProcedureFailed(
                f"{name} (request 0x{request_id:08x}) failed at {found.stage}: code "
                f"{found.failure_code}"
            )
        return found

    def assert_completed(self, request_id: int, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """The request completed (PUS-1 completion success) within ``timeout``."""
        self.await_verification(request_id, "completed", timeout)

    def await_event(
        self,
        name: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        predicate: Callable[[EventReport], bool] | None = None,
        since: Since = None,
        **args: Any,
    ) -> EventReport:
        """The first event ``name`` (with these argument values, and ``predicate``) since
        the last command or injection (``since``: "now", "start", or an earlier report)."""
        known = {e["name"]: e for e in self.dictionary["events"]}
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            raise ProcedureError(
                f"unknown event {name!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
            )
        arg_names = [a["name"] for a in known[name]["args"]]
        for key in args:
            if key not in arg_names:
                raise ProcedureError(f"event {name} has no argument {key!r}; it has {arg_names}")

        def match(item: Item) -> bool:
            return (
                isinstance(item, EventReport)
                and item.name == name
                and all(item.args.get(k) == v for k, v in args.items())
                and (predicate is None or predicate(item))
            )

        found = self._await(match, lambda _i: True, self._start(since), timeout, f"event {name}")
        assert isinstance(found, EventReport)
        self._log(
            "event",
            name=found.name,
            severity=found.severity,
            args=_jsonable(found.args),
            at_s=found.t_s,
        )
        return found

    def await_tm(
        self,
        point: str,
        predicate: Callable[[Any], bool] = lambda _v: True,
        timeout: float = DEFAULT_TIMEOUT_S,
        since: Since = "now",
    ) -> TmSample:
        """The first value of ``point`` (``app.name``) that satisfies ``predicate``, from
        housekeeping received from now on (``since``: "mark", "start" or an earlier sample)."""
        if point not in self._decoder.points:
            close = difflib.get_close_matches(point, self._decoder.points, n=3, cutoff=0.6)
            raise ProcedureError(
                f"unknown telemetry point {point!r} (no HK structure carries it)"
                + (f"; did you mean {', '.join(sorted(close))}?" if close else "")
            )

        def match(item: Item) -> bool:
            return (
                isinstance(item, HkReport)
                and point in item.values
                and bool(predicate(item.values[point]))
            )

        found = self._await(match, lambda _i: True, self._start(since), timeout, f"TM {point}")
        assert isinstance(found, HkReport)
        sample = TmSample(found.seq, found.t_s, point, found.values[point])
        self._log("tm", point=point, value=sample.value, at_s=sample.t_s)
        return sample

    def check(self, condition: bool, message: str) -> None:
        """A check of the procedure's own (logged; ProcedureFailed when false)."""
        self._log("check", message=message, ok=bool(condition))
        if not condition:
            raise ProcedureFailed(message)

    # --- the report ------------------------------------------------------------
    def finish(self, passed: bool, error: str | None = None) -> dict[str, Any]:
        self.passed = passed
        self.error = error
        self._log("result", passed=passed, error=error)
        return self.report()

    def report(self) -> dict[str, Any]:
        return {
            "procedure": self.name,
            "backend": self.backend.kind,
            "started_s": self.started_s,
            "ended_s": self.backend.now_s(),
            "passed": self.passed,
            "error": self.error,
            "commands": sum(1 for s in self.steps if s["step"] == "command"),
            "verifications": sum(1 for s in self.steps if s["step"] == "verification"),
            "events": sum(1 for s in self.steps if s["step"] == "event"),
            "tm_decode_errors": self._decoder.errors,
            "steps": list(self.steps),
        }

    # --- internals ---------------------------------------------------------------
    def _log(self, step: str, **fields: Any) -> None:
        self.steps.append({"step": step, "t_s": self.backend.now_s(), **fields})

    def _command_name(self, request_id: int) -> str:
        for s in reversed(self.steps):
            if s["step"] == "command" and s["request_id"] == request_id:
                return str(s["name"])
        return f"request 0x{request_id:08x}"

    def _start(self, since: Since) -> int:
        if since is None or since == "mark":
            return self._mark
        if since == "now":
            self._absorb()
            return self._seq
        if since == "start":
            return 0
        if isinstance(since, int) and not isinstance(since, bool):
            return since
        if isinstance(since, VerificationReport | EventReport | TmSample):
            return since.seq + 1
        raise ProcedureError(f"since={since!r}: use 'mark', 'now', 'start' or an earlier report")

    def _absorb(self, packets: list[bytes] | None = None) -> None:
        for raw in packets or []:
            item = self._decoder.decode(raw, self._seq)
            if item is None:
                continue
            self._seq += 1
            self.history.append(item)
        over = len(self.history) - HISTORY_LIMIT
        if over > 0:
            del self.history[:over]
            self.history_dropped += over

    def _find(self, match: Callable[[Item], bool], start: int) -> Item | None:
        base = self.history[0].seq if self.history else self._seq
        for item in self.history[max(0, start - base) :]:
            if match(item):
                return item
        return None

    def _await(
        self,
        match: Callable[[Item], bool],
        done: Callable[[Item], bool],
        start: int,
        timeout: float,
        what: str,
    ) -> Item:
        if not (math.isfinite(timeout) and timeout >= 0):
            raise ProcedureError(f"timeout {timeout!r} is not a number of seconds >= 0")
        end = self.backend.now_s() + timeout
        scan = start
        while True:
            while True:
                item = self._find(match, scan)
                if item is None:
                    break
                if done(item):
                    return item
                scan = item.seq + 1
            scan = max(scan, self._seq)
            if self.backend.now_s() >= end:
                self._log("timeout", waited_for=what, timeout_s=timeout)
                raise ProcedureFailed(f"no {what} within {timeout:g} s of build time")
            self._absorb(self.backend.step())


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.hex() if isinstance(v, bytes | bytearray) else v) for k, v in values.items()}
