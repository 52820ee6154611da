"""The lab link: bare space packets over UDP and TCP, commanded and read by ``spacepackets``
(the peer library of tmtccmd) and nothing of ours on the ground side.

``tmtccmd`` itself is not used: its releases pin other ``spacepackets`` versions than ours,
and what it puts on the wire for a UDP/TCP com interface is exactly these packets."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from spacepackets.ecss import PusTc, PusTm

from flightsw.cli.main import main
from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness
from tests.support.live_build import free_udp_port, start_live_build

TIME_LEN = 6  # the mission's CUC 4+2


def _harness(kind: str) -> SilHarness:
    m = load_mission(seed=random.randrange(1000))
    radio = {"kind": kind, "bind": "127.0.0.1:0", "framing": "packets"}
    m.hal = {**m.hal, "radio": radio, "spacecraft": {"boards": 8}}
    comms = next(s for s in m.apps if s.name == "comms")
    comms.options["sdls"]["allow_published_key"] = True  # a real socket: must be explicit
    return SilHarness(m)


def _split(stream: bytearray) -> list[bytes]:
    """Whole packets off the front of a TCP stream (each delimited by its length)."""
    out = []
    while len(stream) >= 6:
        n = 7 + int.from_bytes(stream[4:6], "big")
        if len(stream) < n:
            break
        out.append(bytes(stream[:n]))
        del stream[:n]
    return out


def _commands(apid: int) -> list[PusTc]:
    return [
        PusTc(service=17, message_subtype=1, apid=apid, seq_count=1),
        # housekeeping.report_hk_once {"sids": [1]}: a u8 count, then the u16 SIDs
        PusTc(service=3, message_subtype=27, apid=apid, seq_count=2, app_data=bytes([1, 0, 1])),
        PusTc(service=99, message_subtype=1, apid=apid, seq_count=3),  # no such service
    ]


def _check(tms: list[PusTm], tcs: list[PusTc]) -> None:
    """Each TC verified by its request id, the ping answered, HK SID 1 reported, the
    unknown service refused at acceptance."""
    ping, hk, bad = (bytes(tc.pack()[:4]) for tc in tcs)
    verif = {(tm.message_subtype, bytes(tm.source_data[:4])) for tm in tms if tm.service == 1}
    assert {(1, ping), (7, ping), (1, hk), (7, hk), (2, bad)} <= verif
    assert (7, bad) not in verif
    assert any((tm.service, tm.message_subtype) == (17, 2) for tm in tms)
    assert any(tm.service == 3 and tm.source_data[:2] == b"\x00\x01" for tm in tms)


def _comms(h: SilHarness) -> Any:
    return next(a.instance for a in h.exe.apps if a.spec.name == "comms")


def _run_until(h: SilHarness, done: Callable[[], bool], frames: int = 400) -> None:
    for _ in range(frames):
        h.exe.run_minor_frame()
        if done():
            return


def test_udp_lab_link_commanded_and_read_by_spacepackets() -> None:
    h = _harness("udp")
    radio = h.hal.devices["radio"]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    tcs = _commands(h.mission.executive.apid)
    tms: list[PusTm] = []

    def poll() -> bool:
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                break
            tms.append(PusTm.unpack(data, timestamp_len=TIME_LEN))  # one packet a datagram
        return any(tm.service == 1 and tm.message_subtype == 2 for tm in tms) and any(
            tm.service == 3 for tm in tms
        )

    try:
        for tc in tcs:
            sock.sendto(tc.pack(), radio.address)
        _run_until(h, poll)
        _check(tms, tcs)
        _run_until(h, lambda: False, frames=12)  # comms telemetry is updated once a second
        assert _comms(h).tlm["tc_packets"] == 3
    finally:
        sock.close()
        radio.close()


def test_tcp_lab_link_reassembles_packets_cut_anywhere() -> None:
    h = _harness("tcp")
    radio = h.hal.devices["radio"]
    tcs = _commands(h.mission.executive.apid)
    wire = b"".join(tc.pack() for tc in tcs)
    cut = random.randrange(1, len(wire))  # the stream is cut inside a packet
    client = socket.create_connection(radio.address, timeout=5)
    client.setblocking(False)
    stream = bytearray()
    tms: list[PusTm] = []

    def poll() -> bool:
        while True:
            try:
                data = client.recv(65536)
            except BlockingIOError:
                break
            if not data:
                break
            stream.extend(data)
        tms.extend(PusTm.unpack(p, timestamp_len=TIME_LEN) for p in _split(stream))
        return any(tm.service == 1 and tm.message_subtype == 2 for tm in tms) and any(
            tm.service == 3 for tm in tms
        )

    try:
        h.exe.run_minor_frame()  # the radio accepts the connection
        client.sendall(wire[:cut])
        _run_until(h, lambda: False, frames=3)
        client.sendall(wire[cut:])
        _run_until(h, poll)
        _check(tms, tcs)
    finally:
        client.close()
        radio.close()


def test_garbage_on_the_lab_link_is_counted_and_commanding_goes_on() -> None:
    """A datagram that is not whole packets, and one that is not a space packet at all:
    counted in packet_errors, and the next TC is still served."""
    h = _harness("udp")
    radio = h.hal.devices["radio"]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    ping = PusTc(service=17, message_subtype=1, apid=h.mission.executive.apid, seq_count=9)
    try:
        sock.sendto(ping.pack()[:-3], radio.address)  # cut short
        sock.sendto(b"\xff" * random.randrange(6, 40), radio.address)  # version 7
        sock.sendto(ping.pack(), radio.address)
        got: list[PusTm] = []

        def poll() -> bool:
            while True:
                try:
                    got.append(PusTm.unpack(sock.recv(65536), timestamp_len=TIME_LEN))
                except BlockingIOError:
                    return any(tm.service == 17 for tm in got)

        _run_until(h, poll)
        assert any(tm.service == 17 for tm in got)
        link = _comms(h).packet_link
        assert link is not None and link.packet_errors == 2 and link.packets == 1
    finally:
        sock.close()
        radio.close()


def test_cli_radio_udp_packets_serves_a_bench_tool(tmp_path: object) -> None:
    """``flightsw sim --realtime --radio udp-packets:HOST:PORT``: a ping from spacepackets
    over UDP is answered by TM(17,2)."""
    port = free_udp_port()
    proc = start_live_build(f"udp-packets:127.0.0.1:{port}", Path(str(tmp_path)), 120)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    try:
        deadline = time.monotonic() + 60
        pong = None
        seq = 0
        while pong is None and time.monotonic() < deadline and proc.poll() is None:
            seq += 1
            sock.sendto(
                PusTc(service=17, message_subtype=1, apid=100, seq_count=seq).pack(),
                ("127.0.0.1", port),
            )
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                try:
                    tm = PusTm.unpack(sock.recv(65536), timestamp_len=TIME_LEN)
                except (TimeoutError, ConnectionRefusedError):
                    continue
                if (tm.service, tm.message_subtype) == (17, 2):
                    pong = tm
                    break
        assert pong is not None, proc.stderr.read() if proc.poll() is not None else "no pong"
    finally:
        sock.close()
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "bare space packets" in err


@pytest.mark.parametrize("radio", ["udp-packet:127.0.0.1:1", "packets:127.0.0.1:1"])
def test_cli_refuses_a_radio_mode_it_does_not_know(
    radio: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "--radio", radio, "--duration", "1"]) != 0
    assert "udp-packets:HOST:PORT" in capsys.readouterr().err
