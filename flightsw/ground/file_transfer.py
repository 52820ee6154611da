"""The ground's end of CFDP: files to and from a node (``flightsw ground put/get``).

:class:`GroundFiles` is the ground's CFDP entity (:mod:`flightsw.cfdp`) over a
directory: its PDUs go up as TC(23,128) through whatever sends TCs (a ground station's
FOP-1 or bypass frames, a SIL harness), PDUs from the node come out of TM(23,129) packets
fed to :meth:`GroundFiles.feed`. ``get`` asks the node for a file with TC(23,131)
``files.downlink_file``. Its clock is the ground's link time too: it stands still while
the caller says the link is down, so a transfer cut by a loss of signal goes on at the
next pass. :func:`transfer` drives one put or get to its end over a procedure backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.cfdp.entity import CfdpEntity, CfdpError, EntityConfig, Transfer
from flightsw.cfdp.filestores import DirFilestore
from flightsw.packets import PusTc, PusTm

PDU_TC = (23, 128)
PDU_TM = (23, 129)
DOWNLINK_TC = (23, 131)
NS_PER_S = 1_000_000_000


def _text(value: str) -> bytes:
    raw = value.encode("ascii")
    if not 1 <= len(raw) <= 255:
        raise FlightswError(f"file name {value!r}: 1 to 255 ASCII characters")
    return bytes([len(raw)]) + raw


@dataclass
class GroundConfig:
    """The ground entity's side of the link."""

    apid: int
    root: Path
    local_id: int = 1  # files.ground_entity_id on board
    remote_id: int = 2  # files.cfdp_entity_id on board
    pdu_len: int = 480  # fits a TC frame with SDLS and the PUS header
    uplink_bps: float = 48_000.0  # CFDP's share of the uplink
    ack_interval_s: float = 10.0
    nak_interval_s: float = 5.0


class GroundFiles:
    """The ground's CFDP entity, PDUs in PUS packets (see the module docstring)."""

    def __init__(
        self,
        cfg: GroundConfig,
        send_tc: Callable[[bytes], Any],
        send_command: Callable[[bytes], Any] | None = None,
    ) -> None:
        """``send_tc`` carries PDUs (CFDP recovers their loss: bypass frames do);
        ``send_command`` the ``downlink_file`` request (sequence-controlled frames)."""
        self.cfg = cfg
        self.send_tc = send_tc
        self.send_command = send_command or send_tc
        self.filestore = DirFilestore(cfg.root)
        self.entity = CfdpEntity(
            EntityConfig(
                cfg.local_id,
                cfg.remote_id,
                pdu_len=cfg.pdu_len,
                ack_interval_s=cfg.ack_interval_s,
                nak_interval_s=cfg.nak_interval_s,
            ),
            self.filestore,
        )
        self.seq = 0
        self.budget = 0.0
        self.last_ns: int | None = None
        self.bad_pdus = 0
        self.request: int | None = None  # the get request's PUS request id
        self.refused: str | None = None  # why the node refused it (a PUS-1 failure report)

    def _tc(self, service: int, subservice: int, data: bytes, ack_flags: int = 0) -> bytes:
        self.seq = (self.seq + 1) & 0x3FFF
        tc = PusTc(self.cfg.apid, service, subservice, data, self.seq, ack_flags=ack_flags)
        return tc.encode()

    def put(self, local: str, remote: str, acknowledged: bool = True) -> None:
        """Send ``local`` (under the root) to the node as ``remote``."""
        self.filestore.resolve(local)  # PermissionError outside the root
        self.entity.put(local, remote, acknowledged)

    def get(self, remote: str, local: str, acknowledged: bool = True) -> None:
        """Ask the node to send its file ``remote``; it arrives as ``local``."""
        self.filestore.resolve(local)
        data = _text(remote) + _text(local) + bytes([int(acknowledged)])
        raw = self._tc(*DOWNLINK_TC, data, ack_flags=0b1001)
        self.request = int.from_bytes(raw[:4], "big")
        self.send_command(raw)

    def feed(self, raw: bytes) -> bool:
        """Take a TM packet; True when it carried a PDU (a bad one is counted, not raised)."""
        try:
            tm = PusTm.decode(raw)
        except DecodeError:
            return False
        if tm.service == 1 and tm.subservice in (2, 8) and len(tm.app_data) >= 6:
            if int.from_bytes(tm.app_data[:4], "big") == self.request:
                code = int.from_bytes(tm.app_data[4:6], "big")
                self.refused = f"refused by the node: PUS-1 code {code} {tm.app_data[6:]!r}"
            return False
        if (tm.service, tm.subservice) != PDU_TM:
            return False
        try:
            self.entity.receive(self.entity.decode(tm.app_data))
        except CfdpError:
            self.bad_pdus += 1
        return True

    def step(self, now_ns: int, link_up: bool = True) -> None:
        """Advance link time and send what the uplink share allows now."""
        e = self.entity
        e.tick(now_ns, link_up)
        dt = 0.0 if self.last_ns is None else (now_ns - self.last_ns) / NS_PER_S
        self.last_ns = now_ns
        rate = self.cfg.uplink_bps / 8.0
        self.budget = min(self.budget + rate * dt, rate) if link_up else 0.0
        for pdu in e.poll(int(self.budget)):
            self.budget -= len(pdu)
            self.send_tc(self._tc(*PDU_TC, pdu))

    @property
    def idle(self) -> bool:
        return self.entity.idle

    def finished(self) -> list[Transfer]:
        out = list(self.entity.finished)
        self.entity.finished.clear()
        return out


def transfer(
    backend: Any,
    files: GroundFiles,
    timeout_s: float,
    out: Callable[[str], None] | None = None,
) -> Transfer | None:
    """Drive the backend (``now_s``, ``send``, ``step``) until the ground entity has
    finished one transfer (returned) or ``timeout_s`` of build time passed (None)."""
    start = backend.now_s()
    last = -1
    while backend.now_s() - start < timeout_s:
        for raw in backend.step():
            files.feed(raw)
        files.step(int(backend.now_s() * NS_PER_S))
        done = files.finished()
        if done:
            return done[0]
        if files.refused is not None:
            raise FlightswError(files.refused)
        if out is not None:
            tx, tx_size, rx, rx_size = files.entity.progress()
            now = tx + rx
            if now != last and (tx_size or rx_size):
                out(f"{now} of {tx_size or rx_size} octets")
                last = now
    return None


def put_or_get(
    verb: str,
    open_backend: Callable[[], Any],
    apid: int,
    local: Path,
    remote: str,
    *,
    acknowledged: bool = True,
    timeout_s: float = 600.0,
    out: Callable[[str], None] | None = None,
) -> Transfer:
    """``flightsw ground put|get``: one file to (``put``) or from (``get``) a build over the
    procedure backend ``open_backend()`` gives (a live build's radio or an in-process SIL;
    opened once the request is checked, closed here); FlightswError unless delivered."""
    if verb not in ("put", "get"):
        raise FlightswError(f"unknown file verb {verb!r}")
    if verb == "put" and not local.is_file():
        raise FlightswError(f"{local}: no such file")
    backend = open_backend()
    try:
        files = GroundFiles(GroundConfig(apid=apid, root=local.resolve().parent), backend.send)
        if verb == "put":
            files.put(local.name, remote, acknowledged)
        else:
            files.get(remote, local.name, acknowledged)
        done = transfer(backend, files, timeout_s, out)
    finally:
        backend.close()
    if done is None:
        raise FlightswError(f"{verb} {remote}: no end within {timeout_s:g} s of build time")
    if not done.delivered:
        raise FlightswError(f"{verb} {remote}: failed (CFDP condition {done.condition})")
    return done
