"""The whole TM path, both ways, on one core: packets -> AOS frames -> randomized CADUs,
and CADU octets -> frames -> packets on the ground.

Rates are telemetry (packet) octets per second, in Mbit/s; the issue's target is at
least 100 Mbit/s each way. Packets are a mix of housekeeping-sized and bulk packets.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.link.extractor import PacketExtractor
from flightsw.link.framer import AosFramer, VirtualChannel
from flightsw.link.sync import CaduReader, encode_cadu
from flightsw.packets import PusTm

FRAME_LEN = 1115  # a common AOS frame length with RS(255,223) x5 interleave in mind


def _packets(n: int, sizes_from: tuple[int, ...]) -> list[bytes]:
    rng = random.Random(1)
    sizes = [rng.choice(sizes_from) for _ in range(n)]
    return [
        PusTm(0x64, 3, 25, bytes(s), seq_count=i & 0x3FFF).encode() for i, s in enumerate(sizes)
    ]


MIXED = (60, 120, 400, 1000, 2000, 4000)
HK = (40, 80, 120)


def run(quick: bool = False) -> dict[str, float]:
    n = 2000 if quick else 10000
    out: dict[str, float] = {}
    for name, sizes in (("", MIXED), ("_hk", HK)):
        for k, v in _path(_packets(n, sizes)).items():
            out[k.replace("tm_path", f"tm_path{name}")] = v
    return out


def _path(packets: list[bytes]) -> dict[str, float]:
    payload_bits = 8 * sum(len(p) for p in packets)
    framer = AosFramer(scid=0x2A, frame_len=FRAME_LEN, vcs=[VirtualChannel(0, 0, len(packets))])
    t0 = time.perf_counter()
    for p in packets:
        framer.push(0, p)
    cadus = []
    while framer.has_data:
        cadus.append(encode_cadu(framer.next_frame()))
    t_down = time.perf_counter() - t0
    stream = b"".join(cadus)
    reader = CaduReader(FRAME_LEN, max_buffer=len(stream) + 8192)
    extractor = PacketExtractor(frame_len=FRAME_LEN, kind="aos", has_ocf=False)
    t0 = time.perf_counter()
    got = []
    chunk = 64 * 1024
    for i in range(0, len(stream), chunk):
        for frame in reader.feed(stream[i : i + chunk]):
            got.extend(extractor.feed_frame(frame))
    t_up = time.perf_counter() - t0
    if got != packets[: len(got)] or len(got) < len(packets) - 2:
        raise AssertionError("the ground side did not get the packets back")
    return {
        "tm_path_flight_mbit_s": payload_bits / t_down / 1e6,
        "tm_path_ground_mbit_s": payload_bits / t_up / 1e6,
        "tm_path_frames": float(len(cadus)),
    }


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:40s} {v:14,.2f}")
