"""COP-1 and SDLS benchmarks: FARM-1 per frame, CLCW codec, FOP-1 + FARM-1 end to end,
SDLS protect/verify for both modes.

The rates are set beside a baseline measured in the same run on the same machine (a
bare ``hmac.digest`` over the same octets, ``struct`` for the CLCW) so the ratios stay
comparable on a noisy shared machine.
"""

from __future__ import annotations

import hmac
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_timing import rate

from flightsw.link.clcw import CLCW, Clcw
from flightsw.link.farm import Farm
from flightsw.link.fop import Directive, Fop
from flightsw.link.sdls import Mode, SdlsTc, SecurityAssociation

HDR = bytes([0x20, 0x2A, 0x04, 0x1F, 0x07])


def _farm_accept_pull() -> Callable[[], object]:
    farm = Farm(window=10, buffer_limit=8)
    data = bytes(64)

    def step() -> object:
        farm.receive(False, False, farm.vr, data)
        return farm.pull()

    return step


def _farm_discard() -> Callable[[], object]:
    farm = Farm(window=10)
    data = bytes(64)
    return lambda: farm.receive(False, False, (farm.vr - 1) & 0xFF, data)  # duplicate: E4


def _fop_farm_loop(frames: int) -> Callable[[], object]:
    """``frames`` AD frames through FOP-1 -> FARM-1 -> CLCW -> FOP-1 on a perfect link."""

    def run() -> object:
        fop = Fop(window=5, wait_queue_limit=frames)
        farm = Farm(window=10, buffer_limit=8)
        fop.directive(Directive.INITIATE_AD_WITHOUT_CLCW)
        data = bytes(64)
        for _ in range(frames):
            fop.transmit_ad(data)
        done = 0
        while done < frames:
            for out in fop.take_outputs():
                farm.receive(out.bypass, out.control, out.seq, out.data)
            while farm.pull() is not None:
                done += 1
            fop.clcw_received(farm.clcw())
            fop.take_notices()
        return done

    return run


def _protect(ground: SdlsTc, data: bytes) -> Callable[[], bytes]:
    return lambda: ground.protect(HDR, data, 1)


def run(quick: bool = False) -> dict[str, float]:
    budget = 0.3 if quick else 1.5
    out: dict[str, float] = {}
    out["farm_accept_and_pull_per_s"] = rate(_farm_accept_pull(), budget)
    out["farm_discard_duplicate_per_s"] = rate(_farm_discard(), budget)

    clcw = Clcw(vcid=5, report_value=42, retransmit=True, farm_b_counter=2)
    raw = clcw.encode()
    word = struct.Struct(">I")
    out["clcw_encode_per_s"] = rate(clcw.encode, budget)
    out["clcw_decode_per_s"] = rate(lambda: Clcw.decode(raw), budget)
    out["construct_clcw_parse_per_s"] = rate(lambda: CLCW.parse(raw), budget)
    out["struct_word_unpack_per_s"] = rate(lambda: word.unpack(raw), budget)
    out["clcw_decode_vs_construct"] = out["clcw_decode_per_s"] / out["construct_clcw_parse_per_s"]

    frames = 100
    loops = rate(_fop_farm_loop(frames), budget)
    out["fop_farm_frames_per_s"] = loops * frames

    data = bytes(range(64))
    key = bytes(range(32))
    modes: tuple[Mode, ...] = ("hmac-sha256", "aes-gcm")
    for mode in modes:
        name = mode.replace("-", "_")
        sa = SecurityAssociation(1, key, mode, arsn_len=8)
        ground = SdlsTc([sa])
        out[f"sdls_{name}_protect_per_s"] = rate(_protect(ground, data), budget)
        # verify consumes ARSNs (a repeat is a replay): time a fixed batch, fresh receiver
        bodies = [ground.protect(HDR, data, 1) for _ in range(10_000 if quick else 50_000)]
        best = float("inf")
        for _ in range(3):
            flight = SdlsTc([sa])
            t0 = time.perf_counter()
            for body in bodies:
                flight.verify(HDR, body)
            best = min(best, time.perf_counter() - t0)
        out[f"sdls_{name}_verify_per_s"] = len(bodies) / best
    msg = HDR + bytes(6) + data
    out["hmac_digest_baseline_per_s"] = rate(lambda: hmac.digest(key, msg, "sha256"), budget)
    out["sdls_hmac_verify_vs_bare_hmac"] = (
        out["sdls_hmac_sha256_verify_per_s"] / out["hmac_digest_baseline_per_s"]
    )
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:16,.3f}")
