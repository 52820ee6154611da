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
