"""A software-in-the-loop harness for tests and scripts (a plain library, not pytest-only).

It builds the executive of a mission on the simulated HAL, sends TCs by name or as raw
bytes, runs simulated time, and keeps every TM packet decoded, with helpers in the
spirit of fprime-gds's integration test API: ``send_and_assert_command``,
``await_tm`` and the verification reports of a request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.framework.app import AppSpec
from flightsw.framework.tm_funnel import CH_REALTIME
from flightsw.framework.verification import parse_report
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc, PusTm, tc_request_id_from_bytes
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.executive import NS_PER_S, Executive
from flightsw.runtime.mission import Mission, load_mission
from hal.clocks import SimClock
from hal.factory import build_hal
from hal.interfaces import Clock


class HarnessError(FlightswError, AssertionError):
    """An expectation of the harness was not met (a TM that never came, a failed TC)."""


@dataclass(frozen=True)
class Verification:
    """One PUS-1 report about a request."""

    subservice: int
    failure_code: int | None


class SilHarness:
    """A flight build on simulated hardware, driven like a ground test station."""

    def __init__(
        self,
        mission: Mission | str | None = None,
        extra_apps: Sequence[AppSpec] = (),
        cpu_meter: Callable[[], int] = time.perf_counter_ns,
        clock: Clock | None = None,
    ) -> None:
        """``clock`` is a simulated clock unless given (a paced one judges overruns)."""
        m = mission if isinstance(mission, Mission) else load_mission(mission)
        m.apps = list(m.apps) + list(extra_apps)
        self.mission = m
        self.dictionary = build_dictionary(m)
        self.encoder = CommandEncoder(self.dictionary)
        self.clock = clock if clock is not None else SimClock(m.executive.start_ns)
        self.hal = build_hal(m.hal_config(), m.seed, self.clock)
        self._cpu_meter = cpu_meter
        self.exe = Executive(m.executive, m.specs, self.hal, cpu_meter)
        self.reboots = 0
        self.raw_tm: list[bytes] = []
        self.tm: list[PusTm] = []
        self._sent_at: dict[int, int] = {}
        self.playback: list[bytes] = []
        self.exe.tm.sinks.append(self._sink)

    def _sink(self, pkt: bytes, channel: int) -> None:
        if channel == CH_REALTIME:
            self.raw_tm.append(pkt)
            self.tm.append(PusTm.decode(pkt))
        else:
            self.playback.append(pkt)

    # --- driving -------------------------------------------------------------
    def run(self, seconds: float) -> None:
        self.exe.run_for(seconds)

    def reboot(self, reason: str = "command") -> None:
        """A processor reset: a fresh executive and apps on the same hardware and NV store.

        Time and the simulated spacecraft carry on; everything in the flight software's
        RAM is gone, so what survives is what it kept in non-volatile memory.
        """
        self.hal.reset_cause = reason
        self.reboots += 1
        cfg = replace(self.mission.executive, start_ns=self.exe.now_ns)
        self.exe = Executive(cfg, self.mission.specs, self.hal, self._cpu_meter)
        self.exe.tm.sinks.append(self._sink)

    def hang(self, seconds: float) -> bool:
        """The executive stops (no frames, no watchdog kicks) while the hardware runs on.

        Returns True when the watchdog fired and reset the computer (``reboot("watchdog")``).
        """
        stepper: Any = self.hal.stepper  # hal.sim's SimHardware (counts watchdog expiries)
        before = stepper.watchdog_expiries
        end = self.exe.now_ns + int(seconds * NS_PER_S)
        t = self.exe.now_ns
        while t < end:
            t = min(end, t + NS_PER_S // 10)
            self.clock.wait_until(t)
            self.hal.step(t)
            if stepper.watchdog_expiries > before:
                # The reset takes effect at the next frame boundary.
                self.exe.frame = -(-(t - self.exe.config.start_ns) // self.exe.minor_frame_ns)
                self.reboot("watchdog")
                return True
        self.exe.frame = (end - self.exe.config.start_ns) // self.exe.minor_frame_ns
        return False

    def send_raw(self, tc: bytes) -> bool:
        # Request ids repeat (the 14-bit sequence count wraps, garbage can mimic one), so
        # a request's reports are looked for only after its latest send.
        self._sent_at[tc_request_id_from_bytes(tc)] = len(self.tm)
        return self.exe.submit_tc(tc)

    def send(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        app_data: bytes | None = None,
        ack_flags: int = 0b1111,
    ) -> int:
        """Send a command by name; returns its request id."""
        raw = self.encoder.encode(name, args, app_data=app_data, ack_flags=ack_flags)
        self.send_raw(raw)
        return PusTc.decode(raw).request_id

    def send_pus(
        self, service: int, subservice: int, app_data: bytes = b"", ack_flags: int = 0b1111
    ) -> int:
        tc = PusTc(
            apid=self.mission.executive.apid,
            service=service,
            subservice=subservice,
            app_data=app_data,
            seq_count=self.encoder.seq_count,
            ack_flags=ack_flags,
        )
        self.encoder.seq_count = (self.encoder.seq_count + 1) & 0x3FFF
        self.send_raw(tc.encode())
        return tc.request_id

    # --- looking -------------------------------------------------------------
    def tm_of(self, service: int, subservice: int) -> list[PusTm]:
        return [p for p in self.tm if p.service == service and p.subservice == subservice]

    def verifications(self, request_id: int) -> list[Verification]:
        """Verification reports for ``request_id`` since it was last sent."""
        out = []
        for p in self.tm[self._sent_at.get(request_id, 0) :]:
            if p.service != 1 or len(p.app_data) < 4:
                continue
            rid, code = parse_report(p.subservice, p.app_data)
            if rid == request_id:
                out.append(Verification(p.subservice, code))
        return out

    def await_tm(
        self,
        service: int,
        subservice: int,
        timeout_s: float = 5.0,
        predicate: Callable[[PusTm], bool] = lambda _p: True,
    ) -> PusTm:
        """Run until a matching TM arrives (counting only packets after the call)."""
        start = len(self.tm)
        frames = round(timeout_s * NS_PER_S / self.exe.minor_frame_ns)
        for _ in range(max(1, frames)):
            self.exe.run_minor_frame()
            for p in self.tm[start:]:
                if p.service == service and p.subservice == subservice and predicate(p):
                    return p
        raise HarnessError(f"no TM({service},{subservice}) within {timeout_s} s")

    def send_and_assert_command(
        self,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        app_data: bytes | None = None,
        timeout_s: float = 5.0,
    ) -> int:
        """Send a command and run until it completes; raise HarnessError if it fails."""
        rid = self.send(name, args, app_data=app_data)
        return self.await_completion(rid, timeout_s)

    def await_completion(self, request_id: int, timeout_s: float = 5.0) -> int:
        frames = round(timeout_s * NS_PER_S / self.exe.minor_frame_ns)
        for _ in range(max(1, frames)):
            self.exe.run_minor_frame()
            reports = self.verifications(request_id)
            failed = [v for v in reports if v.failure_code is not None]
            if failed:
                raise HarnessError(f"request 0x{request_id:08x} failed: {failed}")
            if any(v.subservice == 7 for v in reports):
                return request_id
        raise HarnessError(f"request 0x{request_id:08x} did not complete in {timeout_s} s")

    def failure_code(self, request_id: int, timeout_s: float = 2.0) -> int:
        """Run until the request fails and return its failure code."""
        frames = round(timeout_s * NS_PER_S / self.exe.minor_frame_ns)
        for _ in range(max(1, frames)):
            self.exe.run_minor_frame()
            for v in self.verifications(request_id):
                if v.failure_code is not None:
                    return v.failure_code
        raise HarnessError(f"request 0x{request_id:08x} did not fail within {timeout_s} s")
