"""Communications: the space link between the radio and the executive.

Uplink: everything the radio received goes through the on-board link chain (CLTU, TC
frame, SDLS when configured, FARM-1) and the TC packets that come out are submitted to
the dispatcher in order, only as it has room: otherwise they wait in FARM-1, which then
enters Wait so the ground's FOP-1 holds back and retransmits (nothing acknowledged is
lost). Each step decodes at most ``uplink_octets_per_step`` octets and
``uplink_frames_per_step`` frames; the rest waits in a bounded backlog (counted when
full), so a flood cannot stretch a frame. The link layer is kept across restarts of
this app (``ctx.retained``).

Downlink: the TM funnel's packets go to virtual channels (VC0 real time, VC1 store
playback, VC0 first) and leave as CADUs within the radio's data rate, only while in
contact. Out of contact the channels keep what fits (bounded,
counted) and the packet store keeps everything for the next pass.

Idle frames: a real transmitter sends a continuous stream; in simulation that costs
time for nothing, so by default idle frames are sent only to carry the CLCW (once a
second in contact, and as soon as it changed, so the ground's FOP-1 keeps going).
``idle_fill = true`` sends the full stream.

Options (mission ``[[apps]] options``, declared in ``OPTIONS``): ``scid``,
``tm_frame_len``, ``tc_randomize``, ``idle_fill``, ``farm_window``, ``farm_buffer``,
``vc_depth``, ``uplink_backlog``, ``uplink_octets_per_step``, ``uplink_frames_per_step``,
and ``sdls``: the security associations (see :mod:`flightsw.link.sdls_config`: TC, key
management, TM, master key), or ``"none"``. The link chains are built from them at load,
so a value the link layer refuses is a mission error.

Security at start (init): the SDLS state (anti-replay counters, keys loaded by command)
is restored from the NV store (voted records ``sdls_tc`` and ``sdls_tm``), so neither a
processor reset nor a restart of this service accepts a recorded frame again; state that
is lost (every copy corrupt, or absent with ``sdls.require_state``) locks the TC side
until the ground's resync answers the challenge this service reports (event
``SDLS_LOCKED``, telemetry ``sdls_challenge``); a build
with a published test key or without SDLS says so with an event (the CLI also prints
it), and one with a published key on real hardware or a real radio does not start
unless the mission allows it.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from typing import Any

from flightsw.base.schema import REQUIRED, ConfigError, Opt, Schema
from flightsw.framework import msgids
from flightsw.framework.app import App, Arg, EventDef, HkDef, Severity, TelemetryDef
from flightsw.framework.exec_services import CommandPath, TmDownlink
from flightsw.framework.ports import Device, OptionalDevice, Publish, Service, Subscribe
from flightsw.framework.tm_funnel import CH_PLAYBACK
from flightsw.link.farm import FarmState
from flightsw.link.onboard import DownlinkChain, LinkConfig, UplinkChain
from flightsw.link.packet_link import PacketLink
from flightsw.link.sdls import KEY_COMMAND_CODES, SdlsReason, SdlsTc, SdlsTm, SecurityAssociation
from flightsw.link.sdls_config import LinkSecurity, SdlsConfigError, link_security
from flightsw.link.sdls_state import NvSdlsState
from hal.interfaces import NonVolatileStore, Radio

NS_PER_S = 1_000_000_000
SDLS_REASON_CODES = {r.value: i + 1 for i, r in enumerate(SdlsReason)}
TM_ARSN_RESERVE = 4096  # TM ARSNs reserved per NV write (a reset skips at most this many)
RADIO_KINDS_SIMULATED = ("sim", "none")


_LINK = LinkConfig()


def _check_sdls(sdls: dict[str, Any]) -> None:
    """The security associations read as the flight side and the ground will read them."""
    try:
        link_security({"sdls": sdls}, "")
    except SdlsConfigError as exc:
        raise ConfigError("sdls", str(exc).removeprefix(".sdls").lstrip(": ")) from None


_MODE = Opt("mode", "str", "hmac-sha256", choices=("hmac-sha256", "aes-gcm"))
SECURITY_ASSOCIATION = Schema(
    Opt("spi", "int", REQUIRED, min=1, max=0xFFFE, doc="security parameter index"),
    Opt("key", "hex", REQUIRED, min=16, max=64, doc="the SA's key, hex"),
    _MODE,
    Opt("arsn_len", "int", None, min=1, max=8, unit="octets", doc="anti-replay counter size"),
)
SDLS = SECURITY_ASSOCIATION.extend(
    Opt("km", "table", None, fields=SECURITY_ASSOCIATION, doc="key-management SA"),
    Opt("tm", "table", None, fields=SECURITY_ASSOCIATION, doc="SA authenticating TM frames"),
    Opt("master_key", "hex", None, min=16, max=32, doc="AES key that unwraps loaded keys"),
    Opt("allow_published_key", "bool", False, doc="accept a published key outside SIL"),
    Opt(
        "require_state",
        "bool",
        False,
        doc="SDLS state was provisioned before flight: absent state is lost (fail closed)",
    ),
)
SDLS.check = _check_sdls


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
    Opt(
        "farm_buffer",
        "int",
        _LINK.farm_buffer,
        min=1,
        max=1024,
        doc="AD frames FARM-1 holds for a busy dispatcher before it enters Wait",
    ),
    Opt(
        "uplink_backlog",
        "int",
        _LINK.uplink_backlog,
        min=1024,
        max=1 << 24,
        unit="octets",
        doc="octets received and not yet decoded, at most (the rest dropped, counted)",
    ),
    Opt(
        "uplink_octets_per_step",
        "int",
        _LINK.uplink_octets_per_step,
        min=64,
        max=1 << 24,
        unit="octets",
        doc="octets decoded per comms step, at most",
    ),
    Opt(
        "uplink_frames_per_step",
        "int",
        _LINK.uplink_frames_per_step,
        min=1,
        max=4096,
        doc="TC frames handled per comms step, at most",
    ),
    Opt("idle_fill", "bool", False, doc="send the full idle stream, not only CLCW carriers"),
    Opt(
        "sdls",
        "table",
        REQUIRED,
        fields=SDLS,
        choices=("none",),
        doc='link security: the SAs (see flightsw.link.sdls_config), or "none"',
    ),
    check=_check_link,
)


def link_config(options: dict[str, Any]) -> LinkConfig:
    """The link parameters from a comms app's options (shared with the ground side)."""
    cfg = LinkConfig()
    keys = (
        "scid",
        "tm_frame_len",
        "tc_randomize",
        "farm_window",
        "vc_depth",
        "farm_buffer",
        "uplink_backlog",
        "uplink_octets_per_step",
        "uplink_frames_per_step",
    )
    for key in keys:
        if key in options:
            setattr(cfg, key, type(getattr(cfg, key))(options[key]))
    return cfg


def security_association(options: dict[str, Any]) -> SecurityAssociation | None:
    """The TC (data) security association from a comms app's options; None for no SDLS."""
    return link_security(options).tc


def hal_config_is_simulated(config: dict[str, Any]) -> bool:
    """Whether a mission's [hal] runs the simulated spacecraft over the simulated radio."""
    radio = config.get("radio", {})
    kind = str(radio.get("kind", "sim")) if isinstance(radio, dict) else "?"
    return str(config.get("backend", "sim")) == "sim" and kind in RADIO_KINDS_SIMULATED


def hal_is_simulated(backend: str, radio: Radio | None) -> bool:
    """The same question on a built HAL: simulated backend and no radio to the outside."""
    return backend == "sim" and (radio is None or bool(getattr(radio, "simulated", False)))


class CommsService(App):
    """Radio <-> link layer <-> dispatcher and TM funnel."""

    DEFAULT_RATE_HZ = 10.0
    radio = OptionalDevice(Radio)
    nv = Device(NonVolatileStore)  # SDLS anti-replay counters and keys' state
    commands = Service(CommandPath)  # where the uplinked TCs go (back-pressure: its room)
    tm_source = Service(TmDownlink)  # every TM packet the funnel flushes, to frame and send
    SUBSCRIBES = (Subscribe(msgids.RADIO_RESET, str),)
    PUBLISHES = (Publish(msgids.LINK_CONTACT, bool), Publish(msgids.UPLINK_STATUS, float))
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
        TelemetryDef("packet_errors", "u32", "", "TC frames whose data was not whole packets"),
        TelemetryDef("farm_waiting", "u8", "", "TC frames accepted, waiting for the dispatcher"),
        TelemetryDef("uplink_backlog", "u32", "", "octets received, not yet decoded"),
        TelemetryDef("uplink_dropped", "u32", "", "octets dropped: uplink backlog full"),
        TelemetryDef("uplink_limited", "u32", "", "steps that left octets for the next"),
        TelemetryDef("cltu_rejected", "u32", "", "CLTUs refused by the BCH decoder"),
        TelemetryDef("frames_not_ours", "u32", "", "TC frames for another spacecraft or VC"),
        TelemetryDef("sdls_arsn", "u32", "", "highest ARSN accepted on the TC SA"),
        TelemetryDef("tm_arsn", "u64", "", "last ARSN sent on the TM SA"),
        TelemetryDef("sdls_state_errors", "u32", "", "SDLS state writes that failed"),
        TelemetryDef("sdls_km_arsn", "u32", "", "highest ARSN accepted on the key-management SA"),
        TelemetryDef("sdls_locked", "u8", "", "1: SDLS state lost, TC refused until a resync"),
        TelemetryDef("sdls_challenge", "u64", "", "what a resync must answer (0: not locked)"),
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
        EventDef(
            16,
            "SDLS_PUBLISHED_KEY",
            Severity.MEDIUM,
            (Arg("count", "u8"),),
            "{count} security association(s) or keys use a published test key",
        ),
        EventDef(17, "SDLS_OFF", Severity.MEDIUM, (), "SDLS off: TC frames are not authenticated"),
        EventDef(
            18,
            "SDLS_STATE_LOST",
            Severity.HIGH,
            (Arg("function", "u8"),),
            "SDLS state on the NV store unreadable (1 TC, 2 TM): counters restarted",
        ),
        EventDef(
            19,
            "SDLS_KEY_COMMAND",
            Severity.MEDIUM,
            (Arg("command", "u8"), Arg("spi", "u16")),
            "key-management command {command} applied to SA {spi}",
        ),
        EventDef(
            20,
            "SDLS_STATE_RESTORED",
            Severity.INFO,
            (Arg("spi", "u16"), Arg("arsn", "u32")),
            "SDLS state restored from the NV store: SA {spi} highest ARSN {arsn}",
        ),
        EventDef(
            21,
            "SDLS_LOCKED",
            Severity.HIGH,
            (Arg("challenge", "u64"),),
            "SDLS state lost: TC refused until a resync answers challenge {challenge}",
        ),
    )

    def init(self) -> None:
        opts = self.ctx.options
        self.cfg = link_config(opts)
        self.security = link_security(opts)
        self.security.check_deployment(hal_is_simulated(self.ctx.backend, self.radio))
        # The link layer outlives a restart of this app: the frames FARM-1 acknowledged
        # must still reach the dispatcher, and the anti-replay counters must not restart.
        kept = self.ctx.retained
        link: tuple[UplinkChain, DownlinkChain, SdlsTm | None] | None = kept.get("link")
        if link is None:
            tc_sdls, tm_sdls = self._sdls_functions(self.security)
            uplink = UplinkChain(self.cfg, tc_sdls, sink=self.commands)
            downlink = DownlinkChain(self.cfg, uplink, security=tm_sdls)
            link = kept["link"] = (uplink, downlink, tm_sdls)
        self.uplink, self.downlink, self.tm_sdls = link
        # A radio with ``framing = "packets"`` carries bare space packets (a lab link):
        # the link layer above is not used, and the uplink is not authenticated.
        self.packet_link: PacketLink | None = None
        if self.radio is not None and getattr(self.radio, "framing", "frames") == "packets":
            if "packet_link" not in kept:
                stream = bool(getattr(self.radio, "stream", False))
                kept["packet_link"] = PacketLink(self.uplink.sink, stream=stream)
            self.packet_link = kept["packet_link"]
        self.idle_fill = bool(opts.get("idle_fill", False))
        self.budget = 0.0
        self.last_t: int | None = None
        self.last_frame_ns = -NS_PER_S
        self.last_clcw = b""
        self.contact = False
        self.tx_refused = 0
        self.was_lockout = False
        self.next_tlm_ns = 0
        self.reset_pipe = self.listen(msgids.RADIO_RESET)
        self.last_good_ns = self.ctx.now_ns()
        self.good_frames = 0
        self.radio_resets = 0
        # A radio that can say nothing is on its way up lets an idle step be skipped.
        self.rx_pending: Callable[[], bool] | None = getattr(self.radio, "rx_pending", None)
        if self.radio is not None:
            self.tm_source.attach(self.name, self._tm_sink)
            # A radio's first status may do set-up work (the simulated one computes a
            # day of contact windows): done at load, not inside the first frame's slot.
            self.radio.status()
        self._report_security(self.uplink.sdls)

    def _sdls_functions(self, sec: LinkSecurity) -> tuple[SdlsTc | None, SdlsTm | None]:
        """The TC and TM SDLS functions, their state kept on the NV store when there is one."""
        nv = self.nv
        tc = tm = None
        if sec.enabled:
            store = NvSdlsState(nv, "sdls_tc", sec.master_key) if nv is not None else None
            tc = SdlsTc(
                sec.tc_sas,
                master_key=sec.master_key,
                store=store,
                # Fail closed on lost state only where a key-management SA can resync.
                challenge=self._challenge if sec.km is not None else None,
                require_state=sec.require_state,
            )
        if sec.tm is not None:
            store = NvSdlsState(nv, "sdls_tm", sec.master_key) if nv is not None else None
            tm = SdlsTm(sec.tm, store=store, send_reserve=TM_ARSN_RESERVE, persist_received=False)
        return tc, tm

    def _challenge(self) -> int:
        """A nonce for a locked start: unpredictable on real time, drawn from the seed and
        the start time on the simulated clock (same seed, same telemetry)."""
        if self.ctx.clock.paced:
            return secrets.randbits(64) or 1
        draw = random.Random(f"sdls-challenge:{self.ctx.seed}:{self.ctx.now_ns()}")
        return draw.getrandbits(64) or 1

    def _report_security(self, tc: SdlsTc | None) -> None:
        """Say at start what the link's security is (published keys, none, restored, lost)."""
        sec = self.security
        if not sec.enabled or self.packet_link is not None:  # a lab link has no SDLS
            self.emit("SDLS_OFF")
        published = sec.published()
        if published:
            self.emit("SDLS_PUBLISHED_KEY", count=len(published))
        for function, sdls in ((1, tc), (2, self.tm_sdls)):
            if sdls is not None and sdls.state_status == "lost":
                self.emit("SDLS_STATE_LOST", function=function)
        if tc is not None and tc.challenge is not None:
            self.emit("SDLS_LOCKED", challenge=tc.challenge)
        if tc is not None and tc.state_status == "restored" and sec.tc is not None:
            spi = sec.tc.spi
            self.emit("SDLS_STATE_RESTORED", spi=spi, arsn=tc.arsn_received(spi) & 0xFFFFFFFF)

    def _security_report(self) -> None:
        """SDLS telemetry, and an event for each key-management command applied."""
        tc, tm = self.uplink.sdls, self.tm_sdls
        data_sa, km_sa = self.security.tc, self.security.km
        errors = sum(s.counters["state_errors"] for s in (tc, tm) if s is not None)
        arsn = tc.arsn_received(data_sa.spi) if tc is not None and data_sa is not None else 0
        km_arsn = tc.arsn_received(km_sa.spi) if tc is not None and km_sa is not None else 0
        self.tlm.update(
            sdls_arsn=arsn & 0xFFFFFFFF,
            tm_arsn=tm.arsn_sent(tm.spi) if tm is not None else 0,
            sdls_state_errors=errors,
            sdls_km_arsn=km_arsn & 0xFFFFFFFF,  # a ground that lost its state file needs it
            sdls_locked=int(tc is not None and tc.locked),
            sdls_challenge=(tc.challenge or 0) if tc is not None else 0,
        )
        if tc is not None:
            while tc.key_log:
                command, spi = tc.key_log.popleft()
                self.emit("SDLS_KEY_COMMAND", command=KEY_COMMAND_CODES[command], spi=spi)

    def _tm_sink(self, pkt: bytes, channel: int) -> None:
        if self.contact or channel == CH_PLAYBACK:
            if self.packet_link is not None:
                self.packet_link.push(pkt, playback=channel == CH_PLAYBACK)
            else:
                self.downlink.push(pkt, playback=channel == CH_PLAYBACK)

    def nothing_due(self, now_ns: int) -> bool:
        """Whether a step would only note the time (noted here, as the step does).

        That is so when nothing is on its way up or waiting in the uplink chain (the
        radio says whether anything is on its way up, ``rx_pending``; a radio that cannot
        say is stepped every slot), no telemetry is due and the contact has not changed;
        and, in contact, when the downlink would send nothing: no data queued, no idle
        fill, the CLCW unchanged and sent less than a second ago, and the byte budget
        already full (then this step's refill leaves it full, so skipping the refill
        changes no float). With a lab packet link every slot runs."""
        radio = self.radio
        if radio is None:
            return True
        pending = self.rx_pending
        if pending is None or self.packet_link is not None:
            return False
        if now_ns >= self.next_tlm_ns or pending():
            return False
        up = self.uplink
        if up.sink is None or up.backlog or up.refusals or up.farm.pending():
            return False
        if (up.farm.state is FarmState.LOCKOUT) != self.was_lockout:
            return False
        status = radio.status()
        if status.in_contact != self.contact:
            return False
        if self.contact:
            if self.idle_fill or self.budget != status.downlink_bps / 8.0:
                return False
            if now_ns - self.last_frame_ns >= NS_PER_S or self.downlink.has_data():
                return False
            if up.clcw() != self.last_clcw:
                return False
        self.last_t = now_ns
        return True

    def step(self, now_ns: int) -> None:
        radio = self.radio
        if radio is None:
            return
        status = radio.status()
        if status.in_contact != self.contact:
            self.emit("CONTACT_START" if status.in_contact else "CONTACT_END")
            self.contact = status.in_contact
            self.ctx.bus.publish(msgids.LINK_CONTACT, bool(self.contact))
        dt = 0.0 if self.last_t is None else (now_ns - self.last_t) / NS_PER_S
        self.last_t = now_ns
        if self.packet_link is not None:
            self._packets(radio, self.packet_link, dt, status.downlink_bps)
        else:
            self._uplink(radio)
            if self.contact:
                self._downlink(radio, now_ns, dt, status.downlink_bps)
        if now_ns >= self.next_tlm_ns:  # telemetry and uplink status once a second
            self.next_tlm_ns = now_ns + NS_PER_S
            self._telemetry()
            self._uplink_status(now_ns)

    def _uplink_status(self, now_ns: int) -> None:
        frames = self.uplink.counters.packets + self.uplink.counters.key_commands
        frames += self.uplink.farm.accepted_bd + self.uplink.farm.unlocks
        if self.packet_link is not None:
            frames += self.packet_link.packets
        if frames != self.good_frames:
            self.good_frames = frames
            self.last_good_ns = now_ns
        self.ctx.bus.publish(msgids.UPLINK_STATUS, (now_ns - self.last_good_ns) / NS_PER_S)
        for _msg in self.reset_pipe.drain():
            self._reset_link(now_ns)

    def _reset_link(self, now_ns: int) -> None:
        """Start the link layer afresh (FDIR's answer to a long silence on the uplink);
        commands FARM-1 already acknowledged still go to the dispatcher."""
        self.uplink.reset()
        self.radio_resets += 1
        self.last_good_ns = now_ns
        self.emit("LINK_RESET")

    def _uplink(self, radio: Radio) -> None:
        """Bounded work per step: what the radio received joins the chain's bounded
        backlog; commands waiting in FARM-1 go to the dispatcher first (as it has room),
        then at most the configured octets and frames are decoded."""
        up = self.uplink
        for chunk in radio.receive():
            up.accept(chunk)
        up.deliver()
        up.process()
        if up.sink is None:  # no executive to hand commands to (a bare test context)
            up.take()
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

    def _packets(self, radio: Radio, link: PacketLink, dt: float, bps: float) -> None:
        """The lab link: TC packets to the dispatcher as it has room, then TM packets to
        the radio within its data rate (each a datagram, or the next piece of the stream)."""
        for chunk in radio.receive():
            link.accept(chunk)
        taken = link.deliver()  # without a dispatcher (a bare test context): dropped
        link.tc_dropped += len(taken)
        if not self.contact:
            return
        self.budget = min(self.budget + bps / 8.0 * dt, bps / 8.0)
        while (pkt := link.peek()) is not None and self.budget >= len(pkt):
            if not radio.send(pkt):
                self.tx_refused += 1
                break
            link.pop()
            self.budget -= len(pkt)

    def _downlink(self, radio: Radio, now_ns: int, dt: float, bps: float) -> None:
        down = self.downlink
        self.budget = min(self.budget + bps / 8.0 * dt, bps / 8.0)  # at most 1 s queued
        clcw = self.uplink.clcw()
        while self.budget >= down.cadu_len:
            # The CLCW goes down at least once a second, and at once when it changed (FOP-1
            # on the ground waits for it to send more, or to retransmit after a Wait).
            clcw_due = now_ns - self.last_frame_ns >= NS_PER_S or clcw != self.last_clcw
            if not (down.has_data() or self.idle_fill or clcw_due):
                break
            if not radio.send(down.next_cadu()):
                self.tx_refused += 1
                break
            self.budget -= down.cadu_len
            self.last_frame_ns = now_ns
            self.last_clcw = clcw

    def _telemetry(self) -> None:
        c = self.uplink.counters
        farm = self.uplink.farm
        pl = self.packet_link or PacketLink(None, stream=False)  # the lab link's counters
        self.tlm.update(
            in_contact=int(self.contact),
            cltu_frames=c.cltu_frames,
            tc_packets=c.packets + pl.packets,
            frame_errors=c.frame_errors,
            sdls_rejected=sum(c.sdls_rejected.values()),
            farm_rejected=c.farm_rejected,
            farm_vr=farm.vr,
            farm_state=int(farm.state),
            tm_frames=self.downlink.frames_sent,
            idle_frames=self.downlink.idle_frames_sent,
            vc_dropped=self.downlink.dropped + pl.tm_dropped,
            tx_refused=self.tx_refused,
            packet_errors=c.packet_errors + pl.packet_errors,
            farm_waiting=min(farm.pending(), 0xFF),
            uplink_backlog=self.uplink.backlog + pl.backlog,
            uplink_dropped=c.backlog_dropped + pl.dropped_octets,
            uplink_limited=c.limited_calls,
            cltu_rejected=self.uplink.cltu_rejected,
            frames_not_ours=c.wrong_scid + c.wrong_vcid,
        )
        self._security_report()
