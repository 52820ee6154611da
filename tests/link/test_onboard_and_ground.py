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
