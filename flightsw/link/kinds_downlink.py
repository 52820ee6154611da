"""CLI kinds ``tm-frame`` and ``aos-frame``: downlink transfer frames as JSON and hex.

Importing this module registers both kinds with :mod:`flightsw.packets.kinds`, so
``flightsw packet decode tm-frame <hex>`` shows a frame's header fields by their
standard names and ``encode`` builds a frame, good or deliberately bad, from JSON. The
field names are the frame declarations' (:func:`~flightsw.packets.kinds.declared_kind`).

The bytes do not say how long a frame should be or whether it ends in a FECF, and the
CLI's options do not either, so the kinds assume: the frame length is the length of
the hex given; every frame ends in a FECF (``fecf`` null or omitted means compute it,
a number is written verbatim); a TM frame has an OCF exactly when its header's OCF flag
says so; an AOS frame has no OCF and no insert zone, and its data field is an M_PDU.
"""

from __future__ import annotations

from typing import Any

from flightsw.base.errors import EncodeError
from flightsw.link.aos_frame import AOS_MAX_FRAME_LEN, AosFrame, aos_frame_declaration
from flightsw.link.tm_frame import TM_MAX_FRAME_LEN, TmFrame, tm_frame_declaration
from flightsw.packets.kinds import KINDS, KindOptions, declared_kind, register


def _tm_prepare(fields: dict[str, Any], _opts: KindOptions) -> dict[str, Any]:
    ocf = fields.get("ocf")
    if isinstance(ocf, str):  # callers that skip fields_from_json
        try:
            ocf = bytes.fromhex(ocf)
        except ValueError as exc:
            raise EncodeError("ocf", f"not hex: {exc}") from None
    fields["ocf"] = ocf or None  # an empty OCF means none
    if fields.get("sec_hdr_flag") is None:
        fields["sec_hdr_flag"] = 1 if fields.get("sec_hdr") else 0
    return fields


TM_FRAME_KIND = declared_kind(
    "tm-frame",
    tm_frame_declaration(TM_MAX_FRAME_LEN, has_fecf=True),
    TmFrame,
    "CCSDS 132.0-B-3 TM transfer frame; frame length = hex length; FECF assumed present "
    '(fecf null = compute); OCF present iff ocf_flag (ocf: 4 octets hex, null, omitted or "" '
    "for none); first_header_pointer 0x7FF = no packet starts, 0x7FE = idle data only",
    prepare=_tm_prepare,
)
AOS_FRAME_KIND = declared_kind(
    "aos-frame",
    aos_frame_declaration(AOS_MAX_FRAME_LEN, has_ocf=False, has_fecf=True),
    AosFrame,
    "CCSDS 732.0-B-4 AOS transfer frame with an M_PDU (data = packet zone); frame length = "
    "hex length; assumes no OCF, no insert zone, no frame header error control, FECF "
    "present (fecf null = compute); version is 1 (0b01)",
)
_tm_decode, _tm_encode = TM_FRAME_KIND.decode, TM_FRAME_KIND.encode

for _kind in (TM_FRAME_KIND, AOS_FRAME_KIND):
    if _kind.name not in KINDS:
        register(_kind)
