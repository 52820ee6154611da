"""UDP and TCP radios on the loopback interface, as a ground tool would use them."""

import socket
import time

from hal.interfaces import Radio
from hal.radio.tcp import TcpRadio
from hal.radio.udp import UdpRadio


def _poll(radio: Radio, want: int, timeout_s: float = 2.0) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while sum(map(len, got)) < want and time.monotonic() < deadline:
        got += radio.receive()
        time.sleep(0.002)
    return got


def test_udp_uplink_and_downlink_answer_the_ground() -> None:
    radio = UdpRadio()
    assert isinstance(radio, Radio)
    ground = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ground.settimeout(2.0)
    try:
        assert radio.send(b"early") and not radio.status().in_contact  # held until contact
        ground.sendto(b"\xeb\x90cltu", radio.address)
        assert _poll(radio, 6) == [b"\xeb\x90cltu"]
        assert radio.status().in_contact
        assert ground.recvfrom(100)[0] == b"early"
        radio.send(b"\x1a\xcf\xfc\x1dframe")
        assert ground.recvfrom(100)[0] == b"\x1a\xcf\xfc\x1dframe"
    finally:
        ground.close()
        radio.close()


def test_udp_transmit_queue_is_bounded() -> None:
    radio = UdpRadio(tx_depth=3)
    try:
        results = [radio.send(b"x") for _ in range(5)]
        assert results == [True, True, True, False, False]
        assert radio.status().tx_dropped == 2
        assert not radio.send(bytes(70_000))
    finally:
        radio.close()


def test_tcp_streams_both_ways_and_survives_a_reconnect() -> None:
    radio = TcpRadio(tx_limit_octets=1000)
    try:
        assert radio.receive() == []  # nobody connected: nothing, and no blocking
        for _ in range(2):
            ground = socket.create_connection(radio.address, timeout=2.0)
            ground.sendall(b"\xeb\x90" + bytes(10))
            assert b"".join(_poll(radio, 12)) == b"\xeb\x90" + bytes(10)
            assert radio.status().in_contact
            radio.send(b"\x1a\xcf\xfc\x1d" + bytes(4))
            radio.receive()  # flushes
            assert ground.recv(100) == b"\x1a\xcf\xfc\x1d" + bytes(4)
            ground.close()
            _poll(radio, 1, timeout_s=0.2)  # sees the close
        assert radio.connections == 2 and radio.disconnects >= 1
        assert radio.send(bytes(900)) and not radio.send(bytes(200))
        assert radio.status().tx_dropped == 1
    finally:
        radio.close()


def test_udp_with_a_peer_hears_and_answers_only_that_peer() -> None:
    ground = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ground.bind(("127.0.0.1", 0))
    ground.settimeout(2.0)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    radio = UdpRadio(peer=ground.getsockname())
    try:
        stranger.sendto(b"\xeb\x90forged", radio.address)
        ground.sendto(b"\xeb\x90real", radio.address)
        stranger.sendto(b"\xeb\x90forged", radio.address)
        assert _poll(radio, 6) == [b"\xeb\x90real"]
        _poll(radio, 1, timeout_s=0.1)
        assert radio.rx_foreign == 2 and radio.peer == ground.getsockname()
        radio.send(b"tm")
        assert ground.recvfrom(100)[0] == b"tm"  # the downlink was not taken over
    finally:
        for s in (ground, stranger):
            s.close()
        radio.close()


def test_udp_flood_is_read_in_bounded_bites() -> None:
    radio = UdpRadio(rx_depth=4, rx_budget=16)
    flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(200):
            flood.sendto(b"x", radio.address)
        time.sleep(0.05)
        got = radio.receive()
        # Four taken, the rest left in the socket's buffer for the next call (not read
        # and thrown away): the next call takes the next four.
        assert len(got) == 4 and radio.rx_deferred == 1
        assert radio.status().rx_errors == 0
        assert len(radio.receive()) == 4 and radio.rx_datagrams == 8
    finally:
        flood.close()
        radio.close()


def test_tcp_with_a_peer_host_refuses_other_hosts() -> None:
    radio = TcpRadio(peer_host="127.0.0.1", rx_budget_octets=8)
    try:
        stranger = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stranger.bind(("127.0.0.2", 0))  # another loopback address: another host
        stranger.connect(radio.address)
        _poll(radio, 1, timeout_s=0.2)
        assert radio.refused_connections == 1 and not radio.status().in_contact
        stranger.close()
        ground = socket.create_connection(radio.address, timeout=2.0)
        ground.sendall(bytes(20))
        assert len(b"".join(_poll(radio, 20))) == 20 and radio.rx_deferred >= 1
        assert radio.status().in_contact and radio.connections == 1
        ground.close()
    finally:
        radio.close()
