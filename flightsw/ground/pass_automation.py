"""Pass automation: what a ground station does in one pass over a live build, unattended.

At acquisition of signal (AOS: the build's CLCW confirms COP-1 set up with Set V(R),
and its first real-time TM gives its time) the pass starts the packet store dump,
runs the queued procedures one after another, and listens. When the dump completes and
no TM frame was lost, the dump is confirmed (TC(15,11)) so the store frees what the
ground holds. At loss of signal (LOS: no datagram for ``los_after_s`` of the host's
clock, or the pass's longest duration) it closes the pass with a report: frames
(received, bad, lost), packets (real-time, playback), sequence-count gaps per APID,
commands sent and verified, the procedures' verdicts and the store backlog left (the
last storage housekeeping seen). The report is written as JSON and as a row of the
archive's ``pass_reports`` table; each procedure's own report goes beside it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.ground.procedure import (
    EventReport,
    HkReport,
    Procedure,
    ProcedureFailed,
    VerificationReport,
    _Decoder,
)
from flightsw.ground.procedure_backends import UdpBackend
from flightsw.ground.procedure_runner import ProcedureFn, run_procedure, write_report

PASS_SCHEMA = """
CREATE TABLE IF NOT EXISTS pass_reports (
    id INTEGER PRIMARY KEY, aos_s REAL, los_s REAL, report TEXT);
"""


@dataclass
class QueuedProcedure:
    name: str
    fn: ProcedureFn
    path: Path | None = None


@dataclass
class PassStats:
    """What came down in the pass, packet by packet (real-time channel)."""

    packets: int = 0
    gaps: dict[int, int] = field(default_factory=dict)  # APID -> packets missing
    last_seq: dict[int, int] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    verified: int = 0
    dump_completed: bool = False

    def count(self, raw: bytes) -> None:
        """Count one real-time packet: its APID's sequence count must go up by one."""
        if len(raw) < 6:
            return
        self.packets += 1
        apid = int.from_bytes(raw[0:2], "big") & 0x7FF
        seq = int.from_bytes(raw[2:4], "big") & 0x3FFF
        last = self.last_seq.get(apid)
        if last is not None:
            missing = (seq - last - 1) & 0x3FFF
            if missing:
                self.gaps[apid] = self.gaps.get(apid, 0) + missing
        self.last_seq[apid] = seq

    def note(self, item: HkReport | EventReport | VerificationReport | None) -> None:
        if isinstance(item, HkReport) and item.structure == "storage.store":
            self.store = {k.split(".", 1)[1]: v for k, v in item.values.items()}
            self.store["at_s"] = item.t_s
        elif isinstance(item, EventReport) and item.name == "storage.DUMP_COMPLETED":
            self.dump_completed = True
        elif isinstance(item, VerificationReport) and item.stage == "completed":
            self.verified += item.failure_code is None


class _TappedBackend:
    """A live back end whose every real-time packet is also counted for the pass."""

    def __init__(self, inner: UdpBackend, stats: PassStats) -> None:
        self.inner = inner
        self.stats = stats
        self.kind = inner.kind
        self.dictionary = inner.dictionary
        self.encoder = inner.encoder
        self._decoder = _Decoder(inner.dictionary)

    def now_s(self) -> float:
        return self.inner.now_s()

    def send(self, tc: bytes) -> None:
        self.inner.send(tc)

    def step(self) -> list[bytes]:
        new = self.inner.step()
        for raw in new:
            self.stats.count(raw)
            self.stats.note(self._decoder.decode(raw, 0))
        return new

    def inject(self, kind: str, target: int | str, detail: dict[str, Any]) -> float:
        return self.inner.inject(kind, target, detail)

    def close(self) -> None:
        self.inner.close()


def run_pass(
    backend: UdpBackend,
    procedures: list[QueuedProcedure],
    *,
    los_after_s: float = 10.0,
    max_pass_s: float = 3600.0,
    report_dir: Path | None = None,
    archive: Path | None = None,
    monotonic: Callable[[], float] | None = None,
    out: Callable[[str], None] = lambda _s: None,
) -> dict[str, Any]:
    """One pass from AOS (``backend`` connected) to LOS; the pass report."""
    import time

    mono = monotonic or time.monotonic
    stats = PassStats()
    tapped = _TappedBackend(backend, stats)
    console = backend.console
    aos_s = tapped.now_s()
    out(f"AOS at {aos_s:.1f} s (COP-1 active)")
    started = mono()
    ops = Procedure(tapped, "pass")  # the pass's own commands (dump, confirm)
    dump_error: str | None = None
    try:
        ops.assert_completed(ops.send("storage.start_dump"), timeout=10)
        out("store dump started")
    except (ProcedureFailed, FlightswError) as exc:
        dump_error = str(exc)
        out(f"store dump not started: {exc}")
    results: list[dict[str, Any]] = []
    for q in procedures:
        done = run_procedure(q.fn, tapped, q.name, q.path)
        results.append(done)
        path = report_dir / f"procedure-{q.name}.json" if report_dir is not None else None
        write_report(done, path, archive)
        verdict = "PASS" if done["passed"] else "FAIL"
        out(f"{verdict} {q.name}" + (f": {done['error']}" if done["error"] else ""))
    confirmed = False
    last_datagrams, last_heard = console.datagrams, mono()
    reason = "max duration"
    while mono() - started < max_pass_s:
        tapped.step()
        if console.datagrams != last_datagrams:
            last_datagrams, last_heard = console.datagrams, mono()
        elif mono() - last_heard >= los_after_s:
            reason = f"no signal for {los_after_s:g} s"
            break
        if stats.dump_completed and not confirmed and console.station.extractor.frames_lost == 0:
            try:
                ops.send("storage.confirm_dump")
                confirmed = True
                out("store dump completed and confirmed")
            except FlightswError as exc:
                out(f"dump not confirmed: {exc}")
                confirmed = True  # do not try again
    los_s = tapped.now_s() if reason == "max duration" else aos_s + (last_heard - started)
    ex = console.station.extractor
    report: dict[str, Any] = {
        "aos_s": aos_s,
        "los_s": los_s,
        "los_reason": reason,
        "frames": {
            "datagrams": console.datagrams,
            "received": ex.frames,
            "bad": ex.frames_bad,
            "lost": ex.frames_lost,
            "unauthenticated": ex.frames_unauthenticated,
        },
        "packets": {"realtime": stats.packets, "playback": console.playback_packets},
        "gaps": {f"0x{apid:03x}": n for apid, n in sorted(stats.gaps.items())},
        "commands_sent": sum(r["commands"] for r in results)
        + sum(1 for s in ops.steps if s["step"] == "command"),
        "commands_verified": stats.verified,
        "dump": {
            "started": dump_error is None,
            "error": dump_error,
            "completed": stats.dump_completed,
            "confirmed": confirmed,
        },
        "store_backlog": stats.store,
        "procedures": [
            {"procedure": r["procedure"], "passed": r["passed"], "error": r["error"]}
            for r in results
        ],
        "passed": all(r["passed"] for r in results),
    }
    out(f"LOS at {los_s:.1f} s ({reason})")
    write_pass_report(report, report_dir / "pass-report.json" if report_dir else None, archive)
    return report


def write_pass_report(report: dict[str, Any], path: Path | None, archive: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1, default=str))
    if archive is not None:
        try:
            db = sqlite3.connect(str(archive), timeout=10.0)
            try:
                with db:
                    db.executescript(PASS_SCHEMA)
                    db.execute(
                        "INSERT INTO pass_reports (aos_s, los_s, report) VALUES (?,?,?)",
                        (report["aos_s"], report["los_s"], json.dumps(report, default=str)),
                    )
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise FlightswError(f"archive {archive}: {exc}") from None
