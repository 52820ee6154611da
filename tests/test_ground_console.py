"""``flightsw ground`` against ``flightsw sim --realtime --radio udp:...``, both as processes."""

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

import flightsw.ground.console as console_module
from flightsw.ground.console import GroundConsole
from flightsw.link.onboard import DownlinkChain
from flightsw.link.sdls import SdlsTm, SecurityAssociation
from flightsw.link.sdls_config import link_security
from flightsw.packets import PusTm
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from tests.support.live_build import FLIGHTSW, free_udp_port, start_live_build


def test_command_by_name_and_watch_telemetry(tmp_path: Path) -> None:
    port = free_udp_port()
    env = {**os.environ, "CI": "1"}
    flight = start_live_build(f"udp:127.0.0.1:{port}", tmp_path / "flight", 20)
    try:
        r = subprocess.run(
            [
                *FLIGHTSW,
                "ground",
                "--udp",
                f"127.0.0.1:{port}",
                "--listen",
                "8",
                "--send",
                "test.ping",
                "--send",
                "fdir.readmit_board board=3",
                "--send",
                "power.arm_switch switch=200",
                "--archive",
                str(tmp_path / "ground.sqlite"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        # A second session carries on: its SDLS counters come from the state file (not
        # ARSN 1 again, refused as replays) and it starts COP-1 with Set V(R).
        again = subprocess.run(
            [
                *FLIGHTSW,
                "ground",
                "--udp",
                f"127.0.0.1:{port}",
                "--listen",
                "5",
                "--send",
                "test.ping",
                "--archive",
                str(tmp_path / "ground2.sqlite"),
                "--state",
                str(tmp_path / "ground-sdls.json"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    finally:
        flight.terminate()
        flight.wait(timeout=30)
    flight_err = flight.stderr.read() if flight.stderr is not None else ""
    assert "warning: published test key" in flight_err
    assert (tmp_path / "flight" / "nv").is_dir()  # the NV store outlives the process
    assert r.returncode == 0, r.stderr
    assert again.returncode == 0, again.stderr
    assert "VERIFY test.ping completed" in again.stdout.splitlines(), again.stdout
    assert "0 TM frames failed authentication" in again.stderr
    assert "warning: published test key" in again.stderr
    lines = r.stdout.splitlines()
    assert "VERIFY test.ping accepted" in lines and "VERIFY test.ping completed" in lines
    assert "VERIFY fdir.readmit_board failed code 14" in lines  # not isolated: INVALID_STATE
    assert "VERIFY power.arm_switch failed code 16" in lines  # no such switch: UNKNOWN_ID
    assert any(line.startswith("EVENT") for line in lines) or any(
        line.startswith("TM(17,2)") for line in lines
    )
    assert (tmp_path / "ground.sqlite").stat().st_size > 0


def test_bad_ground_arguments_are_one_error_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [*FLIGHTSW, "ground", "--udp", "nowhere", "--listen", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = subprocess.run(
        [
            *FLIGHTSW,
            "ground",
            "--udp",
            "127.0.0.1:9",
            "--listen",
            "0",
            "--send",
            "no.such",
            "--archive",
            str(tmp_path / "a.sqlite"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "unknown command" in r.stderr


def test_console_command_text_garbage_is_our_error() -> None:
    from flightsw.base.errors import FlightswError
    from flightsw.ground.console import parse_command

    assert parse_command("fdir.readmit_board board=3") == ("fdir.readmit_board", {"board": 3})
    for bad in ("", "test.ping board", "x a=b", "x a=1=2"):
        with pytest.raises(FlightswError):
            parse_command(bad)


# --------------------------------------------- whom the console trusts, and for how long


def _console(tmp_path: Path, flight: socket.socket, **kw: Any) -> tuple[GroundConsole, list[str]]:
    lines: list[str] = []
    console = GroundConsole(
        load_mission(),
        flight.getsockname(),
        tmp_path / "g.sqlite",
        out=lines.append,
        state=tmp_path / "g.json",
        bind=("127.0.0.1", 0),
        **kw,
    )
    return console, lines


def _cadus(key: bytes | None, n: int) -> list[bytes]:
    """``n`` CADUs each carrying one TM(17,2), protected under TM SA 3 with ``key``."""
    comms = next(s for s in load_mission().apps if s.name == "comms")
    sec = link_security(comms.options)
    assert sec.tm is not None
    tm = SdlsTm(SecurityAssociation(3, key or sec.tm.key, arsn_len=8))
    down = DownlinkChain(link_config(comms.options), None, security=tm)
    out = []
    for i in range(n):
        down.push(PusTm(0x64, 17, 2, seq_count=i).encode())
        out.append(down.next_cadu())
    return out


def test_console_takes_tm_only_from_its_peer_and_only_authenticated(tmp_path: Path) -> None:
    flight = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flight.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    console, lines = _console(tmp_path, flight)
    try:
        target = console.sock.getsockname()
        genuine = _cadus(None, 3)
        for cadu in genuine[:2]:
            flight.sendto(cadu, target)
        for cadu in genuine:  # a stranger replaying what it overheard
            other.sendto(cadu, target)
        for cadu in _cadus(bytes(32), 3):  # the right address (spoofed), no key
            flight.sendto(cadu, target)
        for _ in range(20):
            console.poll(0.01)
        assert lines == ["TM(17,2) test.are_you_alive"] * 2
        assert console.foreign_datagrams == 3 and console.datagrams == 5
        assert console.tm_frames_unauthenticated == 3
        assert "3 TM frames failed authentication" in console.summary()
    finally:
        console.close()
        flight.close()
        other.close()


class _Flood:
    """A socket that always has another datagram from a stranger (and counts the reads)."""

    def __init__(self) -> None:
        self.reads = 0

    def sendto(self, data: bytes, address: object) -> int:
        return len(data)

    def recvfrom(self, size: int) -> tuple[bytes, tuple[str, int]]:
        self.reads += 1
        if self.reads > 1_000_000:
            raise AssertionError("the receive loop never stopped")
        return b"\x1a\xcf\xfc\x1d" + bytes(100), ("10.9.9.9", 4242)

    def close(self) -> None:
        pass


def test_a_flood_cannot_keep_listen_running_past_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = [0.0]

    def clock() -> float:
        t[0] += 0.001  # each look at the clock costs a (simulated) millisecond
        return t[0]

    flight = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flight.bind(("127.0.0.1", 0))
    console, _lines = _console(tmp_path, flight, clock=clock)
    real_sock, flood = console.sock, _Flood()
    console.sock = flood  # type: ignore[assignment]
    monkeypatch.setattr(console_module.select, "select", lambda r, w, x, t: (r, [], []))
    try:
        console.run_for(2.0)
        assert t[0] < 2.01  # returned on time: the deadline is checked between datagrams
        assert console.foreign_datagrams == flood.reads > 0
        reads, over = flood.reads, console.polls_over_budget
        console.max_datagrams = 10
        console.poll(0.0)  # and one poll never takes more than its budget
        assert flood.reads == reads + 10 and console.polls_over_budget == over + 1
    finally:
        console.sock = real_sock
        console.close()
        flight.close()


def test_playback_of_what_came_in_real_time_is_archived_once(tmp_path: Path) -> None:
    """The store's dump repeats real-time TM: the console shows it (marked) and archives
    only what the archive lacks (here one packet stored out of contact, and nothing of
    a second dump)."""
    from flightsw.ground.archive_query import ArchiveReader

    comms = next(s for s in load_mission().apps if s.name == "comms")
    sec = link_security(comms.options)
    assert sec.tm is not None
    down = DownlinkChain(
        link_config(comms.options),
        None,
        security=SdlsTm(SecurityAssociation(3, sec.tm.key, arsn_len=8)),
    )
    packets = [
        PusTm(0x64, 17, 2, seq_count=i, time=bytes([0, 0, 0, i, 0, 0])).encode() for i in range(4)
    ]
    flight = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flight.bind(("127.0.0.1", 0))
    console, lines = _console(tmp_path, flight)
    try:
        target = console.sock.getsockname()
        for pkt, playback in [(p, False) for p in packets[:3]] + [(p, True) for p in packets * 2]:
            down.push(pkt, playback=playback)
            while down.has_data():
                flight.sendto(down.next_cadu(), target)
            console.poll(0.01)
        for _ in range(10):
            console.poll(0.01)
        assert lines.count("TM(17,2) test.are_you_alive") == 3
        assert lines.count("PLAYBACK TM(17,2) test.are_you_alive") == 8
        assert console.playback_repeats == 7
    finally:
        console.close()
        flight.close()
    with ArchiveReader(tmp_path / "g.sqlite") as r:
        assert list(r.packets()) == packets


def test_unlock_typed_in_the_console_is_the_ground_directive_not_a_tc(tmp_path: Path) -> None:
    from flightsw.link.fop import FopState

    flight = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flight.bind(("127.0.0.1", 0))
    console, lines = _console(tmp_path, flight)
    try:
        console.send("unlock")
        assert console.station.fop.state is FopState.INITIALISING_WITH_BC
        assert lines == ["FOP unlock: Initiate AD with Unlock sent"] and not console.outbox
        console.send("test.ping")
        assert len(console.outbox) == 1  # waits until the Unlock is confirmed
        console.poll(0.01)
        fop = console.station.fop
        assert fop.counters["ad_sent"] == 0 and fop.counters["bc_sent"] == 2  # Set V(R), Unlock
        assert console.station.cltus_sent == 2  # T1 did not expire at the first poll
    finally:
        console.close()
        flight.close()
