"""The live end a procedure can drive: a flight build over UDP.

(The other end, an in-process SIL, is :class:`flightsw.sil.procedure_backend.SilBackend`:
the ground software does not import the SIL.) :class:`UdpBackend` is a ground console on
the build's radio
(CLTUs through FOP-1 and SDLS up, CADUs down): each step polls the socket; the build's
time is the time stamp of its latest real-time TM packet, carried forward by the host's
monotonic clock until the next (a live build is paced by the wall clock), so timeouts
are in the build's time on both. TM from the packet store (playback, VC1) is archived
by the console but not handed to the procedure.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.ground.console import GroundConsole
from flightsw.link.fop import FopState
from flightsw.packets import PusTm, cuc_decode
from flightsw.runtime.mission import Mission

NS_PER_S = 1_000_000_000
FAULT_ANSWER_TIMEOUT_S = 5.0
PING_AFTER_S = 1.0  # link up but no TM yet: ask for the build's time


class _CollectingConsole(GroundConsole):
    """A ground console that hands real-time TM packets to a procedure."""

    def __init__(self, *args: Any, echo: bool = False, **kwargs: Any) -> None:
        self.realtime: list[bytes] = []
        self.playback_packets = 0
        self._echo = echo
        super().__init__(*args, **kwargs)

    def _describe(self, raw: bytes, playback: bool = False) -> None:
        if playback:
            self.playback_packets += 1
        else:
            self.realtime.append(raw)
        if self._echo:
            super()._describe(raw, playback)


class UdpBackend:
    """A procedure's view of a live flight build on a UDP radio."""

    kind = "udp"

    def __init__(
        self,
        mission: Mission,
        address: tuple[str, int],
        archive: Path,
        *,
        state: Path | None = None,
        bind: tuple[str, int] | None = None,
        fault_port: tuple[str, int] | None = None,
        connect_timeout_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        out: Callable[[str], None] | None = None,
    ) -> None:
        self._mono = monotonic
        self.console = _CollectingConsole(
            mission,
            address,
            archive,
            out=out or (lambda _s: None),
            clock=monotonic,
            state=state,
            bind=bind,
            echo=out is not None,
        )
        self.dictionary = self.console.dictionary
        self.encoder = self.console.encoder
        self._coarse = int(self.dictionary.get("tm_time", {}).get("coarse_octets", 4))
        self.fault_port = fault_port
        self._tm_time: float | None = None  # latest real-time TM time stamp (s)
        self._tm_mono = 0.0  # host monotonic time when it arrived
        self._started = monotonic()
        try:
            self._connect(connect_timeout_s)
        except BaseException:
            self.console.close()
            raise

    def _connect(self, timeout_s: float) -> None:
        """Wait for FOP-1 to be active and a first real-time TM packet (the build's time).

        A build that sent no TM yet (housekeeping comes every few seconds) is asked for
        its time with a ping (TC(17,1), acknowledged by PUS-1 reports that carry it)."""
        end = self._mono() + timeout_s
        active_at: float | None = None
        pinged = False
        while self._mono() < end:
            self.step()
            if self.console.station.fop.state is FopState.ACTIVE:
                if self._tm_time is not None:
                    return
                if active_at is None:
                    active_at = self._mono()
                elif (
                    not pinged
                    and self._mono() - active_at > PING_AFTER_S
                    and "test.ping" in self.encoder.commands
                ):
                    self.send(self.encoder.encode("test.ping"))
                    pinged = True
        raise FlightswError(
            f"no answer from the flight build at {self.console.address[0]}:"
            f"{self.console.address[1]} within {timeout_s:g} s (COP-1 "
            f"{self.console.station.fop.state.name}, {self.console.datagrams} datagrams, "
            f"{self.console.tm_packets} TM packets, {self.console.tm_frames_unauthenticated} TM "
            "frames failed authentication: a new spacecraft needs a new --state)"
        )

    def now_s(self) -> float:
        if self._tm_time is None:
            return self._mono() - self._started
        return self._tm_time + (self._mono() - self._tm_mono)

    def send(self, tc: bytes) -> None:
        from flightsw.ground.console import OUTBOX_LIMIT

        if len(self.console.outbox) >= OUTBOX_LIMIT:
            raise FlightswError(f"{OUTBOX_LIMIT} commands already wait for FOP-1 to be active")
        self.console.outbox.append(tc)
        self.console._release()

    def step(self) -> list[bytes]:
        self.console.poll(0.02)
        new, self.console.realtime = self.console.realtime, []
        for raw in new:
            try:
                t = cuc_decode(PusTm.decode(raw).time, self._coarse) / NS_PER_S
            except DecodeError:
                continue
            if self._tm_time is None or t >= self._tm_time:
                self._tm_time, self._tm_mono = t, self._mono()
        return new

    def inject(self, kind: str, target: int | str, detail: dict[str, Any]) -> float:
        if self.fault_port is None:
            raise FlightswError(
                "this build has no fault port: start it with flightsw sim --realtime "
                "--fault-port udp:HOST:PORT and give the procedure --fault-port HOST:PORT"
            )
        request = json.dumps({"kind": kind, "target": target, "detail": detail}).encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(FAULT_ANSWER_TIMEOUT_S)
            try:
                s.sendto(request, self.fault_port)
                data, _ = s.recvfrom(4096)
            except OSError as exc:
                raise FlightswError(
                    f"fault port {self.fault_port[0]}:{self.fault_port[1]}: {exc}"
                ) from None
        try:
            answer = json.loads(data)
        except ValueError:
            raise FlightswError("fault port: an answer that is not JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise FlightswError(f"fault port refused: {error}")
        return self.now_s()

    def close(self) -> None:
        self.console.close()
