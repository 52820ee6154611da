"""Communications: the space link between the radio and the executive.

Uplink: everything the radio received goes through the on-board link chain (CLTU, TC
frame, SDLS when configured, FARM-1) and the TC packets that come out are submitted to
the dispatcher in order. Downlink: the TM funnel's packets go to virtual channels (VC0
real time, VC1 store playback, VC0 first) and leave as CADUs within the radio's data
rate, only while in contact. Out of contact the channels keep what fits (bounded,
counted) and the packet store keeps everything for the next pass.

Idle frames: a real transmitter sends a continuous stream; in simulation that costs
time for nothing, so by default idle frames are sent only to carry the CLCW (once a
second in contact, so the ground's FOP-1 keeps going). ``idle_fill = true`` sends the
full stream.

Options (mission ``[[apps]] options``, declared in ``OPTIONS``): ``scid``,
``tm_frame_len``, ``tc_randomize``, ``farm_window``, ``vc_depth``, ``idle_fill``, and
``sdls = { spi, key (hex), mode }`` to require authenticated TC frames. The link chains
are built from them at load, so a value the link layer refuses is a mission error.
"""

from __future__ import annotations

from typing import Any

from flightsw import msgids
from flightsw.app import App, Arg, EventDef, HkDef, Severity, TelemetryDef
from flightsw.link.farm import FarmState
from flightsw.link.onboard import DownlinkChain, LinkConfig, UplinkChain
from flightsw.link.sdls import SdlsReason, SdlsTc, SecurityAssociation
from flightsw.schema import REQUIRED, Opt, Schema
from flightsw.services.tm_funnel import CH_PLAYBACK
from hal.interfaces import Radio

NS_PER_S = 1_000_000_000
SDLS_REASON_CODES = {r.value: i + 1 for i, r in enumerate(SdlsReason)}


_LINK = LinkConfig()
SDLS = Schema(
    Opt("spi", "int", REQUIRED, min=1, max=0xFFFE, doc="security parameter index"),
    Opt("key", "hex", REQUIRED, min=16, max=64, doc="the SA's key, hex"),
    Opt("mode", "str", "hmac-sha256", choices=("hmac-sha256", "aes-gcm")),
    check=lambda sdls: _check_sa(sdls),
)


def _check_sa(sdls: dict[str, Any]) -> None:
    security_association({"sdls": sdls})


def _check_link(options: dict[str, Any]) -> None:
    """The chains build from these options (what single keys cannot say)."""
    cfg = link_config(options)
    DownlinkChain(cfg, UplinkChain(cfg))


OPTIONS = Schema(
    Opt("scid", "int", _LINK.scid, min=0, max=1023, doc="spacecraft id"),
    Opt("tm_frame_len", "int", _LINK.tm_frame_len, min=13, max=2048, unit="octets"),
    Opt("tc_randomize", "bool", _LINK.tc_randomize, doc="TC pseudo-randomizer"),
    Opt("farm_window", "int", _LINK.farm_window, min=2, max=254, doc="FARM-1 window (even)"),
    Opt("vc_depth", "int", _LINK.vc_depth, min=1, max=1_000_000, doc="packets per VC queue"),
    Opt("idle_fill", "bool", False, doc="send the full idle stream, not only CLCW carriers"),
    Opt("sdls", "table", None, fields=SDLS, doc="authenticated TC frames (absent: none)"),
    check=_check_link,
)


def link_config(options: dict[str, Any]) -> LinkConfig:
    """The link parameters from a comms app's options (shared with the ground side)."""
    cfg = LinkConfig()
    for key in ("scid", "tm_frame_len", "tc_randomize", "farm_window", "vc_depth"):
        if key in options:
            setattr(cfg, key, type(getattr(cfg, key))(options[key]))
    return cfg


def security_association(options: dict[str, Any]) -> SecurityAssociation | None:
    """The TC security association from a comms app's options, if SDLS is configured."""
    sdls = options.get("sdls")
    if not sdls:
        return None
    return SecurityAssociation(
        spi=int(sdls["spi"]),
        key=bytes.fromhex(str(sdls["key"])),
        mode=sdls.get("mode", "hmac-sha256"),
    )


class CommsService(App):
    """Radio <-> link layer <-> dispatcher and TM funnel."""

    DEFAULT_RATE_HZ = 10.0
    OPTIONS = OPTIONS
    TELEMETRY = (
        TelemetryDef("in_contact", "u8"),
        TelemetryDef("cltu_frames", "u32", "", "TC frames out of CLTUs"),
        TelemetryDef("tc_packets", "u32", "", "TC packets handed to the dispatcher"),
        TelemetryDef("frame_errors", "u32"),
        TelemetryDef("sdls_rejected", "u32"),
        TelemetryDef("farm_rejected", "u32"),
        TelemetryDef("farm_vr", "u8", "", "FARM V(R)"),
        TelemetryDef("farm_state", "u8", "", "1 open, 2 wait, 3 lockout"),
        TelemetryDef("tm_frames", "u32"),
        TelemetryDef("idle_frames", "u32"),
        TelemetryDef("vc_dropped", "u32", "", "packets the VC queues refused"),
        TelemetryDef("tx_refused", "u32", "", "CADUs the radio refused"),
    )
    HOUSEKEEPING = (HkDef(1, "comms", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        EventDef(
            1,
            "TC_FRAME_UNAUTHENTICATED",
            Severity.HIGH,
            (Arg("reason", "u8"),),
            "SDLS refused a TC frame (reason {reason})",
        ),
        EventDef(2, "FARM_LOCKOUT", Severity.HIGH, (), "FARM-1 entered lockout"),
        EventDef(3, "CONTACT_START", Severity.INFO, (), "ground contact"),
        EventDef(4, "CONTACT_END", Severity.INFO, (), "end of ground contact"),
        EventDef(5, "LINK_RESET", Severity.MEDIUM, (), "link layer reinitialized"),
    )

    def init(self) -> None:
        opts = self.ctx.options
        self.radio: Radio | None = self.ctx.hal.devices.get("radio")
        self.cfg = link_config(opts)
        sa = security_association(opts)
        self.uplink = UplinkChain(self.cfg, SdlsTc([sa]) if sa is not None else None)
        self.downlink = DownlinkChain(self.cfg, self.uplink)
        self.idle_fill = bool(opts.get("idle_fill", False))
        self.budget = 0.0
        self.last_t: int | None = None
        self.last_frame_ns = -NS_PER_S
        self.contact = False
        self.tx_refused = 0
        self.was_lockout = False
        self.next_tlm_ns = 0
        self.reset_pipe = self.listen(msgids.RADIO_RESET)
        self.last_good_ns = self.ctx.now_ns()
        self.good_frames = 0
        self.radio_resets = 0
        if self.radio is not None:
            self.ctx.tm.named_sinks[self.name] = self._tm_sink

    def _tm_sink(self, pkt: bytes, channel: int) -> None:
        if self.contact or channel == CH_PLAYBACK:
            self.downlink.push(pkt, playback=channel == CH_PLAYBACK)

    def step(self, now_ns: int) -> None:
        radio = self.radio
        if radio is None:
            return
        status = radio.status()
        if status.in_contact != self.contact:
            self.emit("CONTACT_START" if status.in_contact else "CONTACT_END")
            self.contact = status.in_contact
            self.ctx.bus.publish(msgids.LINK_CONTACT, self.contact)
        self._uplink(radio)
        dt = 0.0 if self.last_t is None else (now_ns - self.last_t) / NS_PER_S
        self.last_t = now_ns
        if self.contact:
            self._downlink(radio, now_ns, dt, status.downlink_bps)
        if now_ns >= self.next_tlm_ns:  # telemetry and uplink status once a second
            self.next_tlm_ns = now_ns + NS_PER_S
            self._telemetry()
            self._uplink_status(now_ns)

    def _uplink_status(self, now_ns: int) -> None:
        frames = self.uplink.counters.packets + self.uplink.counters.key_commands
        frames += self.uplink.farm.accepted_bd + self.uplink.farm.unlocks
        if frames != self.good_frames:
            self.good_frames = frames
            self.last_good_ns = now_ns
        self.ctx.bus.publish(msgids.UPLINK_STATUS, (now_ns - self.last_good_ns) / NS_PER_S)
        for _msg in self.reset_pipe.drain():
            self._reset_link(now_ns)

    def _reset_link(self, now_ns: int) -> None:
        """Start the link layer afresh (FDIR's answer to a long silence on the uplink)."""
        sdls = self.uplink.sdls
        self.uplink = UplinkChain(self.cfg, sdls)
        self.downlink.framer.clcw_source = self.uplink.clcw
        self.radio_resets += 1
        self.last_good_ns = now_ns
        self.emit("LINK_RESET")

    def _uplink(self, radio: Radio) -> None:
        up = self.uplink
        submit = self.ctx.executive.submit_tc
        for chunk in radio.receive():
            for pkt in up.feed(chunk):
                submit(pkt)
        # Take this step's refusals off the chain's bounded list: at most 8 events a step
        # (all of them are counted in sdls_rejected).
        for i in range(len(up.refusals)):
            reason = up.refusals.popleft()
            if i < 8:
                self.emit("TC_FRAME_UNAUTHENTICATED", reason=SDLS_REASON_CODES.get(reason, 0))
        lockout = up.farm.state is FarmState.LOCKOUT
        if lockout and not self.was_lockout:
            self.emit("FARM_LOCKOUT")
        self.was_lockout = lockout

    def _downlink(self, radio: Radio, now_ns: int, dt: float, bps: float) -> None:
        down = self.downlink
        self.budget = min(self.budget + bps / 8.0 * dt, bps / 8.0)  # at most 1 s queued
        while self.budget >= down.cadu_len:
            clcw_due = now_ns - self.last_frame_ns >= NS_PER_S
            if not (down.has_data() or self.idle_fill or clcw_due):
                break
            if not radio.send(down.next_cadu()):
                self.tx_refused += 1
                break
            self.budget -= down.cadu_len
            self.last_frame_ns = now_ns

    def _telemetry(self) -> None:
        c = self.uplink.counters
        farm = self.uplink.farm
        self.tlm.update(
            in_contact=int(self.contact),
            cltu_frames=c.cltu_frames,
            tc_packets=c.packets,
            frame_errors=c.frame_errors,
            sdls_rejected=sum(c.sdls_rejected.values()),
            farm_rejected=c.farm_rejected,
            farm_vr=farm.vr,
            farm_state=int(farm.state),
            tm_frames=self.downlink.frames_sent,
            idle_frames=self.downlink.idle_frames_sent,
            vc_dropped=self.downlink.dropped,
            tx_refused=self.tx_refused,
        )
