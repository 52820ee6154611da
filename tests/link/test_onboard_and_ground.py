"""The two ends of the link wired back to back, over a channel that loses and corrupts."""

import random

from flightsw.ground.station import GroundStation
from flightsw.link.onboard import DownlinkChain, LinkConfig, UplinkChain
from flightsw.link.sdls import SdlsTc, SecurityAssociation
from flightsw.packets import PusTc, PusTm

KEY = bytes(range(32))


def _tcs(n: int) -> list[bytes]:
    return [PusTc(0x64, 17, 1, i.to_bytes(2, "big"), seq_count=i).encode() for i in range(n)]


def _run(loss: float, corrupt: float, seed: int, sdls: bool) -> None:
    rng = random.Random(seed)
    cfg = LinkConfig(tm_frame_len=256)
    sa = SecurityAssociation(spi=7, key=KEY) if sdls else None
    flight_up = UplinkChain(cfg, SdlsTc([SecurityAssociation(spi=7, key=KEY)]) if sdls else None)
    flight_down = DownlinkChain(cfg, flight_up)
    ground = GroundStation(cfg, security=sa, t1_s=3.0, transmission_limit=50)
    ground.initiate()
    sent = _tcs(120)
    for tc in sent:
        ground.send_packet(tc)
    got: list[bytes] = []
    tm_sent: list[bytes] = []
    tm_got: list[bytes] = []

    def channel(data: bytes) -> bytes | None:
        if rng.random() < loss:
            return None
        if rng.random() < corrupt:
            b = bytearray(data)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            return bytes(b)
        return data

    for t in range(2000):
        now = t * 0.1
        for cltu in ground.tick(now):
            received = channel(cltu)
            if received is not None:
                got.extend(flight_up.feed(received))
        if t % 3 == 0:
            tm = PusTm(0x64, 3, 25, bytes(rng.randrange(200)), seq_count=len(tm_sent)).encode()
            tm_sent.append(tm)
            flight_down.push(tm)
        cadu = flight_down.next_cadu()
        received = channel(cadu)
        if received is not None:
            tm_got.extend(ground.receive(received))
        if len(got) == len(sent) and ground.outstanding == 0:
            break
    assert got == sent  # every TC exactly once, in order
    assert ground.outstanding == 0
    # Telemetry: what arrives is intact and in order; frames lost take their packets along.
    index = {p: i for i, p in enumerate(tm_sent)}
    positions = [index[p] for p in tm_got]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    if loss == 0 and corrupt == 0:
        assert len(tm_got) >= len(tm_sent) - 3  # all but what is still in flight


def test_clean_link_delivers_everything() -> None:
    _run(0.0, 0.0, 1, sdls=False)


def test_lossy_link_delivers_every_tc_once_in_order() -> None:
    for seed in range(3):
        _run(0.10, 0.05, seed, sdls=False)


def test_lossy_link_with_sdls() -> None:
    _run(0.10, 0.05, 11, sdls=True)


def test_forged_and_replayed_frames_never_reach_the_dispatcher() -> None:
    cfg = LinkConfig()
    flight = UplinkChain(cfg, SdlsTc([SecurityAssociation(spi=7, key=KEY)]))
    good = GroundStation(cfg, security=SecurityAssociation(spi=7, key=KEY))
    forger = GroundStation(cfg, security=SecurityAssociation(spi=7, key=bytes(32)))
    stranger = GroundStation(cfg)  # no SDLS at all
    for g in (good, forger, stranger):
        g.initiate()
        g.send_packet(_tcs(1)[0])
    real = good.tick(0.0)
    assert flight.feed(real[0]) == _tcs(1)
    assert flight.feed(real[0]) == []  # replayed
    assert flight.feed(forger.tick(0.0)[0]) == []
    assert flight.feed(stranger.tick(0.0)[0]) == []
    rejected = flight.counters.sdls_rejected
    assert rejected.get("replay") == 1 and rejected.get("bad_mac") == 1
    assert sum(rejected.values()) == 3 and list(flight.refusals)[-3:][0] == "replay"


class SlowConsumer:
    """A dispatcher stand-in: a small queue drained a few TCs per tick."""

    def __init__(self, depth: int) -> None:
        self.uplink_depth = depth
        self.queue: list[bytes] = []
        self.done: list[bytes] = []
        self.refused = 0

    def room(self) -> int:
        return self.uplink_depth - len(self.queue)

    def submit(self, tc: bytes) -> bool:
        if len(self.queue) >= self.uplink_depth:
            self.refused += 1
            return False
        self.queue.append(tc)
        return True

    def drain(self, n: int) -> None:
        self.done.extend(self.queue[:n])
        del self.queue[:n]


def test_a_busy_consumer_holds_the_ground_back_and_nothing_acknowledged_is_lost() -> None:
    """Back-pressure: FARM-1 hands an FDU on only when the consumer has room; a full
    buffer puts it in Wait and the ground's FOP-1 retransmits once the CLCW clears."""
    for seed in range(3):
        rng = random.Random(seed)
        cfg = LinkConfig(tm_frame_len=256, farm_buffer=2 + seed)
        consumer = SlowConsumer(depth=3 + seed)
        flight_up = UplinkChain(cfg, sink=consumer)
        flight_down = DownlinkChain(cfg, flight_up)
        ground = GroundStation(cfg, t1_s=1.0, transmission_limit=255, fop_window=5)
        ground.initiate()
        sent = _tcs(200)
        for tc in sent:
            ground.send_packet(tc)
        waits = 0
        for t in range(20_000):
            for cltu in ground.tick(t * 0.05):
                if rng.random() > 0.05:  # a few frames lost on the way up as well
                    assert flight_up.feed(cltu) == []  # everything goes to the sink
            waits += flight_up.farm.wait
            assert flight_up.farm.pending() <= cfg.farm_buffer
            if t % 3 == 0:
                consumer.drain(rng.randrange(0, 3))
                flight_up.deliver()
            ground.receive(flight_down.next_cadu())
            if len(consumer.done) == len(sent) and ground.outstanding == 0:
                break
        assert consumer.done == sent  # every TC exactly once, in order
        assert consumer.refused == 0  # never offered more than it had room for
        assert ground.outstanding == 0
        assert waits > 0 and flight_up.farm.discarded["buffer_full"] > 0
        assert flight_up.counters.packets == len(sent)


def test_a_link_reset_keeps_what_farm_already_acknowledged() -> None:
    cfg = LinkConfig(tm_frame_len=256, farm_buffer=4)
    consumer = SlowConsumer(depth=1)
    flight = UplinkChain(cfg, sink=consumer)
    ground = GroundStation(cfg)
    ground.initiate()
    sent = _tcs(5)
    for tc in sent:
        ground.send_packet(tc)
    for cltu in ground.tick(0.0):
        flight.feed(cltu)
    assert flight.farm.vr == 5 and flight.farm.pending() == 4  # acknowledged, waiting
    flight.reset()
    assert flight.farm.vr == 5  # kept: the CLCW goes on meaning what it meant
    for _ in range(5):
        consumer.drain(1)
        flight.deliver()
    consumer.drain(1)
    assert consumer.done == sent
