"""A ground station's end of the space link: commands through FOP-1, telemetry out of CADUs.

Uplink: each TC packet becomes a FOP-1 AD request; FOP's frames are wrapped in TC
frames (SDLS-protected when a security association is given, every retransmission with
a fresh anti-replay number) and CLTUs. Downlink: CADUs are found in the received octets,
frames go to the packet extractor, and every CLCW seen is fed back to FOP-1, which
retransmits on its own when the spacecraft reports a gap or the timer runs out.

Time is passed in (``tick(now_s)``), so the station runs the same under a simulated
clock as on a real one.
"""

from __future__ import annotations

from collections import deque

from flightsw.errors import DecodeError
from flightsw.link.clcw import Clcw
from flightsw.link.cltu import encode_cltu
from flightsw.link.extractor import PacketExtractor
from flightsw.link.fop import Directive, Fop, FopNotice, FopOutput
from flightsw.link.onboard import LinkConfig
from flightsw.link.sdls import SdlsTc, SecurityAssociation
from flightsw.link.sync import CaduReader
from flightsw.link.tc_frame import TcFrame
from flightsw.mission import Mission
from flightsw.services.comms import link_config, security_association

TC_HEADER_LEN = 5


class GroundStation:
    """FOP-1 + SDLS + CLTU encoding up; CADU reader + packet extractor down."""

    def __init__(
        self,
        cfg: LinkConfig,
        security: SecurityAssociation | None = None,
        fop_window: int = 5,
        t1_s: float = 2.0,
        transmission_limit: int = 10,
        wait_queue: int = 256,
        now_s: float = 0.0,
    ) -> None:
        self.cfg = cfg
        self.security = security
        self.sdls = SdlsTc([security]) if security is not None else None
        self.fop = Fop(
            vcid=cfg.tc_vcid,
            window=fop_window,
            t1_initial=t1_s,
            transmission_limit=transmission_limit,
            wait_queue_limit=wait_queue,
            now=now_s,
        )
        self.cadu = CaduReader(cfg.tm_frame_len)
        self.extractor = PacketExtractor(frame_len=cfg.tm_frame_len, has_ocf=True)
        self.notices: deque[FopNotice] = deque(maxlen=4096)
        self.cltus_sent = 0
        self.clcws = 0
        self.bad_clcws = 0

    @classmethod
    def for_mission(cls, mission: Mission) -> GroundStation | None:
        """A station set up like the mission's comms service (None if it has none)."""
        comms = next((s for s in mission.apps if s.name == "comms"), None)
        if comms is None:
            return None
        return cls(link_config(comms.options), security_association(comms.options))

    def initiate(self, with_unlock: bool = False) -> int:
        """Start the AD service (optionally unlocking the FARM first)."""
        if with_unlock:
            return self.fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)
        return self.fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)

    def send_packet(self, packet: bytes) -> int:
        """Queue one TC packet for sequence-controlled (AD) delivery; returns the request id."""
        return self.fop.transmit_ad(packet)

    def send_bypass(self, packet: bytes) -> int:
        """Send one TC packet expedited (BD): no retransmission, no sequence check."""
        return self.fop.transmit_bd(packet)

    def tick(self, now_s: float) -> list[bytes]:
        """Advance FOP's timer; the CLTUs to radiate now."""
        self.fop.tick(now_s)
        cltus = [self._cltu(out) for out in self.fop.take_outputs()]
        self.notices.extend(self.fop.take_notices())
        self.cltus_sent += len(cltus)
        return cltus

    def _cltu(self, out: FopOutput) -> bytes:
        cfg = self.cfg

        def frame(data: bytes) -> bytes:
            return TcFrame(
                scid=cfg.scid,
                vcid=cfg.tc_vcid,
                data=data,
                seq=out.seq,
                bypass=int(out.bypass),
                control=int(out.control),
            ).encode()

        data = out.data
        if self.sdls is not None and self.security is not None:
            size = len(data) + self.security.overhead
            header = frame(bytes(size))[:TC_HEADER_LEN]
            data = self.sdls.protect(header, data, self.security.spi)
        return encode_cltu(frame(data), randomize=cfg.tc_randomize)

    def receive(self, data: bytes) -> list[bytes]:
        """Octets from the receiver; the TM packets they complete. CLCWs go to FOP-1."""
        packets: list[bytes] = []
        for frame in self.cadu.feed(data):
            packets.extend(self.extractor.feed_frame(frame))
            ocf = self.extractor.last_clcw
            if ocf is not None:
                self.extractor.last_clcw = None
                try:
                    clcw = Clcw.decode(ocf)
                except DecodeError:
                    self.bad_clcws += 1
                    continue
                self.clcws += 1
                self.fop.clcw_received(clcw)
        self.notices.extend(self.fop.take_notices())
        return packets

    @property
    def outstanding(self) -> int:
        """AD requests sent or waiting but not yet confirmed."""
        return self.fop.sent_queue_len + self.fop.wait_queue_len
