"""Packet codec benchmarks: our fast paths beside ``struct``, construct and spacepackets.

Every rate is measured in the same run on the same packets, and the report gives the
ratios (``*_vs_spacepackets``) that the targets are set on.
"""

from __future__ import annotations

import binascii
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_timing import rate

from flightsw.base.crc import crc16
from flightsw.packets import PUS_TC, SPACE_PACKET, PusTc, PusTm, SpacePacket, encode_tm


def run(quick: bool = False) -> dict[str, float]:
    budget = 0.3 if quick else 1.5
    out: dict[str, float] = {}
    app_data = bytes(range(32))
    tc = PusTc(0x64, 8, 1, app_data, seq_count=42)
    tm = PusTm(0x64, 3, 25, app_data, seq_count=42, time=b"\x00\x00\x01\x00\x80\x00")
    tc_raw, tm_raw = tc.encode(), tm.encode()
    sp_raw = SpacePacket(0x64, app_data).encode()
    hdr = struct.Struct(">HHH")

    out["space_packet_decode_per_s"] = rate(lambda: SpacePacket.decode(sp_raw), budget)
    out["struct_header_unpack_per_s"] = rate(lambda: hdr.unpack_from(sp_raw), budget)
    out["construct_space_packet_parse_per_s"] = rate(lambda: SPACE_PACKET.parse(sp_raw), budget)
    out["pus_tc_decode_per_s"] = rate(lambda: PusTc.decode(tc_raw), budget)
    out["pus_tc_encode_per_s"] = rate(tc.encode, budget)
    out["pus_tm_decode_per_s"] = rate(lambda: PusTm.decode(tm_raw), budget)
    out["pus_tm_encode_per_s"] = rate(tm.encode, budget)
    t = tm.time
    out["pus_tm_encode_fast_per_s"] = rate(
        lambda: encode_tm(0x64, 42, 3, 25, 0, 0, t, app_data), budget
    )
    out["construct_pus_tc_parse_per_s"] = rate(lambda: PUS_TC.parse(tc_raw), budget)
    out["pus_tc_decode_vs_struct_header"] = (
        out["pus_tc_decode_per_s"] / out["struct_header_unpack_per_s"]
    )
    out["pus_tc_decode_vs_construct"] = (
        out["pus_tc_decode_per_s"] / out["construct_pus_tc_parse_per_s"]
    )
    try:
        from spacepackets.ecss import PusTc as TheirTc
        from spacepackets.ecss import PusTm as TheirTm
    except ImportError:
        print("  (spacepackets not installed: no comparison)", file=sys.stderr)
    else:
        out["spacepackets_tc_unpack_per_s"] = rate(lambda: TheirTc.unpack(tc_raw), budget)
        out["spacepackets_tm_unpack_per_s"] = rate(lambda: TheirTm.unpack(tm_raw, 6), budget)
        their_tm = TheirTm.unpack(tm_raw, 6)
        out["spacepackets_tm_pack_per_s"] = rate(their_tm.pack, budget)
        out["pus_tc_decode_vs_spacepackets"] = (
            out["pus_tc_decode_per_s"] / out["spacepackets_tc_unpack_per_s"]
        )
        out["pus_tm_decode_vs_spacepackets"] = (
            out["pus_tm_decode_per_s"] / out["spacepackets_tm_unpack_per_s"]
        )
        out["pus_tm_encode_vs_spacepackets"] = (
            out["pus_tm_encode_per_s"] / out["spacepackets_tm_pack_per_s"]
        )
    block = bytes(range(256)) * 256  # 64 KiB
    ours = rate(lambda: crc16(block), budget) * len(block) / 1e6
    theirs = rate(lambda: binascii.crc_hqx(block, 0xFFFF), budget) * len(block) / 1e6
    out["crc16_mb_per_s"] = ours
    out["binascii_crc_hqx_mb_per_s"] = theirs
    out["crc16_vs_binascii"] = ours / theirs
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:16,.3f}")
