"""FOP-1 and FARM-1 talking through a simulated, seeded, lossy channel.

The uplink carries FOP outputs, the downlink carries one CLCW per tick. Both directions
drop, duplicate, delay with jitter (so frames overtake each other) and corrupt; a CRC
stands in for the frame decoder, so corrupted frames are discarded as the real decoder
would. Downlink frames carry a master-channel frame count and the ground drops stale
ones, as a real TM receiver does (FOP-1 assumes CLCWs in order).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from flightsw.base.crc import crc16
from flightsw.base.errors import DecodeError
from flightsw.link.clcw import Clcw
from flightsw.link.farm import Farm, FarmState
from flightsw.link.fop import AlertCode, Directive, Fop, FopOutput, FopState, Response, Service
from flightsw.link.sdls import Mode, SdlsError, SdlsTc, SecurityAssociation

TICK = 0.1


def _seal(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "big")


def _unseal(raw: bytes) -> bytes | None:
    if len(raw) < 2 or crc16(raw[:-2]) != int.from_bytes(raw[-2:], "big"):
        return None
    return raw[:-2]


def _header(out: FopOutput) -> bytes:
    """A stand-in 5-octet primary header: flags in octet 0, N(S) in octet 4."""
    return bytes([out.bypass << 1 | out.control, 0, 0, 0, out.seq])


def encode_tc(out: FopOutput, sdls: SdlsTc | None = None) -> bytes:
    header = _header(out)
    body = out.data if sdls is None else sdls.protect(header, out.data, 1)
    return _seal(header + body)


def decode_tc(raw: bytes, sdls: SdlsTc | None = None) -> FopOutput | None:
    frame = _unseal(raw)
    if frame is None or len(frame) < 5:
        return None
    header, body = frame[:5], frame[5:]
    if sdls is not None:
        try:
            body = sdls.verify(header, body)
        except SdlsError:
            return None
    return FopOutput(bool(header[0] & 2), bool(header[0] & 1), header[4], body)


@dataclass
class Channel:
    """One direction: loss, duplication, corruption and delay jitter (in ticks)."""

    rng: random.Random
    loss: float = 0.0
    dup: float = 0.0
    corrupt: float = 0.0
    delays: tuple[int, ...] = (1,)
    limit: int = 256  # bounded: the oldest in flight is dropped past this
    _heap: list[tuple[int, int, bytes]] = field(default_factory=list)
    _n: int = 0
    stats: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("sent", "lost", "dup", "corrupt", "overflow"), 0)
    )

    def send(self, raw: bytes, now: int) -> None:
        self.stats["sent"] += 1
        if self.rng.random() < self.loss:
            self.stats["lost"] += 1
            return
        copies = 1
        if self.rng.random() < self.dup:
            copies = 2
            self.stats["dup"] += 1
        for _ in range(copies):
            data = raw
            if self.rng.random() < self.corrupt:
                self.stats["corrupt"] += 1
                b = bytearray(raw)
                b[self.rng.randrange(len(b))] ^= 1 << self.rng.randrange(8)
                data = bytes(b)
            self._n += 1
            if len(self._heap) >= self.limit:
                self.stats["overflow"] += 1
                continue
            heapq.heappush(self._heap, (now + self.rng.choice(self.delays), self._n, data))

    def due(self, now: int) -> list[bytes]:
        out = []
        while self._heap and self._heap[0][0] <= now:
            out.append(heapq.heappop(self._heap)[2])
        return out


class Link:
    """Ground FOP, channel both ways, flight FARM with a consumer of limited rate."""

    def __init__(
        self,
        seed: int,
        loss: float = 0.0,
        dup: float = 0.0,
        corrupt: float = 0.0,
        delays: tuple[int, ...] = (1,),
        fop_window: int = 5,
        farm_window: int = 20,
        farm_buffer: int = 4,
        consume_per_tick: int = 1,
        transmission_limit: int = 12,
        sdls_mode: Mode | None = None,
    ) -> None:
        rng = random.Random(seed)
        self.ground_sdls = self.flight_sdls = None
        if sdls_mode is not None:
            key = bytes(range(32))
            self.ground_sdls = SdlsTc([SecurityAssociation(1, key, sdls_mode)])
            self.flight_sdls = SdlsTc([SecurityAssociation(1, key, sdls_mode)])
        self.up = Channel(rng, loss, dup, corrupt, delays)
        self.down = Channel(rng, loss, dup, corrupt, delays)
        self.fop = Fop(
            window=fop_window,
            t1_initial=1.0,
            transmission_limit=transmission_limit,
            wait_queue_limit=2,
        )
        self.farm = Farm(window=farm_window, buffer_limit=farm_buffer)
        self.consume_per_tick = consume_per_tick
        self.tick_no = 0
        self.mc_count = 0
        self.last_mc: int | None = None
        self.stale_clcws = 0
        self.up_arrivals = 0
        self.crc_failures = 0
        self.bad_frames = 0
        self.delivered: list[bytes] = []
        self.delivered_bd: list[bytes] = []
        self.confirmed: set[int] = set()
        self.negative: set[int] = set()
        self.alerts: list[AlertCode] = []
        self.directive_confirms: list[int] = []
        self.payload_of: dict[int, bytes] = {}
        self.queue: list[bytes] = []  # payloads waiting for the FOP's wait queue

    def submit(self, payloads: list[bytes]) -> None:
        self.queue.extend(payloads)

    def step(self) -> None:
        self.tick_no += 1
        now = self.tick_no
        fop, farm = self.fop, self.farm
        fop.tick(now * TICK)
        while (
            self.queue
            and fop.wait_queue_len < fop.wait_queue_limit
            and fop.state
            in (
                FopState.ACTIVE,
                FopState.RETRANSMIT_WITHOUT_WAIT,
                FopState.RETRANSMIT_WITH_WAIT,
            )
        ):
            payload = self.queue.pop(0)
            self.payload_of[fop.transmit_ad(payload)] = payload
        for out in fop.take_outputs():
            self.up.send(encode_tc(out, self.ground_sdls), now)
        for raw in self.up.due(now):
            self.up_arrivals += 1
            self.crc_failures += _unseal(raw) is None
            frame = decode_tc(raw, self.flight_sdls)
            if frame is None:
                farm.invalid_frame()
                self.bad_frames += 1
                continue
            farm.receive(frame.bypass, frame.control, frame.seq, frame.data)
        for _ in range(self.consume_per_tick):
            item = farm.pull()
            if item is None:
                break
            (self.delivered_bd if item.bypass else self.delivered).append(item.data)
        self.mc_count = (self.mc_count + 1) & 0xFF
        self.down.send(_seal(bytes([self.mc_count]) + farm.clcw().encode()), now)
        for raw in self.down.due(now):
            body = _unseal(raw)
            if body is None:
                continue
            mc = body[0]
            if self.last_mc is not None and not 0 < (mc - self.last_mc) & 0xFF < 128:
                self.stale_clcws += 1
                continue
            self.last_mc = mc
            try:
                report = Clcw.decode(body[1:])
            except DecodeError:  # pragma: no cover - the CRC catches corruption first
                continue
            fop.clcw_received(report)
        for n in fop.take_notices():
            if n.response is Response.ALERT and n.alert is not None:
                self.alerts.append(n.alert)
            elif n.service is Service.AD and n.request_id is not None:
                if n.response is Response.POSITIVE_CONFIRM:
                    self.confirmed.add(n.request_id)
                elif n.response in (Response.NEGATIVE_CONFIRM, Response.REJECT):
                    self.negative.add(n.request_id)
            elif n.service is Service.DIRECTIVE and n.response is Response.POSITIVE_CONFIRM:
                assert n.request_id is not None
                self.directive_confirms.append(n.request_id)

    def run_until_confirmed(self, max_ticks: int) -> None:
        for _ in range(max_ticks):
            self.step()
            done = not self.queue and len(self.confirmed) == len(self.payload_of)
            if done and self.fop.sent_queue_len == 0:
                break
            if self.alerts:
                break

    def drain_consumer(self) -> None:
        while (item := self.farm.pull()) is not None:
            (self.delivered_bd if item.bypass else self.delivered).append(item.data)


def payloads(n: int, start: int = 0) -> list[bytes]:
    return [f"fdu-{i:05d}".encode() for i in range(start, start + n)]


def start(link: Link) -> None:
    link.fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
    assert link.fop.state is FopState.ACTIVE


# ------------------------------------------------------------------ lossy channel


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lossy_reordering_channel_delivers_every_frame_once_in_order(seed: int) -> None:
    link = Link(seed, loss=0.10, dup=0.05, corrupt=0.05, delays=(1, 2))
    start(link)
    sent = payloads(320)
    link.submit(sent)
    link.run_until_confirmed(20_000)
    link.drain_consumer()
    assert link.alerts == []
    assert link.delivered == sent  # exactly once, in order
    assert len(link.confirmed) == len(sent) and not link.negative
    # the channel really was hostile, and FARM/FOP really worked for it
    for ch in (link.up, link.down):
        assert ch.stats["lost"] > 0 and ch.stats["dup"] > 0 and ch.stats["corrupt"] > 0
    assert link.fop.counters["ad_retransmitted"] > 0
    d = link.farm.discarded
    assert d["negative_window"] > 0 and d["positive_window"] > 0 and d["invalid_frame"] > 0
    assert link.stale_clcws > 0
    assert link.farm.state is FarmState.OPEN and link.fop.state is FopState.ACTIVE


@pytest.mark.parametrize("seed", [4, 5])
def test_lossy_in_order_channel_with_window_at_farm_limit(seed: int) -> None:
    """K = W/2, the widest window 232.1-B-2 allows, is safe when the channel keeps order."""
    link = Link(seed, loss=0.10, dup=0.05, corrupt=0.05, fop_window=5, farm_window=10)
    start(link)
    sent = payloads(300)
    link.submit(sent)
    link.run_until_confirmed(20_000)
    link.drain_consumer()
    assert link.alerts == []
    assert link.delivered == sent and len(link.confirmed) == 300
    assert link.farm.discarded["lockout_window"] == 0


def test_slow_consumer_drives_farm_wait_and_fop_retransmit_with_wait() -> None:
    link = Link(7, loss=0.05, farm_buffer=2, consume_per_tick=1)
    link.fop.directive(Directive.SET_WINDOW, 5)
    start(link)
    sent = payloads(120)
    link.submit(sent)
    waits = 0
    s3 = 0
    for _ in range(20_000):
        link.consume_per_tick = 1 if link.tick_no % 4 == 0 else 0  # consumer at 1/4 rate
        link.step()
        waits += link.farm.state is FarmState.WAIT
        s3 += link.fop.state is FopState.RETRANSMIT_WITH_WAIT
        if len(link.confirmed) == len(sent) and link.fop.sent_queue_len == 0:
            break
    link.drain_consumer()
    assert link.alerts == []
    assert link.delivered == sent
    assert waits > 0 and s3 > 0 and link.farm.discarded["buffer_full"] > 0


def test_bd_frames_pass_alongside_ad_traffic() -> None:
    link = Link(8, loss=0.1, delays=(1, 2))
    start(link)
    link.submit(payloads(50))
    for i in range(40):
        link.fop.transmit_bd(f"bd-{i}".encode())
        link.step()
    link.run_until_confirmed(10_000)
    link.drain_consumer()
    assert link.delivered == payloads(50)
    assert 0 < len(link.delivered_bd) <= 40  # BD: no retransmission, losses stay lost
    assert link.delivered_bd == sorted(set(link.delivered_bd), key=link.delivered_bd.index)


@pytest.mark.parametrize("mode", ["hmac-sha256", "aes-gcm"])
def test_sdls_on_every_transmission_over_the_lossy_channel(mode: Mode) -> None:
    """Each copy a FOP sends gets a fresh ARSN: retransmissions verify, duplicates do not."""
    link = Link(11, loss=0.10, dup=0.05, corrupt=0.05, delays=(1, 2), sdls_mode=mode)
    start(link)
    sent = payloads(150)
    link.submit(sent)
    link.run_until_confirmed(20_000)
    link.drain_consumer()
    assert link.alerts == [] and link.delivered == sent
    assert link.flight_sdls is not None and link.ground_sdls is not None
    counters = link.flight_sdls.counters
    assert counters["replay"] > 0  # channel duplicates stopped by anti-replay
    assert counters["bad_mac"] == 0  # the CRC caught every corruption before SDLS
    # every uplink arrival that passed the CRC was either verified or refused as a replay
    assert counters["verified"] + counters["replay"] == link.up_arrivals - link.crc_failures
    assert counters["verified"] > len(sent) and link.crc_failures > 0
    assert link.fop.counters["ad_retransmitted"] > 0


# ------------------------------------------------------------- lockout and Set V(R)


def farm_state(link: Link) -> FarmState:
    return link.farm.state  # a call, so mypy does not carry an earlier narrowing over


def fop_state(link: Link) -> FopState:
    return link.fop.state


def _lock_out(link: Link) -> None:
    """A rogue AD frame far outside the window puts FARM-1 into Lockout."""
    link.farm.receive(False, False, (link.farm.vr + 128) & 0xFF, b"rogue")
    assert link.farm.state is FarmState.LOCKOUT


def test_lockout_detected_then_recovered_with_unlock() -> None:
    link = Link(9, loss=0.1, dup=0.05, corrupt=0.05)
    start(link)
    link.submit(payloads(30))
    link.run_until_confirmed(5_000)
    assert len(link.confirmed) == 30
    _lock_out(link)
    link.submit(payloads(10, start=30))
    for _ in range(200):
        link.step()
        if link.alerts:
            break
    assert link.alerts == [AlertCode.LOCKOUT] and link.fop.state is FopState.INITIAL
    lost = [link.payload_of[r] for r in sorted(link.negative)]
    assert lost  # the frames caught in the lockout were negatively confirmed
    link.alerts.clear()
    link.queue = lost + link.queue  # the user re-submits them after recovery

    # Set V(R) cannot leave Lockout: the FOP sees lockout CLCWs, times out and alerts.
    link.fop.directive(Directive.SET_TRANSMISSION_LIMIT, 3)
    link.fop.directive(Directive.INITIATE_AD_WITH_SET_VR, link.fop.vs)
    for _ in range(200):
        link.step()
        if link.alerts:
            break
    assert link.alerts == [AlertCode.T1] and link.farm.state is FarmState.LOCKOUT
    assert link.farm.set_vrs > 0
    link.alerts.clear()

    # Recovery: Set V(S) to the FARM's N(R), then Initiate AD with Unlock.
    link.fop.directive(Directive.SET_TRANSMISSION_LIMIT, 12)
    link.fop.directive(Directive.SET_VS, link.farm.clcw().report_value)
    rid = link.fop.directive(Directive.INITIATE_AD_WITH_UNLOCK)
    for _ in range(500):
        link.step()
        if rid in link.directive_confirms:
            break
    assert rid in link.directive_confirms
    assert farm_state(link) is FarmState.OPEN and fop_state(link) is FopState.ACTIVE
    link.run_until_confirmed(10_000)
    link.drain_consumer()
    assert link.alerts == []
    assert link.delivered == payloads(40)  # nothing lost, nothing twice, in order


def test_initiate_with_set_vr_resynchronises_across_the_wrap() -> None:
    link = Link(10, loss=0.1, dup=0.05, corrupt=0.05, delays=(1, 2))
    rid = link.fop.directive(Directive.INITIATE_AD_WITH_SET_VR, 230)
    for _ in range(500):
        link.step()
        if rid in link.directive_confirms:
            break
    assert link.farm.vr == 230 and link.fop.state is FopState.ACTIVE
    sent = payloads(60)
    link.submit(sent)
    link.run_until_confirmed(10_000)
    link.drain_consumer()
    assert link.alerts == [] and link.delivered == sent
    assert link.farm.vr == (230 + 60) & 0xFF


@pytest.mark.parametrize("buffered", [False, True])
@pytest.mark.parametrize("seed", [4, 5])
def test_a_node_started_after_the_ground_gets_each_frame_once(seed: int, buffered: bool) -> None:
    """The path suspected of "one TC executed twice": the ground initiates with Set V(R)
    and queues a TC 9 s before the node is up, FOP-1 retransmits the BC frame into the
    void (or into a socket the node reads only once it is up: ``buffered``), then the
    node starts with V(R) = 0, so even a CLCW sent before any BC arrived confirms the
    initiation. Over a lossy, duplicating, reordering channel each FDU still arrives
    once: FOP-1 sends AD frames only after leaving S5, when no BC copy is retransmitted
    any more, and a BC copy older than the AD frame arrives before it."""
    link = Link(seed, loss=0.1, dup=0.1, corrupt=0.05, delays=(1, 2, 3))
    link.fop.directive(Directive.INITIATE_AD_WITH_SET_VR, 0)
    sent = payloads(3)
    link.submit(sent)
    held: list[bytes] = []
    for _ in range(90):  # 9 s with the node down: nothing comes back
        link.tick_no += 1
        link.fop.tick(link.tick_no * TICK)
        held += [encode_tc(out) for out in link.fop.take_outputs()]
    assert link.fop.counters["bc_sent"] >= 4 and link.fop.state is FopState.INITIALISING_WITH_BC
    for raw in held if buffered else []:
        link.up.send(raw, link.tick_no)
    link.run_until_confirmed(3000)
    link.drain_consumer()
    assert link.alerts == [] and link.delivered == sent and link.farm.accepted_ad == len(sent)


# ------------------------------------------------------ stateful FOP + FARM + channel


class Cop1Machine(RuleBasedStateMachine):
    """Random traffic and time over a perfect or a lossy channel: the invariants hold."""

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        lossy=st.booleans(),
        farm_buffer=st.integers(1, 4),
        k=st.integers(1, 5),
    )
    def setup(self, seed: int, lossy: bool, farm_buffer: int, k: int) -> None:
        if lossy:
            self.link = Link(seed, 0.1, 0.05, 0.05, (1, 2), fop_window=k, farm_buffer=farm_buffer)
        else:
            self.link = Link(seed, fop_window=k, farm_buffer=farm_buffer)
        start(self.link)
        self.submitted = 0

    @rule(n=st.integers(1, 8))
    def submit(self, n: int) -> None:
        self.link.submit(payloads(n, self.submitted))
        self.submitted += n

    @rule(ticks=st.integers(1, 30), consume=st.integers(0, 2))
    def run(self, ticks: int, consume: int) -> None:
        self.link.consume_per_tick = consume
        for _ in range(ticks):
            self.link.step()

    @rule()
    def drain(self) -> None:
        self.link.drain_consumer()

    @invariant()
    def delivered_in_order_exactly_once(self) -> None:
        link = self.link
        assert link.delivered == payloads(len(link.delivered))
        assert len(link.delivered) <= self.submitted

    @invariant()
    def confirmed_only_what_farm_accepted(self) -> None:
        link = self.link
        confirmed = {link.payload_of[r] for r in link.confirmed}
        accepted = set(payloads(link.farm.accepted_ad))
        assert confirmed <= accepted

    @invariant()
    def windows_hold(self) -> None:
        fop, farm = self.link.fop, self.link.farm
        outstanding = (fop.vs - fop.nnr) & 0xFF
        assert outstanding <= fop.k and fop.sent_queue_len <= fop.k
        assert (farm.vr - fop.nnr) & 0xFF <= outstanding  # NN(R) <= V(R) <= V(S)
        assert self.link.alerts == [] and farm.state is not FarmState.LOCKOUT


TestCop1Machine = Cop1Machine.TestCase
TestCop1Machine.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
