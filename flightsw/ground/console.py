"""A ground console for a running flight build: commands by name, live TM, an archive.

It talks CCSDS over UDP to the flight build's radio (``[hal.radio] kind = "udp"``, or
``flightsw sim --realtime --radio udp:HOST:PORT``): TCs go up as CLTUs through FOP-1
(and SDLS when the mission's comms service requires it), TM comes down as CADUs and is
decoded with the mission's dictionary into lines a test engineer can read and into the
same SQLite archive ``flightsw sim`` writes.

Printed lines: ``VERIFY <command> <accepted|started|completed|failed code N>``,
``EVENT <SEVERITY> <name> k=v ...``, ``TM(s,ss) <n> octets`` for anything else.
"""

from __future__ import annotations

import select
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flightsw.dictionary import build_dictionary
from flightsw.errors import DecodeError, FlightswError
from flightsw.ground.archive import SEVERITY_BY_SUBSERVICE, TmArchive
from flightsw.ground.commanding import CommandEncoder
from flightsw.ground.station import GroundStation
from flightsw.mission import Mission
from flightsw.packets import PusTm, tc_request_id_from_bytes
from flightsw.services.verification import parse_report

VERIFY = {1: "accepted", 2: "rejected", 3: "started", 5: "progress", 7: "completed"}
FAILED = {2: "rejected", 4: "start failed", 6: "progress failed", 8: "failed"}


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """``name key=value ...`` -> (name, arguments); values are numbers."""
    parts = text.split()
    if not parts:
        raise FlightswError("empty command")
    args: dict[str, Any] = {}
    for p in parts[1:]:
        key, sep, value = p.partition("=")
        if not sep:
            raise FlightswError(f"argument {p!r} is not key=value")
        try:
            args[key] = int(value, 0)
        except ValueError:
            try:
                args[key] = float(value)
            except ValueError:
                raise FlightswError(f"argument {key}: {value!r} is not a number") from None
    return parts[0], args


class GroundConsole:
    """One ground station on a UDP link, with the mission's dictionary."""

    def __init__(
        self,
        mission: Mission,
        address: tuple[str, int],
        archive: Path,
        out: Callable[[str], None] = print,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.clock = clock or time.perf_counter
        self.dictionary = build_dictionary(mission)
        self.encoder = CommandEncoder(self.dictionary)
        station = GroundStation.for_mission(mission)
        if station is None:
            raise FlightswError(f"mission {mission.name!r} has no comms service to talk to")
        self.station = station
        self.station.initiate()
        self.address = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.archive = TmArchive(archive, self.dictionary)
        self.out = out
        self.pending: dict[int, str] = {}
        self.tm_packets = 0

    def send(self, text: str) -> int:
        """Queue one command (``name key=value ...``); returns its request id."""
        name, args = parse_command(text)
        raw = self.encoder.encode(name, args or None)
        rid = tc_request_id_from_bytes(raw)
        self.pending[rid] = name
        self.station.send_packet(raw)
        return rid

    def poll(self, wait_s: float = 0.05) -> None:
        """Radiate what FOP-1 has ready; take in what arrived (waits at most ``wait_s``)."""
        for cltu in self.station.tick(self.clock()):
            self.sock.sendto(cltu, self.address)
        ready, _, _ = select.select([self.sock], [], [], wait_s)
        if not ready:
            return
        while True:
            try:
                data = self.sock.recv(65_536)
            except BlockingIOError:
                break
            except OSError:
                break  # e.g. the flight build is not listening yet
            for pkt in self.station.receive(data):
                self.tm_packets += 1
                self.archive.ingest(pkt)
                self._describe(pkt)

    def run_for(self, seconds: float) -> None:
        end = self.clock() + seconds
        while self.clock() < end:
            self.poll()

    def _describe(self, raw: bytes) -> None:
        try:
            tm = PusTm.decode(raw)
        except DecodeError as exc:
            self.out(f"BAD TM {exc}")
            return
        data = tm.app_data
        if tm.service == 1 and len(data) >= 4:
            rid, code = parse_report(tm.subservice, data)
            name = self.pending.get(rid, f"request 0x{rid:08x}")
            if tm.subservice in FAILED:
                self.out(f"VERIFY {name} {FAILED[tm.subservice]} code {code}")
            else:
                self.out(f"VERIFY {name} {VERIFY.get(tm.subservice, tm.subservice)}")
        elif tm.service == 5 and tm.subservice in SEVERITY_BY_SUBSERVICE and len(data) >= 2:
            (eid,) = struct.unpack_from(">H", data)
            found = self.archive.event(eid, data)
            if found is None:
                self.out(f"EVENT unknown id 0x{eid:04x}")
                return
            name, fields = found
            args = "" if "_raw" in fields else " ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
            self.out(f"EVENT {SEVERITY_BY_SUBSERVICE[tm.subservice]} {name} {args}".rstrip())
        else:
            self.out(f"TM({tm.service},{tm.subservice}) {len(raw)} octets")

    def close(self) -> None:
        self.archive.close()
        self.sock.close()


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
