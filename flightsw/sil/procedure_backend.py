"""A procedure's in-process SIL end (the live one is ``flightsw.ground.procedure_backends``).

:class:`SilBackend` wraps :class:`~flightsw.sil.harness.SilHarness`: each step runs one
minor frame of simulated time, so a timeout of 10 s is exactly 100 frames, however fast
the host is. Faults are scheduled straight into the simulated spacecraft.
"""

from __future__ import annotations

import json
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.runtime.mission import Mission
from flightsw.sil.fault_port import parse_fault
from flightsw.sil.harness import SilHarness

NS_PER_S = 1_000_000_000


class SilBackend:
    """A procedure's view of an in-process SIL: one step is one minor frame."""

    kind = "sil"

    def __init__(self, harness: SilHarness) -> None:
        self.harness = harness
        self.dictionary = harness.dictionary
        self.encoder = harness.encoder
        self._seen = len(harness.raw_tm)

    def now_s(self) -> float:
        return self.harness.exe.now_ns / NS_PER_S

    def send(self, tc: bytes) -> None:
        self.harness.send_raw(tc)

    def step(self) -> list[bytes]:
        self.harness.exe.run_minor_frame()
        tm = self.harness.raw_tm
        new = tm[self._seen :]
        self._seen = len(tm)
        return new

    def inject(self, kind: str, target: int | str, detail: dict[str, Any]) -> float:
        spacecraft = self.harness.hal.harness.get("sim")
        if spacecraft is None:
            raise FlightswError("this build has no simulated spacecraft to inject faults into")
        request = json.dumps({"kind": kind, "target": target, "detail": detail}).encode()
        spacecraft.faults.extend([parse_fault(request, float(spacecraft.t_s))])
        return self.now_s()

    def close(self) -> None:
        pass


def in_contact_backend(mission: Mission) -> SilBackend:
    """An in-process SIL of ``mission`` whose simulated radio is always in contact (a pass
    that lasts: ``flightsw ground put/get`` without ``--udp``)."""
    radio = {**mission.hal.get("radio", {}), "always_in_contact": True}
    mission.hal = {**mission.hal, "radio": radio}
    return SilBackend(SilHarness(mission))
