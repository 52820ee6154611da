"""A ground console for a running flight build: commands by name, live TM, an archive.

It talks CCSDS over UDP to the flight build's radio (``[hal.radio] kind = "udp"``, or
``flightsw sim --realtime --radio udp:HOST:PORT``): TCs go up as CLTUs through FOP-1
(and SDLS when the mission's comms service requires it), TM comes down as CADUs and is
decoded with the mission's dictionary into lines a test engineer can read and into the
same SQLite archive ``flightsw sim`` writes.

Printed lines (:mod:`flightsw.ground.console_model`): ``HK <structure> point=value<unit>
(<limit state>) ...``, ``VERIFY <command> <accepted|started|completed|failed code N>``,
``EVENT <SEVERITY> <name> k=v ...``, ``TM(s,ss) <report> field=value ...`` for the other
reports; TM from the packet store's playback (virtual channel 1) is marked ``PLAYBACK``
and kept apart from real time. :mod:`flightsw.ground.console_tui` is the full-screen view
of the same console.

A session starts COP-1 afresh (Initiate AD with Set V(R) = 0), so a second session, or
one after the spacecraft reset, is in step with FARM-1; commands wait in a bounded
outbox until FOP-1 is active, and FOP-1's refusals and alerts are printed (``FOP ...``).
``unlock`` (typed, or ``--send unlock``) lifts a FARM-1 Lockout: the Unlock BC frame
with FOP-1 initialised again (Initiate AD with Unlock, V(S) from the last CLCW).

What it trusts: only datagrams from the flight build's address (the one it sends to);
the rest are read, counted (``foreign_datagrams``) and dropped. With authenticated TM
(the mission's ``sdls.tm``), a frame that fails SDLS is dropped and counted
(``station.extractor.frames_unauthenticated``) before anything in it is printed. The
receive loop is bounded: at most ``max_datagrams`` datagrams per poll and a deadline
checked between datagrams, so a flood cannot keep ``run_for(N)`` going past N seconds.
"""

from __future__ import annotations

import json
import select
import socket
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.ground.archive import TmArchive
from flightsw.ground.commanding import CommandEncoder
from flightsw.ground.console_model import ConsoleModel
from flightsw.ground.sdls_state_file import GroundStateFile
from flightsw.ground.station import GroundStation
from flightsw.link.fop import FopState, Response
from flightsw.link.onboard import VC_PLAYBACK
from flightsw.packets import tc_request_id_from_bytes
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import Mission

MAX_DATAGRAMS_PER_POLL = 256
# The PUS source id of the console's TCs: the spacecraft addresses their verification
# reports to it, which tells them from those of TCs with the same request id (APID and
# sequence count) that another source sent (the SIL's simulated ground workload sends
# with source 0, an on-board sequence with 0x5E0).
CONSOLE_SOURCE_ID = 0x0C0
OUTBOX_LIMIT = 1024  # commands waiting for FOP-1 to become active
RECV_SIZE = 65_536
ARCHIVED_MEMORY = 65_536  # packets remembered to tell a playback repeat
UNLOCK_DIRECTIVE = "unlock"  # typed instead of a command: lift a FARM-1 Lockout


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """``name key=value ...`` -> (name, arguments); values are numbers, or JSON (a list
    ``ids=[1,2]``, a quoted name ``table="x"``, an object) for variable layouts."""
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
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    raise FlightswError(
                        f"argument {key}: {value!r} is not a number nor JSON"
                    ) from None
    return parts[0], args


def resolve(address: tuple[str, int]) -> tuple[str, int]:
    """``(host, port)`` as the IPv4 address datagrams from it will carry."""
    host, port = address
    try:
        info = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise FlightswError(f"cannot resolve {host!r}: {exc}") from None
    ip, resolved_port = info[0][4][:2]
    return str(ip), int(resolved_port)


class GroundConsole:
    """One ground station on a UDP link, with the mission's dictionary.

    ``state``: the ground's SDLS counters file (None: counters in memory, this session
    only). ``bind``: the local address to send from (None: any port), for a flight
    radio configured to answer only a fixed ground address (``[hal.radio] peer``).
    """

    def __init__(
        self,
        mission: Mission,
        address: tuple[str, int],
        archive: Path,
        out: Callable[[str], None] = print,
        clock: Callable[[], float] | None = None,
        state: Path | None = None,
        bind: tuple[str, int] | None = None,
        max_datagrams: int = MAX_DATAGRAMS_PER_POLL,
        source_id: int = CONSOLE_SOURCE_ID,
    ) -> None:
        import time

        self.source_id = source_id
        self.clock = clock or time.perf_counter
        self.dictionary = build_dictionary(mission)
        self.encoder = CommandEncoder(self.dictionary)
        self.address = address
        self.peer = resolve(address)
        self.state = GroundStateFile(state) if state is not None else None
        try:
            station = GroundStation.for_mission(mission, self.state)
        except FlightswError:
            self._close_state()
            raise
        if station is None:
            self._close_state()
            raise FlightswError(f"mission {mission.name!r} has no comms service to talk to")
        self.station = station
        # FOP-1's clock is the console's: T1 started by the Set V(R) below runs from now
        # (from 0 it would expire at the first poll and send the BC frame twice).
        self.station.fop.tick(self.clock())
        self.station.initiate(set_vr=0)
        self.outbox: deque[bytes] = deque()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        if bind is not None:
            try:
                self.sock.bind(bind)
            except OSError as exc:
                self.sock.close()
                self._close_state()
                raise FlightswError(f"cannot bind {bind[0]}:{bind[1]}: {exc}") from None
        self.archive = TmArchive(archive, self.dictionary)
        # Packets archived lately (bounded, oldest forgotten first): playback
        # of the store repeats them, and is archived only when it is not a repeat (TM
        # stored while out of contact comes down in playback alone).
        self._archived: dict[bytes, None] = {}
        self.playback_repeats = 0  # playback packets not archived again
        self.archived_forgotten = 0  # packets dropped from that memory
        self.out = out
        self.model = ConsoleModel(self.dictionary, source_id=source_id)
        self.tm_packets = 0
        self.max_datagrams = max_datagrams
        self.datagrams = 0  # from the flight build
        self.foreign_datagrams = 0  # from anyone else: dropped
        self.polls_over_budget = 0  # polls that left datagrams for the next one
        self.send_errors = 0

    def send(self, text: str) -> int:
        """Queue one command (``name key=value ...``); returns its request id.

        ``unlock`` is the ground's own directive, not a TC: it lifts a FARM-1 Lockout
        (:meth:`GroundStation.unlock`); commands then wait until FOP-1 is active again."""
        if text.strip() == UNLOCK_DIRECTIVE:
            rid = self.station.unlock()
            self.out("FOP unlock: Initiate AD with Unlock sent")
            return rid
        name, args = parse_command(text)
        raw = self.encoder.encode(name, args or None, source_id=self.source_id)
        if len(self.outbox) >= OUTBOX_LIMIT:
            raise FlightswError(f"{OUTBOX_LIMIT} commands already wait for FOP-1 to be active")
        rid = tc_request_id_from_bytes(raw)
        self.model.sent(rid, name)
        self.outbox.append(raw)
        self._release()
        return rid

    def _release(self) -> None:
        """Hand waiting commands to FOP-1 once it is active; print what FOP-1 refuses."""
        if self.station.fop.state is FopState.ACTIVE:
            while self.outbox:
                self.station.send_packet(self.outbox.popleft())
        notices = self.station.notices
        while notices:
            n = notices.popleft()
            if n.response in (Response.REJECT, Response.NEGATIVE_CONFIRM, Response.ALERT):
                self.out(f"FOP {n.response.value} {n.reason}".rstrip())

    def set_arsn(self, arsn: int | None = None) -> int:
        """Send the authenticated "set ARSN" (see :meth:`GroundStation.set_arsn`)."""
        return self.station.set_arsn(arsn)

    def resync(self, challenge: int) -> dict[int, int]:
        """Answer a locked spacecraft's challenge (see :meth:`GroundStation.resync`)."""
        return self.station.resync(challenge)

    def skip_arsn(self, arsn: int) -> int:
        """Send TC ARSNs above ``arsn`` from now on (see :meth:`GroundStation.skip_arsn`)."""
        return self.station.skip_arsn(arsn)

    def poll(self, wait_s: float = 0.05, deadline: float | None = None) -> None:
        """Radiate what FOP-1 has ready; take in what arrived (waits at most ``wait_s``).

        Takes at most ``max_datagrams`` datagrams, and none after ``deadline``.
        """
        self._release()
        for cltu in self.station.tick(self.clock()):
            try:
                self.sock.sendto(cltu, self.address)
            except OSError:
                self.send_errors += 1  # e.g. the flight build is not listening yet: FOP-1 retries
        ready, _, _ = select.select([self.sock], [], [], wait_s)
        if not ready:
            return
        for _ in range(self.max_datagrams):
            if deadline is not None and self.clock() >= deadline:
                return
            try:
                data, sender = self.sock.recvfrom(RECV_SIZE)
            except BlockingIOError:
                return
            except OSError:
                return  # e.g. the flight build is not listening yet
            if (str(sender[0]), int(sender[1])) != self.peer:
                self.foreign_datagrams += 1
                continue
            self.datagrams += 1
            for vcid, pkt in self.station.receive_by_channel(data):
                self.tm_packets += 1
                self._archive(pkt, playback=vcid == VC_PLAYBACK)
                self._describe(pkt, playback=vcid == VC_PLAYBACK)
        self.polls_over_budget += 1

    def _archive(self, pkt: bytes, playback: bool) -> None:
        """Into the archive once: a playback packet with the same octets as one already
        archived (real time, or an earlier dump) is a repeat, counted, not written."""
        if playback and pkt in self._archived:
            self.playback_repeats += 1
            return
        if len(self._archived) >= ARCHIVED_MEMORY:
            del self._archived[next(iter(self._archived))]
            self.archived_forgotten += 1
        self._archived[pkt] = None
        self.archive.ingest(pkt)

    def run_for(self, seconds: float) -> None:
        end = self.clock() + seconds
        while (now := self.clock()) < end:
            self.poll(min(0.05, end - now), deadline=end)

    @property
    def tm_frames_unauthenticated(self) -> int:
        return self.station.extractor.frames_unauthenticated

    def summary(self) -> str:
        """One line on what came in (for stderr at the end of a session)."""
        return (
            f"{self.tm_packets} TM packets; {self.tm_frames_unauthenticated} TM frames "
            f"failed authentication; {self.foreign_datagrams} datagrams from other senders "
            f"dropped"
        )

    def _describe(self, raw: bytes, playback: bool = False) -> None:
        """One TM packet into the model, its lines out."""
        for line in self.model.ingest(raw, playback):
            self.out(line)

    def _close_state(self) -> None:
        if self.state is not None:
            self.state.close()

    def close(self) -> None:
        try:
            self.station.close()
        finally:
            self.archive.close()
            self.sock.close()
            self._close_state()
