"""Uplink link-layer benchmarks: TC frames, BCH, CLTUs, the randomizers and the CADU reader.

Rates are per call; MB/s counts the octets of the unit that goes through (the frame for
TC frames and CLTU encoding, the CLTU for decoding, the stream for the readers). A
maximum-length TC frame (1024 octets, 147 codeblocks) is the unit for CLTUs, and a
1115-octet TM frame (the classic CCSDS length) for the randomizer and the CADU reader.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_timing import rate

from flightsw.link.bch import decode_codeblock, encode_codeblocks, error_positions, syndromes
from flightsw.link.cltu import CltuDecoder, decode_cltu, encode_cltu
from flightsw.link.randomizer import tc_randomize, tm_randomize
from flightsw.link.sync import CaduReader, encode_cadu
from flightsw.link.tc_frame import TcFrame


def run(quick: bool = False) -> dict[str, float]:
    budget = 0.3 if quick else 1.5
    out: dict[str, float] = {}
    rng = np.random.default_rng(0)

    # TC frames: a typical 64-octet command frame
    cmd = TcFrame(scid=0x1AB, vcid=1, data=rng.bytes(57), seq=42)
    cmd_raw = cmd.encode()
    out["tc_frame_encode_per_s"] = rate(cmd.encode, budget)
    out["tc_frame_decode_per_s"] = rate(lambda: TcFrame.decode(cmd_raw), budget)

    # CLTU of a maximum-length frame
    frame = TcFrame(scid=0x1AB, vcid=1, data=rng.bytes(1017)).encode()
    cltu = encode_cltu(frame, randomize=True)
    enc = rate(lambda: encode_cltu(frame, randomize=True), budget)
    dec = rate(lambda: decode_cltu(cltu, randomize=True), budget)
    out["cltu_encode_per_s"] = enc
    out["cltu_encode_mb_per_s"] = enc * len(frame) / 1e6
    out["cltu_decode_per_s"] = dec
    out["cltu_decode_mb_per_s"] = dec * len(cltu) / 1e6
    small = encode_cltu(cmd_raw)
    out["cltu_decode_64_octet_frame_per_s"] = rate(lambda: decode_cltu(small), budget)

    stream = b"".join(b"\x55" * 8 + cltu for _ in range(32))
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]

    def cltu_stream() -> None:
        decoder = CltuDecoder(randomize=True)
        for c in chunks:
            decoder.feed(c)

    out["cltu_stream_decode_mb_per_s"] = rate(cltu_stream, budget) * len(stream) / 1e6

    # BCH in bulk (encode, syndrome + error lookup) and one codeblock at a time
    info = rng.bytes(7 * 4096)
    blocks = encode_codeblocks(info)
    arr = np.frombuffer(blocks, dtype=np.uint8).reshape(-1, 8)
    out["bch_encode_codeblocks_per_s"] = rate(lambda: encode_codeblocks(info), budget) * 4096
    out["bch_check_codeblocks_per_s"] = rate(lambda: error_positions(syndromes(arr)), budget) * 4096
    one = blocks[:8]
    out["bch_decode_single_codeblock_per_s"] = rate(lambda: decode_codeblock(one), budget)

    # randomizers
    tm_frame = rng.bytes(1115)
    big = rng.bytes(64 * 1024)
    out["tm_randomizer_frame_mb_per_s"] = rate(lambda: tm_randomize(tm_frame), budget) * 1115 / 1e6
    out["tc_randomizer_64k_mb_per_s"] = rate(lambda: tc_randomize(big), budget) * len(big) / 1e6

    # CADU reader: 64 randomized CADUs with a little garbage, fed in 4 KiB chunks
    frames = [rng.bytes(1115) for _ in range(64)]
    cadus = b"".join(b"\x00" * 3 + encode_cadu(f) for f in frames)
    cadu_chunks = [cadus[i : i + 4096] for i in range(0, len(cadus), 4096)]

    def cadu_stream() -> None:
        reader = CaduReader(1115, max_buffer=16 * 1024)
        for c in cadu_chunks:
            reader.feed(c)

    out["cadu_reader_mb_per_s"] = rate(cadu_stream, budget) * len(cadus) / 1e6
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:16,.3f}")
