"""PUS service 1, request verification: acceptance, start, progress, completion.

Success reports go out only when the TC's acknowledgement flags ask for them; failure
reports always go out. Every report names the request by its request id (the TC's
first four octets) and a failure carries a code from ``FailureCode`` plus data.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from flightsw.base.errors import DecodeError
from flightsw.framework import layouts as L
from flightsw.framework.app import ReportDef
from flightsw.framework.tm_funnel import TmFunnel

ACK_ACCEPTANCE = 0b0001
ACK_START = 0b0010
ACK_PROGRESS = 0b0100
ACK_COMPLETION = 0b1000

_REQ = struct.Struct(">I")
_REQ_FAIL = struct.Struct(">IH")
_REQ_STEP = struct.Struct(">IH")
_REQ_STEP_FAIL = struct.Struct(">IHH")
FAILURE_CODE_OFFSET = {2: 4, 4: 4, 8: 4, 6: 6}  # subservice -> where its failure code sits

_OK = L.Struct("request_id" / L.U32)
_FAIL = L.Struct("request_id" / L.U32, "failure_code" / L.U16, "data" / L.REST)
REPORTS = (
    ReportDef(1, 1, "acceptance_ok", _OK, "TC accepted"),
    ReportDef(1, 2, "acceptance_failed", _FAIL, "TC rejected: failure code, reason"),
    ReportDef(1, 3, "start_ok", _OK, "execution started"),
    ReportDef(1, 4, "start_failed", _FAIL, "execution could not start"),
    ReportDef(1, 5, "progress_ok", L.Struct("request_id" / L.U32, "step" / L.U16), "a step done"),
    ReportDef(
        1,
        6,
        "progress_failed",
        L.Struct("request_id" / L.U32, "step" / L.U16, "failure_code" / L.U16, "data" / L.REST),
        "a step failed",
    ),
    ReportDef(1, 7, "completion_ok", _OK, "execution completed"),
    ReportDef(1, 8, "completion_failed", _FAIL, "execution failed"),
)
"""TM(1,x), declared (the ``_REQ*`` structs above are the fast path, tested equal)."""


def parse_report(subservice: int, data: bytes) -> tuple[int, int | None]:
    """A TM(1,x) report's request id and failure code (None for a success report)."""
    if len(data) < 4:
        raise DecodeError("verification.request_id", 0, "report shorter than 4 bytes")
    (request_id,) = _REQ.unpack_from(data)
    offset = FAILURE_CODE_OFFSET.get(subservice)
    if offset is None or len(data) < offset + 2:
        return request_id, None
    return request_id, int.from_bytes(data[offset : offset + 2], "big")


@dataclass(frozen=True, slots=True)
class TcRequest:
    """The identity of a TC for its verification reports."""

    request_id: int
    ack_flags: int
    source_id: int = 0


Outcome = Callable[["TcRequest", "int | None"], None]
"""Told of a TC's final outcome: its request and None (completed) or the failure code."""


class Verifier:
    """Sends TM(1,x) reports through the TM funnel and counts them.

    ``outcomes`` maps a TC source id to a callback told when a TC of that source
    completes or fails: how an on-board source (the sequencer) learns what became of
    the TCs it sent through the dispatcher. One entry per source, so it stays bounded.
    """

    def __init__(self, tm: TmFunnel) -> None:
        self._tm = tm
        self.outcomes: dict[int, Outcome] = {}
        self.accepted = 0
        self.rejected = 0
        self.completed = 0
        self.failed = 0

    def acceptance_ok(self, req: TcRequest) -> None:
        self.accepted += 1
        if req.ack_flags & ACK_ACCEPTANCE:
            self._tm.send(1, 1, _REQ.pack(req.request_id), req.source_id)

    def acceptance_fail(self, req: TcRequest, code: int, data: bytes = b"") -> None:
        self.rejected += 1
        self._tm.send(1, 2, _REQ_FAIL.pack(req.request_id, code) + data, req.source_id)
        self._outcome(req, code)

    def start_ok(self, req: TcRequest) -> None:
        if req.ack_flags & ACK_START:
            self._tm.send(1, 3, _REQ.pack(req.request_id), req.source_id)

    def start_fail(self, req: TcRequest, code: int, data: bytes = b"") -> None:
        self.failed += 1
        self._tm.send(1, 4, _REQ_FAIL.pack(req.request_id, code) + data, req.source_id)
        self._outcome(req, code)

    def progress_ok(self, req: TcRequest, step: int) -> None:
        if req.ack_flags & ACK_PROGRESS:
            self._tm.send(1, 5, _REQ_STEP.pack(req.request_id, step), req.source_id)

    def progress_fail(self, req: TcRequest, step: int, code: int, data: bytes = b"") -> None:
        self.failed += 1
        self._tm.send(1, 6, _REQ_STEP_FAIL.pack(req.request_id, step, code) + data, req.source_id)

    def completion_ok(self, req: TcRequest) -> None:
        self.completed += 1
        if req.ack_flags & ACK_COMPLETION:
            self._tm.send(1, 7, _REQ.pack(req.request_id), req.source_id)
        self._outcome(req, None)

    def completion_fail(self, req: TcRequest, code: int, data: bytes = b"") -> None:
        self.failed += 1
        self._tm.send(1, 8, _REQ_FAIL.pack(req.request_id, code) + data, req.source_id)
        self._outcome(req, code)

    def _outcome(self, req: TcRequest, code: int | None) -> None:
        if self.outcomes:
            hook = self.outcomes.get(req.source_id)
            if hook is not None:
                hook(req, code)
