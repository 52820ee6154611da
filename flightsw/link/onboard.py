"""The on-board ends of the space link: uplink (CLTU to TC packets) and downlink (TM
packets to CADUs).

Uplink, in order: CLTU decoding (BCH, optional TC derandomizing) -> TC frame (FECF,
spacecraft and virtual channel id) -> SDLS verification when the mission configures
security associations -> FARM-1 (COP-1 sequence control) -> the space packets in the
frame data, handed on in order. A frame that fails any step is counted by reason and
never reaches the dispatcher; SDLS refusals are also kept (bounded) for events.

Downlink: packets go into virtual channels by priority (VC0 real-time, VC1 playback),
frames carry the FARM's CLCW in their OCF, and each frame leaves as a CADU (attached
sync marker + randomized frame).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from flightsw.errors import DecodeError
from flightsw.link.cltu import CltuDecoder
from flightsw.link.farm import Farm
from flightsw.link.framer import FrameProtector, TmFramer, VirtualChannel
from flightsw.link.sdls import SdlsError, SdlsTc
from flightsw.link.sync import encode_cadu
from flightsw.link.tc_frame import TcFrame
from flightsw.packets import iter_packets

TC_HEADER_LEN = 5
VC_REALTIME = 0
VC_PLAYBACK = 1


@dataclass
class LinkConfig:
    """Link parameters shared by the flight side and a ground station."""

    scid: int = 0x2A
    tc_vcid: int = 0
    tc_randomize: bool = True
    tm_frame_len: int = 1024
    farm_window: int = 10
    vc_depth: int = 2048


@dataclass
class UplinkCounters:
    cltu_frames: int = 0
    frame_errors: int = 0
    wrong_scid: int = 0
    wrong_vcid: int = 0
    sdls_rejected: dict[str, int] = field(default_factory=dict)
    key_commands: int = 0
    farm_rejected: int = 0
    packets: int = 0
    packet_errors: int = 0


class UplinkChain:
    """CLTU octets in, TC space packets out (see the module docstring for the steps)."""

    def __init__(self, cfg: LinkConfig, sdls: SdlsTc | None = None, event_limit: int = 64) -> None:
        self.cfg = cfg
        self.cltu = CltuDecoder(randomize=cfg.tc_randomize)
        self.farm = Farm(vcid=cfg.tc_vcid, window=cfg.farm_window)
        self.sdls = sdls
        self.counters = UplinkCounters()
        self.refusals: deque[str] = deque(maxlen=event_limit)  # for events, newest kept

    def feed(self, data: bytes) -> list[bytes]:
        """Octets from the receiver; the TC packets they complete, in order."""
        out: list[bytes] = []
        for raw in self.cltu.feed(data):
            self.counters.cltu_frames += 1
            self._frame(raw, out)
        return out

    def _frame(self, raw: bytes, out: list[bytes]) -> None:
        c = self.counters
        try:
            frame = TcFrame.decode(raw, trailing_ok=True)
        except DecodeError:
            c.frame_errors += 1
            self.farm.invalid_frame()
            return
        if frame.scid != self.cfg.scid:
            c.wrong_scid += 1
            return
        if frame.vcid != self.cfg.tc_vcid:
            c.wrong_vcid += 1
            return
        data = frame.data
        if self.sdls is not None:
            header = raw[:TC_HEADER_LEN]
            try:
                token = self.sdls.verify_authenticated(header, data)
                if token.key_management:
                    self.sdls.handle_key_command(token)
                    c.key_commands += 1
                    return
            except SdlsError as exc:
                reason = exc.reason.value
                c.sdls_rejected[reason] = c.sdls_rejected.get(reason, 0) + 1
                self.refusals.append(reason)
                return
            data = token.data
        result = self.farm.receive(bool(frame.bypass), bool(frame.control), frame.seq, data)
        if not result.accepted:
            c.farm_rejected += 1
        while (item := self.farm.pull()) is not None:
            try:
                packets = list(iter_packets(item.data))
            except DecodeError:
                c.packet_errors += 1
                continue
            c.packets += len(packets)
            out.extend(packets)

    def clcw(self) -> bytes:
        return self.farm.clcw().encode()


class DownlinkChain:
    """TM packets in by channel, CADUs out; idle frames only when asked for.

    ``security`` (SDLS on TM) authenticates every frame.
    """

    def __init__(
        self,
        cfg: LinkConfig,
        clcw: UplinkChain | None = None,
        security: FrameProtector | None = None,
    ) -> None:
        self.cfg = cfg
        self.vcs = [
            VirtualChannel(VC_REALTIME, 0, cfg.vc_depth),
            VirtualChannel(VC_PLAYBACK, 1, cfg.vc_depth),
        ]
        self.framer = TmFramer(
            scid=cfg.scid,
            frame_len=cfg.tm_frame_len,
            vcs=self.vcs,
            has_ocf=True,
            clcw_source=clcw.clcw if clcw is not None else None,
            security=security,
        )
        self.cadu_len = 4 + cfg.tm_frame_len
        self.frames_sent = 0
        self.idle_frames_sent = 0

    def push(self, packet: bytes, playback: bool = False) -> bool:
        """Queue a packet; False (counted in its channel) when the channel is full."""
        return self.framer.push(VC_PLAYBACK if playback else VC_REALTIME, packet)

    @property
    def dropped(self) -> int:
        return sum(vc.dropped for vc in self.vcs)

    def has_data(self) -> bool:
        return self.framer.has_data

    def next_cadu(self) -> bytes:
        """The next frame as a CADU: the highest-priority data, or an idle frame."""
        idle = not self.framer.has_data
        frame = self.framer.next_frame()
        self.frames_sent += 1
        self.idle_frames_sent += idle
        return encode_cadu(frame)
