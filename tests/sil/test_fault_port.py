"""The fault port of a real-time simulated build: requests in, faults scheduled, refusals."""

from __future__ import annotations

import json
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import FlightswError
from flightsw.sil.fault_port import FaultPort, parse_fault
from sim_hw.faults import FaultKind
from tests.apps.conftest import small_node


def test_a_request_is_scheduled_now_and_answered() -> None:
    h = small_node(boards=4)
    sc = h.hal.harness["sim"]
    h.run(3)
    port = FaultPort(("127.0.0.1", 0))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b'{"kind": "sel", "target": 1}', port.sock.getsockname())
        s.sendto(b'{"kind": "sel", "target": true}', port.sock.getsockname())
        s.sendto(b"\xff" * 5000, port.sock.getsockname())
        for _ in range(100):  # the datagrams may take a moment to arrive
            port.poll(sc)
            if port.injected + port.refused == 3:
                break
        answers = [json.loads(s.recvfrom(4096)[0]) for _ in range(3)]
    port.close()
    assert answers[0] == {"ok": True, "t_s": sc.t_s}
    assert "target: True is not a board index" in answers[1]["error"]
    assert "longer than 4096" in answers[2]["error"]
    assert (port.injected, port.refused) == (1, 2)
    h.run(2)
    assert [(f["kind"], f["target"]) for f in sc.fault_log] == [("sel", 1)]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "expected an object"),
        (b'{"kind": "sel", "target": 1, "when": 3}', "unknown keys ['when']"),
        (b'{"kind": "meteor", "target": 1}', "kind: 'meteor' is not one of seu, "),
        (b'{"kind": "sel", "target": -1}', "outside 0..999999"),
        (b'{"kind": "sel", "target": 1, "detail": {"v": NaN}}', "finite numbers"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(data: bytes, says: str) -> None:
    with pytest.raises(FlightswError, match=None) as err:
        parse_fault(data, 0.0)
    assert says in str(err.value)


@given(st.binary(max_size=200))
def test_garbage_gives_our_error_or_a_fault(data: bytes) -> None:
    try:
        fault = parse_fault(data, 1.0)
    except FlightswError:
        return
    assert isinstance(fault.kind, FaultKind) and fault.t_s == 1.0
