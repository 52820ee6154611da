"""Downlink benchmarks: TM/AOS frame codecs, the flight framer and the ground extractor.

Frames are 1024 octets with a FECF (the default mission frame). The framer and the
extractor run on two workloads: 100-octet packets (housekeeping-like) and packets of
random sizes 7..2000 octets (a mix with dumps), both split over VC0 and VC1.
``*_vs_construct`` compares our frame decoder with parsing the construct declaration.
``*_sdls_vs_plain``: the same workload with every frame authenticated (SDLS on TM,
HMAC-SHA-256, the default mission's TM SA) over without.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_timing import rate

from flightsw.link.aos_frame import AosFrame
from flightsw.link.extractor import PacketExtractor
from flightsw.link.framer import TmFramer, VirtualChannel
from flightsw.link.sdls import SdlsTm, SecurityAssociation
from flightsw.link.tm_frame import TmFrame, tm_frame_declaration
from flightsw.packets import SpacePacket

FRAME_LEN = 1024


def _packets(sizes: list[int], seed: int) -> list[tuple[int, bytes]]:
    rng = np.random.default_rng(seed)
    return [
        (i % 2, SpacePacket(0x100 + i % 2, rng.bytes(size - 6), seq_count=i & 0x3FFF).encode())
        for i, size in enumerate(sizes)
    ]


def _tm_sdls() -> SdlsTm:
    return SdlsTm(SecurityAssociation(3, bytes(range(64, 96)), arsn_len=8))


def _frames_for(packets: list[tuple[int, bytes]], secure: bool = False) -> list[bytes]:
    framer = _framer(len(packets), secure)
    for vc, packet in packets:
        framer.push(vc, packet)
    frames = []
    while framer.has_data:
        frames.append(framer.next_frame())
    return frames


def _framer(depth: int, secure: bool = False) -> TmFramer:
    vcs = [VirtualChannel(0, 0, depth), VirtualChannel(1, 1, depth)]
    return TmFramer(0x1AB, FRAME_LEN, vcs, security=_tm_sdls() if secure else None)


def run(quick: bool = False) -> dict[str, float]:
    budget = 0.3 if quick else 1.5
    out: dict[str, float] = {}
    data = bytes(range(256)) * 4
    tm = TmFrame(0x1AB, 0, data[: FRAME_LEN - 8], mc_count=3, vc_count=4)
    tm_raw = tm.encode()
    aos = AosFrame(0xAB, 0, data[: FRAME_LEN - 10], vc_count=5)
    aos_raw = aos.encode()
    decl = tm_frame_declaration(FRAME_LEN, True)

    out["tm_frame_encode_per_s"] = rate(tm.encode, budget)
    out["tm_frame_decode_per_s"] = rate(lambda: TmFrame.decode(tm_raw, FRAME_LEN), budget)
    out["aos_frame_encode_per_s"] = rate(aos.encode, budget)
    out["aos_frame_decode_per_s"] = rate(lambda: AosFrame.decode(aos_raw, FRAME_LEN), budget)
    out["construct_tm_frame_parse_per_s"] = rate(lambda: decl.parse(tm_raw), budget)
    out["tm_frame_decode_vs_construct"] = (
        out["tm_frame_decode_per_s"] / out["construct_tm_frame_parse_per_s"]
    )

    rng = np.random.default_rng(1)
    workloads = {
        "hk100": [100] * 500,
        "mixed": [int(s) for s in rng.integers(7, 2001, 200)],
    }
    for name, sizes in workloads.items():
        packets = _packets(sizes, 2)
        octets = sum(len(p) for _, p in packets)
        frames = _frames_for(packets)

        def frame_all(packets: list[tuple[int, bytes]] = packets) -> None:
            framer = _framer(len(packets))
            for vc, packet in packets:
                framer.push(vc, packet)
            while framer.has_data:
                framer.next_frame()

        def extract_all(frames: list[bytes] = frames) -> None:
            ex = PacketExtractor(FRAME_LEN)
            for raw in frames:
                ex.feed_frame(raw)

        batches = rate(frame_all, budget)
        out[f"framer_{name}_packets_per_s"] = batches * len(packets)
        out[f"framer_{name}_frames_per_s"] = batches * len(frames)
        out[f"framer_{name}_mb_per_s"] = batches * octets / 1e6
        batches = rate(extract_all, budget)
        out[f"extractor_{name}_packets_per_s"] = batches * len(packets)
        out[f"extractor_{name}_frames_per_s"] = batches * len(frames)
        out[f"extractor_{name}_mb_per_s"] = batches * octets / 1e6

    packets = _packets(workloads["hk100"], 2)
    secured = _frames_for(packets, secure=True)

    def frame_secure() -> None:
        framer = _framer(len(packets), secure=True)
        for vc, packet in packets:
            framer.push(vc, packet)
        while framer.has_data:
            framer.next_frame()

    def extract_secure() -> None:
        ex = PacketExtractor(FRAME_LEN, security=_tm_sdls())
        for raw in secured:
            ex.feed_frame(raw)

    out["framer_sdls_hk100_packets_per_s"] = rate(frame_secure, budget) * len(packets)
    out["extractor_sdls_hk100_packets_per_s"] = rate(extract_secure, budget) * len(packets)
    out["framer_sdls_vs_plain"] = (
        out["framer_sdls_hk100_packets_per_s"] / out["framer_hk100_packets_per_s"]
    )
    out["extractor_sdls_vs_plain"] = (
        out["extractor_sdls_hk100_packets_per_s"] / out["extractor_hk100_packets_per_s"]
    )
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:16,.3f}")
