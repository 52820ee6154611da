"""Cross-check against the ``spacepackets`` package (test-only dependency), both ways."""

import pytest
from hypothesis import given

from flightsw.packets import PusTc, PusTm, SpacePacket
from tests.packets.strategies import pus_tcs, pus_tms, space_packets

sp = pytest.importorskip("spacepackets")
from spacepackets.ccsds import SpacePacketHeader  # noqa: E402
from spacepackets.ccsds.spacepacket import PacketType, SequenceFlags  # noqa: E402
from spacepackets.ecss import PusTc as TheirTc  # noqa: E402
from spacepackets.ecss import PusTm as TheirTm  # noqa: E402


@given(pus_tcs())
def test_our_tc_unpacks_in_spacepackets(tc: PusTc) -> None:
    tc.seq_flags = 3  # spacepackets builds unsegmented TCs only
    theirs = TheirTc.unpack(tc.encode())
    assert (theirs.apid, theirs.seq_count, theirs.service, theirs.message_subtype) == (
        tc.apid,
        tc.seq_count,
        tc.service,
        tc.subservice,
    )
    assert theirs.source_id == tc.source_id and theirs.app_data == tc.app_data
    assert theirs.pus_tc_sec_header.ack_flags == tc.ack_flags


@given(pus_tcs())
def test_spacepackets_tc_decodes_with_our_fields(tc: PusTc) -> None:
    theirs = TheirTc(
        service=tc.service,
        message_subtype=tc.subservice,
        apid=tc.apid,
        app_data=tc.app_data,
        seq_count=tc.seq_count,
        source_id=tc.source_id,
        ack_flags=tc.ack_flags,
    )
    raw = theirs.pack()
    ours = PusTc.decode(raw)
    assert ours.crc == int.from_bytes(raw[-2:], "big")
    tc.seq_flags = 3
    ours.crc = None
    assert ours == tc
    assert raw == tc.encode()


@given(pus_tms())
def test_our_tm_unpacks_in_spacepackets(tm: PusTm) -> None:
    theirs = TheirTm.unpack(tm.encode(), timestamp_len=6)
    assert (theirs.apid, theirs.seq_count, theirs.service, theirs.message_subtype) == (
        tm.apid,
        tm.seq_count,
        tm.service,
        tm.subservice,
    )
    assert theirs.source_data == tm.app_data and theirs.timestamp == tm.time
    sec = theirs.pus_tm_sec_header
    assert sec.message_counter == tm.msg_counter and sec.dest_id == tm.dest_id


@given(pus_tms())
def test_spacepackets_tm_decodes_with_our_fields(tm: PusTm) -> None:
    theirs = TheirTm(
        service=tm.service,
        message_subtype=tm.subservice,
        timestamp=tm.time,
        source_data=tm.app_data,
        apid=tm.apid,
        seq_count=tm.seq_count,
        message_counter=tm.msg_counter,
        destination_id=tm.dest_id,
    )
    raw = theirs.pack()
    ours = PusTm.decode(raw)
    assert ours.crc == int.from_bytes(raw[-2:], "big")
    assert (ours.service, ours.subservice, ours.app_data, ours.time) == (
        tm.service,
        tm.subservice,
        tm.app_data,
        tm.time,
    )
    assert (ours.msg_counter, ours.dest_id, ours.apid, ours.seq_count) == (
        tm.msg_counter,
        tm.dest_id,
        tm.apid,
        tm.seq_count,
    )


@given(space_packets())
def test_space_packet_header_both_ways(p: SpacePacket) -> None:
    raw = p.encode()
    theirs = SpacePacketHeader.unpack(raw)
    assert theirs.apid == p.apid and theirs.seq_count == p.seq_count
    assert theirs.packet_type.value == p.packet_type and theirs.seq_flags.value == p.seq_flags
    assert theirs.data_len == len(p.data) - 1 and theirs.sec_header_flag == bool(p.sec_hdr_flag)
    built = SpacePacketHeader(
        packet_type=PacketType(p.packet_type),
        apid=p.apid,
        seq_count=p.seq_count,
        data_len=len(p.data) - 1,
        sec_header_flag=bool(p.sec_hdr_flag),
        seq_flags=SequenceFlags(p.seq_flags),
    ).pack()
    assert bytes(built) == raw[:6]
