"""A light flight build for scheduling tests: the core services and a recorder app on a
HAL with no simulated spacecraft, so simulated time can jump over idle frames."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flightsw.framework.app import App, AppSpec, Arg, command
from flightsw.framework.exec_services import AppCatalog
from flightsw.framework.ports import Service
from flightsw.framework.verification import parse_report
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTm
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.executive import Executive
from flightsw.runtime.mission import CORE_SERVICES, load_mission
from flightsw.services.scheduling.app import INSERT
from hal.backend import Hal
from hal.clocks import SimClock
from hal.nvstore import MemoryNvStore

FRAME_NS = 100_000_000


class RecorderApp(App):
    """Records when (executive frame time) each of its commands ran: the truth."""

    DEFAULT_RATE_HZ = 10.0
    catalog = Service(AppCatalog)

    def step(self, now_ns: int) -> None:
        pass

    @command(function_id=1, args=(Arg("tag", "u32"),))
    def cmd_mark(self, tag: int) -> None:
        """Record ``tag`` with the frame time it ran in."""
        self.ctx.retained.setdefault("ran", []).append((tag, self.catalog.now_ns))


class _Watchdog:
    def kick(self) -> None:
        pass


class LightNode:
    """Core services + ``rec`` (a RecorderApp) + ``extra`` apps on a stub HAL;
    rebootable on its NV."""

    def __init__(
        self,
        params: dict[str, dict[str, Any]] | None = None,
        extra: list[AppSpec] | None = None,
    ) -> None:
        m = load_mission()
        core = {n for n, _, _ in CORE_SERVICES}
        specs = [s for s in m.specs if s.name in core]
        for s in specs:
            s.params = {**s.params, **(params or {}).get(s.name, {})}
        specs.append(AppSpec("rec", RecorderApp, 10.0, 0x1000))
        specs += extra or []
        m.apps = specs
        self.mission = m
        self.specs = specs
        self.dictionary = build_dictionary(m)
        self.encoder = CommandEncoder(self.dictionary)
        self.clock = SimClock(0)
        self.hal = Hal("null", self.clock, _Watchdog(), nv=MemoryNvStore())
        self.tm: list[PusTm] = []
        self.ran: list[tuple[int, int]] = []
        self._boot(m.executive)

    def _boot(self, cfg: Any) -> None:
        self.exe = Executive(cfg, self.specs, self.hal)
        self.exe.tm.sinks.append(lambda pkt, _ch: self.tm.append(PusTm.decode(pkt)))
        self.exe.app("rec").ctx.retained["ran"] = self.ran

    def reboot(self) -> None:
        self._boot(replace(self.mission.executive, start_ns=self.exe.now_ns))

    def exe_dictionary(self) -> dict[str, Any]:
        return self.dictionary

    @property
    def sched(self) -> Any:
        return self.exe.app("scheduler").instance

    def mark(self, tag: int, ack_flags: int = 0b1001) -> bytes:
        return self.encoder.encode("rec.mark", {"tag": tag}, ack_flags=ack_flags)

    def send(self, name: str, app_data: bytes | None = None) -> int:
        raw = self.encoder.encode(name, app_data=app_data)
        self.exe.submit_tc(raw)
        return int.from_bytes(raw[:4], "big")

    def insert(self, items: list[tuple[int, bytes]]) -> int:
        body = INSERT.build({"activities": [{"release_time": t, "tc": tc} for t, tc in items]})
        return self.send("scheduler.insert", body)

    def frames(self, n: int) -> None:
        self.exe.run_frames(n)

    def jump_to_frame(self, frame: int) -> None:
        """Skip idle frames: nothing may be due before ``frame`` (the caller knows)."""
        self.exe.frame = max(self.exe.frame, frame)

    def reports(self, request_id: int) -> list[tuple[int, int | None]]:
        out = []
        for p in self.tm:
            if p.service == 1:
                rid, code = parse_report(p.subservice, p.app_data)
                if rid == request_id:
                    out.append((p.subservice, code))
        return out
