"""Hypothesis strategies for valid packets, shared by the packet and CLI tests."""

from __future__ import annotations

from hypothesis import strategies as st

from flightsw.packets import PusTc, PusTm, SpacePacket

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
apids = st.integers(0, 0x7FF)
seq_counts = st.integers(0, 0x3FFF)
seq_flags = st.integers(0, 3)
nibbles = st.integers(0, 15)
payloads = st.binary(max_size=300)


@st.composite
def space_packets(draw: st.DrawFn) -> SpacePacket:
    return SpacePacket(
        apid=draw(apids),
        data=draw(st.binary(min_size=1, max_size=300)),
        packet_type=draw(st.integers(0, 1)),
        sec_hdr_flag=draw(st.integers(0, 1)),
        seq_flags=draw(seq_flags),
        seq_count=draw(seq_counts),
    )


@st.composite
def pus_tcs(draw: st.DrawFn) -> PusTc:
    return PusTc(
        apid=draw(apids),
        service=draw(u8),
        subservice=draw(u8),
        app_data=draw(payloads),
        seq_count=draw(seq_counts),
        seq_flags=draw(seq_flags),
        ack_flags=draw(nibbles),
        source_id=draw(u16),
    )


@st.composite
def pus_tms(draw: st.DrawFn, time_len: int = 6) -> PusTm:
    return PusTm(
        apid=draw(apids),
        service=draw(u8),
        subservice=draw(u8),
        app_data=draw(payloads),
        seq_count=draw(seq_counts),
        seq_flags=draw(seq_flags),
        msg_counter=draw(u16),
        dest_id=draw(u16),
        time=draw(st.binary(min_size=time_len, max_size=time_len)),
        time_ref_status=draw(nibbles),
    )
