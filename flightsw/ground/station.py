"""A ground station's end of the space link: commands through FOP-1, telemetry out of CADUs.

Uplink: each TC packet becomes a FOP-1 AD request; FOP's frames are wrapped in TC
frames (SDLS-protected when a security association is given, every retransmission with
a fresh anti-replay number) and CLTUs. Downlink: CADUs are found in the received octets,
frames go to the packet extractor, and every CLCW seen is fed back to FOP-1, which
retransmits on its own when the spacecraft reports a gap or the timer runs out.

Security (SDLS, when the mission's comms service configures it): data frames go out
under the TC SA; key-management commands (:meth:`GroundStation.send_key_command`,
:meth:`GroundStation.set_arsn`) go out at once as bypass frames under the
key-management SA, outside FOP-1 (the spacecraft hands them to SDLS, not to FARM-1);
with a TM SA every received frame is authenticated before anything in it is used (its
packets and its CLCW), and refusals are counted (``extractor.frames_unauthenticated``).
Given a :class:`~flightsw.ground.sdls_state_file.GroundStateFile`, the ARSNs sent
(reserved ahead in blocks of ``ARSN_RESERVE``) and the highest TM ARSN accepted carry
over to the next session; :meth:`close` saves the TM side.

Time is passed in (``tick(now_s)``), so the station runs the same under a simulated
clock as on a real one.
"""

from __future__ import annotations

from collections import deque

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.link.clcw import Clcw
from flightsw.link.cltu import encode_cltu
from flightsw.link.extractor import PacketExtractor
from flightsw.link.fop import Directive, Fop, FopNotice, FopOutput, FopState
from flightsw.link.onboard import LinkConfig
from flightsw.link.sdls import (
    CHALLENGE_LEN,
    SdlsTc,
    SdlsTm,
    SecurityAssociation,
    key_command_resync,
    key_command_set_arsn,
)
from flightsw.link.sdls_config import LinkSecurity, link_security
from flightsw.link.sync import CaduReader
from flightsw.link.tc_frame import TcFrame
from flightsw.runtime.mission import Mission
from flightsw.services.comms.app import link_config

from .sdls_state_file import GroundStateFile

TC_HEADER_LEN = 5
ARSN_RESERVE = 16  # TC ARSNs reserved per state-file write


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
        *,
        km: SecurityAssociation | None = None,
        tm: SecurityAssociation | None = None,
        state: GroundStateFile | None = None,
    ) -> None:
        self.cfg = cfg
        self.security = security
        self.km = km
        self.sdls: SdlsTc | None = None
        self.tm_sdls: SdlsTm | None = None
        if security is not None:
            self.sdls = SdlsTc(
                [sa for sa in (security, km) if sa is not None],
                store=state.store(cfg.scid, "tc") if state is not None else None,
                send_reserve=ARSN_RESERVE,
                persist_received=False,
                fail_closed=True,  # never send an ARSN the next session could send again
            )
        if tm is not None:
            self.tm_sdls = SdlsTm(
                tm,
                store=state.store(cfg.scid, "tm") if state is not None else None,
                persist_received=False,  # saved by close(): a TM frame is not worth a write
                fail_closed=True,
            )
        self._urgent: list[bytes] = []  # key-management CLTUs, out at the next tick
        self.fop = Fop(
            vcid=cfg.tc_vcid,
            window=fop_window,
            t1_initial=t1_s,
            transmission_limit=transmission_limit,
            wait_queue_limit=wait_queue,
            now=now_s,
        )
        self.cadu = CaduReader(cfg.tm_frame_len)
        self.extractor = PacketExtractor(
            frame_len=cfg.tm_frame_len, has_ocf=True, security=self.tm_sdls
        )
        self.notices: deque[FopNotice] = deque(maxlen=4096)
        self.cltus_sent = 0
        self.clcws = 0
        self.bad_clcws = 0
        self.last_clcw: Clcw | None = None  # the latest CLCW (what FARM-1 last reported)

    @classmethod
    def for_mission(
        cls, mission: Mission, state: GroundStateFile | None = None
    ) -> GroundStation | None:
        """A station set up like the mission's comms service (None if it has none)."""
        comms = next((s for s in mission.apps if s.name == "comms"), None)
        if comms is None:
            return None
        return cls.with_security(link_config(comms.options), link_security(comms.options), state)

    @classmethod
    def with_security(
        cls, cfg: LinkConfig, sec: LinkSecurity, state: GroundStateFile | None = None
    ) -> GroundStation:
        return cls(cfg, sec.tc, km=sec.km, tm=sec.tm, state=state)

    # ------------------------------------------------------------ key management

    def send_key_command(self, command: bytes) -> None:
        """Radiate one key-management command (authenticated under the key-management SA).

        It goes as a bypass frame, outside FOP-1: the spacecraft gives it to SDLS, not to
        FARM-1, so it is not retransmitted; the spacecraft reports it with an event
        (``comms.SDLS_KEY_COMMAND``).
        """
        if self.sdls is None or self.km is None:
            raise FlightswError("the mission has no key-management SA (comms sdls.km)")
        cfg = self.cfg
        size = len(command) + self.km.overhead
        header = TcFrame(cfg.scid, cfg.tc_vcid, bytes(size), bypass=1).encode()[:TC_HEADER_LEN]
        body = self.sdls.protect(header, command, self.km.spi)
        frame = TcFrame(cfg.scid, cfg.tc_vcid, body, bypass=1).encode()
        self._urgent.append(encode_cltu(frame, randomize=cfg.tc_randomize))

    def set_arsn(self, arsn: int | None = None) -> int:
        """Make the spacecraft accept only TC ARSNs above ``arsn`` (and send above it).

        The default is the last ARSN this ground sent (or reserved): nothing it ever sent
        becomes acceptable again, and a frame with a far-ahead ARSN no longer closes the
        uplink. Returns the value sent.
        """
        if self.sdls is None or self.security is None:
            raise FlightswError("the mission has no SDLS to set an ARSN for")
        spi = self.security.spi
        value = self.sdls.arsn_sent(spi) if arsn is None else arsn
        limit = (1 << (8 * self.security.arsn_len)) - 1
        if not 0 <= value < limit:
            raise FlightswError(f"ARSN {value} not in 0..{limit - 1}")
        self.sdls.skip_send_to(spi, value)
        self.send_key_command(key_command_set_arsn(spi, value, self.security.arsn_len))
        return value

    def resync(self, challenge: int) -> dict[int, int]:
        """Answer a spacecraft whose SDLS state was lost (event ``comms.SDLS_LOCKED``,
        telemetry ``comms.sdls_challenge``): it accepts no TC until this RESYNC, which
        carries its challenge and sets every TC SA to accept only ARSNs above what this
        ground has sent. Returns the floors sent, by SPI."""
        if self.sdls is None or self.security is None or self.km is None:
            raise FlightswError("the mission has no key-management SA to resync with")
        if not 0 < challenge < 1 << (8 * CHALLENGE_LEN):
            raise FlightswError(f"challenge {challenge} is not a {8 * CHALLENGE_LEN}-bit nonce")
        floors = {spi: self.sdls.arsn_sent(spi) for spi in (self.security.spi, self.km.spi)}
        self.send_key_command(key_command_resync(self.km.spi, challenge, floors))
        return floors

    def skip_arsn(self, arsn: int) -> int:
        """Send above ``arsn`` from now on on every TC SA, the key-management SA too (no
        command); returns the last ARSN sent on the data SA.

        For a ground whose state file was lost: read the spacecraft's highest accepted
        ARSNs from its telemetry (``comms.sdls_arsn``, ``comms.sdls_km_arsn``) and carry
        on above the larger. Skipping only the data SA would leave key management (Set
        ARSN, rekey) refused as replays for good: that SA's own ARSN cannot be set.
        """
        if self.sdls is None or self.security is None:
            raise FlightswError("the mission has no SDLS to skip ARSNs on")
        if self.km is not None:
            self.sdls.skip_send_to(self.km.spi, arsn)
        return self.sdls.skip_send_to(self.security.spi, arsn)

    def close(self) -> None:
        """Save what must outlive the session (the highest TM ARSN accepted)."""
        if self.tm_sdls is not None:
            self.tm_sdls.save()

    def initiate(self, with_unlock: bool = False, set_vr: int | None = None) -> int:
        """Start the AD service (optionally unlocking the FARM first).

        ``set_vr``: start by setting the FARM's V(R) to this value (and V(S) to it), the
        way to start a session whatever the spacecraft's FARM last saw; AD requests are
        refused until the spacecraft's CLCW confirms it (``fop.state`` ACTIVE).
        """
        if set_vr is not None:
            return self.fop.directive(Directive.INITIATE_AD_WITH_SET_VR, set_vr)
        if with_unlock:
            return self.fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)
        return self.fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)

    def unlock(self) -> int:
        """Lift a FARM-1 Lockout from the ground, as 232.1-B-2's procedures do: end the
        AD service if it runs (Terminate AD; after the Lockout alert FOP-1 is already in
        S6), put V(S) where the last CLCW's N(R) says FARM-1's V(R) stands (Set V(S), so
        the two agree once the Lockout is gone), then Initiate AD with Unlock: FOP-1
        sends the Unlock BC frame, retransmits it on T1, and becomes active when a CLCW
        shows the Lockout cleared. Returns the Initiate directive's request id; frames
        FOP-1 still held are given up (negative confirms)."""
        if self.fop.state is not FopState.INITIAL:
            self.fop.directive(Directive.TERMINATE_AD)
        if self.last_clcw is not None:
            self.fop.directive(Directive.SET_VS, self.last_clcw.report_value)
        return self.fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)

    def send_packet(self, packet: bytes) -> int:
        """Queue one TC packet for sequence-controlled (AD) delivery; returns the request id."""
        return self.fop.transmit_ad(packet)

    def send_bypass(self, packet: bytes) -> int:
        """Send one TC packet expedited (BD): no retransmission, no sequence check."""
        return self.fop.transmit_bd(packet)

    def tick(self, now_s: float) -> list[bytes]:
        """Advance FOP's timer; the CLTUs to radiate now."""
        fop = self.fop
        fop.tick(now_s)
        if not self._urgent and fop.quiet:  # nothing to send or note (most ticks)
            return []
        cltus, self._urgent = self._urgent, []
        cltus += [self._cltu(out) for out in self.fop.take_outputs()]
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
        return [pkt for _vcid, pkt in self.receive_by_channel(data)]

    def receive_by_channel(self, data: bytes) -> list[tuple[int, bytes]]:
        """As :meth:`receive`, each packet with the virtual channel it completed on (the
        flight side's VC1 is playback of the packet store)."""
        packets: list[tuple[int, bytes]] = []
        for frame in self.cadu.feed(data):
            got = self.extractor.feed_frame(frame)
            if got:
                vcid = self.extractor.last_vcid
                packets.extend((-1 if vcid is None else vcid, pkt) for pkt in got)
            ocf = self.extractor.last_clcw
            if ocf is not None:
                self.extractor.last_clcw = None
                try:
                    clcw = Clcw.decode(ocf)
                except DecodeError:
                    self.bad_clcws += 1
                    continue
                self.clcws += 1
                self.last_clcw = clcw
                self.fop.clcw_received(clcw)
        self.notices.extend(self.fop.take_notices())
        return packets

    @property
    def outstanding(self) -> int:
        """AD requests sent or waiting but not yet confirmed."""
        return self.fop.sent_queue_len + self.fop.wait_queue_len
