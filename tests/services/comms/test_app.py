"""The space link in SIL: a ground station commands the node over the simulated radio."""

from collections.abc import Callable
from dataclasses import replace

import pytest

from flightsw.ground.station import GroundStation
from flightsw.link.sdls import SecurityAssociation
from flightsw.link.sdls_config import link_security
from flightsw.packets import PusTc
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.sil.harness import SilHarness
from hal.interfaces import RadioStatus
from tests.support.ground_link import exchange


def _node(**radio: object) -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"always_in_contact": True, **radio}}
    m.hal["spacecraft"] = {"boards": 8}
    return SilHarness(m)


def _comms_options(h: SilHarness) -> dict[str, object]:
    return next(s.options for s in h.mission.apps if s.name == "comms")


def _ground(h: SilHarness, key: bytes | None = None) -> GroundStation:
    opts = _comms_options(h)
    sec = link_security(opts)
    if key is not None and sec.tc is not None:
        sec = replace(sec, tc=SecurityAssociation(spi=sec.tc.spi, key=key))
    gs = GroundStation.with_security(link_config(opts), sec)
    gs.initiate()
    return gs


def test_ping_over_the_link_comes_back_through_the_downlink() -> None:
    h = _node()
    gs = _ground(h)
    apid = h.mission.executive.apid
    for i in range(5):
        gs.send_packet(PusTc(apid, 17, 1, seq_count=i).encode())
    tm = exchange(h, gs, 5.0)
    pongs = [p for p in tm if (p.service, p.subservice) == (17, 2)]
    completions = [p for p in tm if (p.service, p.subservice) == (1, 7)]
    assert len(pongs) == 5 and len(completions) == 5
    assert gs.outstanding == 0  # FOP-1 saw every frame acknowledged in the CLCW
    comms = h.exe.app("comms").instance
    assert comms.tlm["tc_packets"] == 5 and comms.tlm["sdls_rejected"] == 0


def test_wrong_key_is_refused_and_reported() -> None:
    h = _node()
    gs = _ground(h, key=bytes(32))
    gs.send_packet(PusTc(h.mission.executive.apid, 17, 1).encode())
    tm = exchange(h, gs, 2.0)
    assert not [p for p in tm if p.service == 17]
    comms = h.exe.app("comms").instance
    assert comms.tlm["sdls_rejected"] >= 1 and comms.tlm["tc_packets"] == 0
    assert h.exe.dispatcher.received == 0
    high_events = [p for p in h.tm_of(5, 4) if p.app_data[:2] == (0x1F01).to_bytes(2, "big")]
    assert high_events, "TC_FRAME_UNAUTHENTICATED reported"


def test_lossy_link_still_delivers_commands_once() -> None:
    h = _node(ber_up=2e-4, ber_down=1e-5)
    gs = _ground(h)
    apid = h.mission.executive.apid
    for i in range(20):
        gs.send_packet(PusTc(apid, 17, 1, seq_count=i).encode())
    exchange(h, gs, 30.0)
    assert h.exe.app("comms").instance.tlm["tc_packets"] == 20
    assert h.exe.dispatcher.accepted == 20
    assert h.hal.harness["rf_link"].bits_flipped > 0


def test_refusals_keep_being_reported_after_the_first_64() -> None:
    h = _node()
    gs = _ground(h, key=bytes(32))  # a forger: every frame fails SDLS
    apid = h.mission.executive.apid
    link = h.hal.harness["ground_link"]
    for i in range(150):
        gs.send_bypass(PusTc(apid, 17, 1, seq_count=i).encode())
        h.exe.run_minor_frame()
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            link.send(cltu)
    h.run(2)
    comms = h.exe.app("comms").instance
    assert comms.tlm["sdls_rejected"] > 100
    events = [p for p in h.tm_of(5, 4) if p.app_data[:2] == (0x1F01).to_bytes(2, "big")]
    assert len(events) > 100  # reporting did not stop when the bounded list filled up


def test_the_radio_set_up_is_done_at_load_not_in_the_first_slot() -> None:
    m = load_mission()
    h = SilHarness(m)  # contacts from the orbit: the first status computes a day of them
    assert h.hal.harness["rf_link"]._windows_until > 0


def _flood(
    n: int,
    seed: int,
    tc_per_frame: int,
    *,
    reset_every: int = 0,
    bypass_share: float = 0.0,
    disable_power_at: tuple[int, ...] = (),
) -> dict[str, int]:
    """``n`` TCs from a ground FOP-1 through CLTU, SDLS, FARM-1 and the dispatcher, far
    faster than the node executes them. Every TC must end in a terminal PUS-1 report
    (TM(1,7) completed, or a failure TM(1,2)/(1,4)/(1,8)); work per step stays bounded.

    Disturbances: FDIR's link reset (``RADIO_RESET``) every ``reset_every`` frames, a
    share of the TCs sent as bypass (BD) frames, half of them for the power app when
    it is disabled in the frames ``disable_power_at`` (FDIR re-enables it)."""
    import random
    from collections import Counter

    from flightsw.framework import msgids
    from flightsw.framework.verification import parse_report
    from flightsw.link.fop import Response, Service
    from flightsw.link.onboard import SLICE_OCTETS

    rng = random.Random(seed)
    m = load_mission(seed=seed)
    m.hal = {
        **m.hal,
        "radio": {"always_in_contact": True, "uplink_bps": 4e6, "ber_up": 0.0, "ber_down": 0.0},
        "spacecraft": {"boards": 8},
    }
    m.executive.max_tc_per_frame = tc_per_frame  # the dispatcher is the bottleneck
    spec = next(s for s in m.apps if s.name == "comms")
    spec.options = {**spec.options, "farm_window": 254}
    h = SilHarness(m)
    h.tm.clear()
    sec = link_security(spec.options)
    gs = GroundStation(
        link_config(spec.options),
        sec.tc,
        km=sec.km,
        tm=sec.tm,
        fop_window=100,
        transmission_limit=255,
        wait_queue=256,
    )
    gs.initiate()
    link = h.hal.harness["ground_link"]
    apid = m.executive.apid
    comms = h.exe.app("comms")
    d = h.exe.dispatcher
    expected: Counter[int] = Counter()
    next_tc = 0
    waits = steps_limited = max_frames_step = 0
    frames_bound = comms.instance.cfg.uplink_frames_per_step + SLICE_OCTETS // 18
    tm_seen = 0
    terminal: Counter[int] = Counter()

    def collect() -> None:
        nonlocal tm_seen
        for p in h.tm[tm_seen:]:
            if p.service == 1 and p.subservice in (2, 4, 7, 8):
                terminal[parse_report(p.subservice, p.app_data)[0]] += 1
        tm_seen = len(h.tm)
        h.tm.clear()  # keep memory flat on long floods
        tm_seen = 0

    power = h.exe.app("power")

    def notices() -> None:
        gs.notices.extend(gs.fop.take_notices())
        while gs.notices:  # a BD request FOP-1 refused on the ground never left
            notice = gs.notices.popleft()
            if notice.response is Response.REJECT and notice.service is Service.BD:
                expected[by_fop[notice.request_id]] -= 1
            assert notice.response is not Response.ALERT, notice

    by_fop: dict[int, int] = {}  # FOP-1 request id -> TC request id
    for frame in range(n * 5 + 600):
        while next_tc < n and gs.fop.wait_queue_len < 200:
            kind = rng.random()
            tc = PusTc(apid, 17, 1, seq_count=next_tc & 0x3FFF, ack_flags=0b1001).encode()
            if kind < 0.05:  # a corrupted CRC: the dispatcher refuses it with TM(1,2)
                tc = tc[:-1] + bytes([tc[-1] ^ 0xFF])
            elif kind < 0.10:  # a service nobody offers: TM(1,2) too
                tc = PusTc(apid, 99, 1, seq_count=next_tc & 0x3FFF, ack_flags=0b1001).encode()
            elif disable_power_at and kind < 0.55:  # power.arm_switch 0 (function 0x2001)
                arm = (0x2001).to_bytes(2, "big") + b"\x00"
                tc = PusTc(apid, 8, 1, arm, seq_count=next_tc & 0x3FFF, ack_flags=0b1001).encode()
            expected[int.from_bytes(tc[:4], "big")] += 1
            send = gs.send_bypass if rng.random() < bypass_share else gs.send_packet
            by_fop[send(tc)] = int.from_bytes(tc[:4], "big")
            next_tc += 1
        notices()
        if reset_every and frame % reset_every == reset_every // 2:
            h.exe.bus.publish(msgids.RADIO_RESET, "test")  # what FDIR sends
        if frame in disable_power_at:
            h.exe.disable_app(power)
        up = comms.instance.uplink
        before = up.counters.cltu_frames
        h.exe.run_minor_frame()
        up = comms.instance.uplink
        max_frames_step = max(max_frames_step, up.counters.cltu_frames - before)
        assert len(d.uplink) <= d.uplink_depth
        assert up.farm.pending() <= up.farm.hard_limit
        waits += up.farm.wait
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            link.send(cltu)
        for chunk in link.receive():
            gs.receive(chunk)
        collect()
        if next_tc == n and gs.outstanding == 0 and not d.uplink and not up.farm.pending():
            break
    h.run(1.0)
    collect()
    notices()
    steps_limited = up.counters.limited_calls
    assert next_tc == n and gs.outstanding == 0
    expected = +expected  # drop the BD requests FOP-1 refused on the ground
    assert terminal == expected  # every TC reported exactly once: none lost unreported
    assert d.uplink_dropped == 0  # held back in FARM-1, never refused at the door
    assert h.exe.tm.dropped == 0
    assert max_frames_step <= frames_bound
    assert waits > 0  # the dispatcher was the bottleneck: FARM-1 entered Wait
    return {"waits": waits, "max_frames_step": max_frames_step, "limited": steps_limited}


def test_a_tc_flood_loses_nothing_unreported_and_bounds_work_per_step() -> None:
    stats = _flood(1_500, seed=7, tc_per_frame=4)
    assert stats["limited"] > 0  # bursts of frames were spread over several steps


def test_a_flood_through_link_resets_loses_nothing_acknowledged() -> None:
    """FDIR's link reset in the middle of a flood: a reset that put V(R) back to 0 made
    later CLCWs acknowledge frames FARM-1 never accepted (FOP-1 dropped them as done)."""
    _flood(400, seed=9, tc_per_frame=4, reset_every=40)


def test_a_flood_with_bypass_frames_and_a_disabled_target_loses_nothing() -> None:
    stats = _flood(400, seed=10, tc_per_frame=4, bypass_share=0.2, disable_power_at=(30, 90))
    assert stats["waits"] > 0


@pytest.mark.slow
def test_a_flood_of_100k_tcs_loses_nothing_unreported() -> None:
    _flood(100_000, seed=8, tc_per_frame=8)


class FloodRadio:
    """A radio that hears a flood: ``per_call`` chunks of ``size`` octets every receive."""

    def __init__(self, inner: object, per_call: int, size: int, seed: int) -> None:
        import random

        self.inner = inner
        rng = random.Random(seed)
        self.chunks = [bytes(rng.randrange(256) for _ in range(size)) for _ in range(per_call)]
        self.offered = 0

    def receive(self) -> list[bytes]:
        self.offered += sum(len(c) for c in self.chunks)
        return list(self.chunks)

    def send(self, data: bytes) -> bool:
        return self.inner.send(data)  # type: ignore[attr-defined,no-any-return]

    def status(self) -> object:
        return self.inner.status()  # type: ignore[attr-defined]


def test_an_uplink_flood_is_bounded_per_step_and_what_is_dropped_is_counted() -> None:
    h = _node()
    comms = h.exe.app("comms").instance
    flood = FloodRadio(comms.radio, per_call=64, size=4096, seed=3)  # 256 KiB a step
    comms.radio = flood
    up = comms.uplink
    cfg = comms.cfg
    decoded: list[int] = []
    real_feed = up.cltu.feed

    def counting_feed(data: bytes) -> list[bytes]:
        decoded[-1] += len(data)
        return real_feed(data)

    up.cltu.feed = counting_feed  # type: ignore[method-assign]
    for _ in range(30):
        decoded.append(0)
        h.exe.run_minor_frame()
        assert up.backlog <= cfg.uplink_backlog
    assert max(decoded) <= cfg.uplink_octets_per_step
    assert sum(decoded) + up.backlog + up.counters.backlog_dropped == flood.offered
    h.run(1.0)
    assert 0 < comms.tlm["uplink_dropped"] <= up.counters.backlog_dropped
    assert comms.tlm["uplink_limited"] > 0
    assert h.exe.watchdog_kicks >= 3 and not h.exe.app("comms").stats.exceptions


def test_the_udp_radio_reads_a_bounded_number_of_datagrams_per_call() -> None:
    import socket

    from hal.radio.udp import UdpRadio

    radio = UdpRadio(rx_depth=16)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(100):
            tx.sendto(b"x" * 100, radio.address)
        got = [len(radio.receive()) for _ in range(10)]
    finally:
        tx.close()
        radio.close()
    assert max(got) <= 16
    assert sum(got) == 100  # the rest waited in the socket buffer for the next calls


def test_damaged_and_foreign_uplink_is_counted_in_housekeeping() -> None:
    from flightsw.link.cltu import encode_cltu
    from flightsw.link.tc_frame import TcFrame

    h = _node()
    link = h.hal.harness["ground_link"]
    cltu = bytearray(encode_cltu(b"\x00" * 21, randomize=True))
    cltu[5] ^= 0xFF  # two bit errors and more in one codeblock: uncorrectable
    cltu[6] ^= 0xFF
    link.send(bytes(cltu))
    other = TcFrame(scid=0x2B, vcid=0, data=b"\x00" * 8, seq=0, bypass=1, control=0).encode()
    link.send(encode_cltu(other, randomize=True))
    h.run(3)
    tlm = h.exe.app("comms").instance.tlm
    assert tlm["cltu_rejected"] == 1 and tlm["frames_not_ours"] == 1


class _LateRadio:
    """CLTUs arriving each at its own time (not only on the simulated spacecraft's 1 Hz
    step): out of contact, ones that left the ground before loss of signal; in contact,
    ones sent during the pass. In contact it keeps every CADU comms sent, with the time."""

    def __init__(self, clock: Callable[[], int], contact: bool = False) -> None:
        self.now = clock
        self.contact = contact
        self.in_flight: list[tuple[int, bytes]] = []
        self.sent: list[tuple[int, bytes]] = []

    def send(self, data: bytes) -> bool:
        if self.contact:
            self.sent.append((self.now(), data))
        return self.contact

    def receive(self) -> list[bytes]:
        now = self.now()
        out = [c for t, c in self.in_flight if t <= now]
        self.in_flight = [(t, c) for t, c in self.in_flight if t > now]
        return out

    def rx_pending(self) -> bool:
        return bool(self.in_flight)

    def status(self) -> RadioStatus:
        return RadioStatus(self.contact, 2e6, 64e3, 0, 0)


def _late_frames(
    skip: bool, delays_s: tuple[float, ...], contact: bool = False
) -> tuple[list[bytes], int, list[tuple[int, bytes]]]:
    """The TM with CLTUs arriving ``delays_s`` after the node's first second, the TC
    packets comms took and the CADUs it sent (in contact)."""
    m = load_mission()
    m.hal["spacecraft"] = {"boards": 8}
    h = SilHarness(m)
    h.exe.skip_idle_steps = skip
    gs = _ground(h)
    comms = h.exe.app("comms").instance
    radio = _LateRadio(lambda: h.exe.now_ns, contact)
    comms.radio, comms.rx_pending = radio, radio.rx_pending
    h.run(1.0)
    apid = h.mission.executive.apid
    for i, delay in enumerate(delays_s):
        gs.send_packet(PusTc(apid, 17, 1, seq_count=i).encode())
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            radio.in_flight.append((h.exe.now_ns + int(delay * 1e9), cltu))
    h.run(4.0)
    return h.raw_tm, comms.tlm["tc_packets"], radio.sent


@pytest.mark.parametrize("delays", [(0.05,), (0.35, 0.36, 1.72), (0.95, 2.5)])
def test_comms_skipping_idle_steps_out_of_contact_misses_no_late_frame(
    delays: tuple[float, ...],
) -> None:
    """Out of contact comms skips its idle steps only while nothing is on its way up: a
    frame still in flight is taken in the frame it arrives, as when every slot runs."""
    skipped, taken, _ = _late_frames(True, delays)
    assert (skipped, taken) == _late_frames(False, delays)[:2]
    assert taken == len(delays)


@pytest.mark.parametrize("delays", [(0.05,), (0.35, 0.36, 1.72), (0.95, 2.5)])
def test_comms_skipping_idle_steps_in_contact_sends_the_same_frames_at_the_same_times(
    delays: tuple[float, ...],
) -> None:
    """In contact comms skips a step only when the downlink would send nothing (no data,
    CLCW unchanged and sent within the second, budget full): with commands arriving
    mid-pass (each changes the CLCW, which must go down at once) the CADUs, their times,
    the TM and the commands taken are those of a run that steps every slot."""
    skipped = _late_frames(True, delays, contact=True)
    assert skipped == _late_frames(False, delays, contact=True)
    assert skipped[1] == len(delays)
    assert len(skipped[2]) > 5  # CLCW carriers and TM went down during the pass
