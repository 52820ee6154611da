"""CLI kinds ``tm-frame`` and ``aos-frame``: downlink transfer frames as JSON and hex.

Importing this module registers both kinds with :mod:`flightsw.packets.kinds`, so
``flightsw packet decode tm-frame <hex>`` shows a frame's header fields by their
standard names and ``encode`` builds a frame, good or deliberately bad, from JSON.

The bytes do not say how long a frame should be or whether it ends in a FECF, and the
CLI's options do not either, so the kinds assume: the frame length is the length of
the hex given; every frame ends in a FECF (``fecf`` null or omitted means compute it,
a number is written verbatim); a TM frame has an OCF exactly when its header's OCF flag
says so; an AOS frame has no OCF and no insert zone, and its data field is an M_PDU.
"""

from __future__ import annotations

from typing import Any

from flightsw.errors import EncodeError
from flightsw.link.aos_frame import AosFrame
from flightsw.link.tm_frame import TmFrame
from flightsw.packets.kinds import KINDS, Kind, KindOptions, register

TM_FIELDS = (
    "version",
    "scid",
    "vcid",
    "ocf_flag",
    "mc_count",
    "vc_count",
    "sec_hdr_flag",
    "sync_flag",
    "packet_order",
    "segment_length_id",
    "first_header_pointer",
    "sec_hdr",
    "data",
    "ocf",
    "fecf",
)
AOS_FIELDS = (
    "version",
    "scid",
    "vcid",
    "vc_count",
    "replay_flag",
    "vc_count_usage_flag",
    "spare",
    "vc_count_cycle",
    "mpdu_spare",
    "first_header_pointer",
    "data",
    "fecf",
)


def _tm_decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
    f = TmFrame.decode(raw, has_fecf=True)
    return {
        "version": f.version,
        "scid": f.scid,
        "vcid": f.vcid,
        "ocf_flag": f.ocf_flag,
        "mc_count": f.mc_count,
        "vc_count": f.vc_count,
        "sec_hdr_flag": f.sec_hdr_flag,
        "sync_flag": f.sync_flag,
        "packet_order": f.packet_order,
        "segment_length_id": f.segment_length_id,
        "first_header_pointer": f.first_header_pointer,
        "sec_hdr": f.sec_hdr.hex(),
        "data": f.data.hex(),
        "ocf": None if f.ocf is None else f.ocf.hex(),
        "fecf": f.fecf,
    }


def _tm_encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
    fields = dict(obj)
    ocf = fields.pop("ocf", None)
    if isinstance(ocf, str):  # callers that skip fields_from_json
        try:
            ocf = bytes.fromhex(ocf)
        except ValueError as exc:
            raise EncodeError("ocf", f"not hex: {exc}") from None
    fields["ocf"] = ocf or None  # an empty OCF means none
    if "ocf_flag" in fields:
        flag = fields.pop("ocf_flag")
        if flag is not None and flag != (0 if fields["ocf"] is None else 1):
            raise EncodeError("ocf_flag", f"{flag!r} does not match whether an ocf is given")
    if "sec_hdr_flag" not in fields:
        fields["sec_hdr_flag"] = 1 if fields.get("sec_hdr") else 0
    return TmFrame(**fields).encode(has_fecf=True)


def _aos_decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
    f = AosFrame.decode(raw, has_ocf=False, has_fecf=True)
    return {
        "version": f.version,
        "scid": f.scid,
        "vcid": f.vcid,
        "vc_count": f.vc_count,
        "replay_flag": f.replay_flag,
        "vc_count_usage_flag": f.vc_count_usage_flag,
        "spare": f.spare,
        "vc_count_cycle": f.vc_count_cycle,
        "mpdu_spare": f.mpdu_spare,
        "first_header_pointer": f.first_header_pointer,
        "data": f.data.hex(),
        "fecf": f.fecf,
    }


def _aos_encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
    return AosFrame(**obj).encode(has_fecf=True)


TM_FRAME_KIND = Kind(
    "tm-frame",
    TM_FIELDS,
    ("scid", "vcid", "data"),
    ("sec_hdr", "data", "ocf"),
    _tm_decode,
    _tm_encode,
    "CCSDS 132.0-B-3 TM transfer frame; frame length = hex length; FECF assumed present "
    '(fecf null = compute); OCF present iff ocf_flag (ocf: 4 octets hex, omit or "" for '
    "none); first_header_pointer 0x7FF = no packet starts, 0x7FE = idle data only",
)
AOS_FRAME_KIND = Kind(
    "aos-frame",
    AOS_FIELDS,
    ("scid", "vcid", "data"),
    ("data",),
    _aos_decode,
    _aos_encode,
    "CCSDS 732.0-B-4 AOS transfer frame with an M_PDU (data = packet zone); frame length = "
    "hex length; assumes no OCF, no insert zone, no frame header error control, FECF "
    "present (fecf null = compute); version is 1 (0b01)",
)

for _kind in (TM_FRAME_KIND, AOS_FRAME_KIND):
    if _kind.name not in KINDS:
        register(_kind)
