"""Packet formats: CCSDS space packets, PUS-C TC/TM, CCSDS time codes.

Declared once with construct; the classes give fast ``encode``/``decode`` paths that
the tests prove equal to the declarations. Every decoder raises only
:class:`flightsw.base.errors.DecodeError`.
"""

from flightsw.packets.pus import (
    ACK_ALL,
    DEFAULT_TIME_LEN,
    PUS_TC,
    PUS_TM,
    PusTc,
    PusTm,
    encode_tm,
    pus_tm_declaration,
    request_id_of,
    tc_request_id_from_bytes,
)
from flightsw.packets.spacepacket import (
    IDLE_APID,
    PRIMARY_HEADER,
    SPACE_PACKET,
    SpacePacket,
    idle_packet,
    iter_packets,
)
from flightsw.packets.time_codes import cds_decode, cds_encode, cuc_decode, cuc_encode

__all__ = [
    "ACK_ALL",
    "DEFAULT_TIME_LEN",
    "IDLE_APID",
    "PRIMARY_HEADER",
    "PUS_TC",
    "PUS_TM",
    "SPACE_PACKET",
    "PusTc",
    "PusTm",
    "SpacePacket",
    "cds_decode",
    "cds_encode",
    "cuc_decode",
    "cuc_encode",
    "encode_tm",
    "idle_packet",
    "iter_packets",
    "pus_tm_declaration",
    "request_id_of",
    "tc_request_id_from_bytes",
]
