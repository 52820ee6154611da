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

from flightsw.datatypes import TYPES
from flightsw.dictionary import build_dictionary
from flightsw.errors import DecodeError, FlightswError
from flightsw.ground.archive import TmArchive
from flightsw.ground.commanding import CommandEncoder
from flightsw.ground.station import GroundStation
from flightsw.mission import Mission
from flightsw.packets import PusTm, tc_request_id_from_bytes
from flightsw.services.comms import link_config, security_association

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
        comms = next((s for s in mission.apps if s.name == "comms"), None)
        if comms is None:
            raise FlightswError(f"mission {mission.name!r} has no comms service to talk to")
        self.station = GroundStation(
            link_config(comms.options), security_association(comms.options)
        )
        self.station.initiate()
        self.address = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.archive = TmArchive(archive, self.dictionary)
        self.out = out
        self.pending: dict[int, str] = {}
        self.events = {
            e["id"]: (
                e["name"],
                e["severity"],
                [a["name"] for a in e["args"]],
                struct.Struct(">" + "".join(TYPES[a["type"]].code for a in e["args"])),
            )
            for e in self.dictionary["events"]
        }
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
            (rid,) = struct.unpack_from(">I", data)
            name = self.pending.get(rid, f"request 0x{rid:08x}")
            if tm.subservice in FAILED:
                code = struct.unpack_from(">H", data, 6 if tm.subservice == 6 else 4)[0]
                self.out(f"VERIFY {name} {FAILED[tm.subservice]} code {code}")
            else:
                self.out(f"VERIFY {name} {VERIFY.get(tm.subservice, tm.subservice)}")
        elif tm.service == 5 and 1 <= tm.subservice <= 4 and len(data) >= 2:
            (eid,) = struct.unpack_from(">H", data)
            known = self.events.get(eid)
            if known is None:
                self.out(f"EVENT unknown id 0x{eid:04x}")
                return
            name, severity, names, st = known
            args = ""
            if len(data) - 2 == st.size:
                values = st.unpack_from(data, 2)
                args = " ".join(f"{k}={_fmt(v)}" for k, v in zip(names, values, strict=True))
            self.out(f"EVENT {severity} {name} {args}".rstrip())
        else:
            self.out(f"TM({tm.service},{tm.subservice}) {len(raw)} octets")

    def close(self) -> None:
        self.archive.close()
        self.sock.close()


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
