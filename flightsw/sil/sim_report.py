"""What a SIL run did to the simulated spacecraft: time series, summary numbers, plots.

The recorder samples the simulated world's truth (not the flight software's estimates)
every ``every_s`` seconds, so the summary can say whether the battery, the temperatures
and the payload stayed where the mission needs them, independent of what telemetry
claimed. Plots go beside the JSON as PNG files.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim_hw.spacecraft import TEMPERATURE_LIMITS_C

NS_PER_S = 1_000_000_000
SERIES = (
    "t_s",
    "soc",
    "solar_w",
    "load_w",
    "battery_w",
    "battery_temp_c",
    "board_temp_max_c",
    "board_temp_mean_c",
    "coldplate_c",
    "radiator_c",
    "avionics_c",
    "boards_powered",
    "payload_w",
    "eclipse",
    "structure_c",
    "heater_w",
    "valve_open",
    "array_temp_c",
    "board_temp_min_c",
)
# Which series holds each thermal node's temperature (min and max series for the boards).
NODE_SERIES = {
    "structure": ("structure_c", "structure_c"),
    "battery": ("battery_temp_c", "battery_temp_c"),
    "avionics": ("avionics_c", "avionics_c"),
    "coldplate": ("coldplate_c", "coldplate_c"),
    "radiator": ("radiator_c", "radiator_c"),
    "boards": ("board_temp_min_c", "board_temp_max_c"),
}


class TruthRecorder:
    """Samples a ``sim_hw.spacecraft.Spacecraft`` at a fixed simulated interval."""

    def __init__(self, spacecraft: Any, every_s: float = 10.0) -> None:
        self.sc = spacecraft
        self.every_ns = int(every_s * NS_PER_S)
        self.next_ns = 0
        self.rows: list[tuple[float, ...]] = []
        self.start_stored_wh = float(spacecraft.battery.stored_wh)
        # The nodes sampled, by position (the network's names are a tuple fixed at build).
        idx = spacecraft.thermal.index
        self._nodes = tuple(
            idx(n) for n in ("battery", "coldplate", "radiator", "avionics", "structure")
        )

    def maybe_sample(self, now_ns: int) -> None:
        """A row when one is due (``next_ns``; a caller may test that itself first)."""
        if now_ns < self.next_ns:
            return
        self.next_ns = now_ns + self.every_ns
        sc = self.sc
        temps = sc.thermal.temperatures_c
        battery, coldplate, radiator, avionics, structure = self._nodes
        p = sc.last_power
        b = sc.boards
        powered = b.powered
        bt = b.temperature_c[powered]
        self.rows.append(
            (
                now_ns / NS_PER_S,
                sc.battery.soc,
                p.solar_w if p else 0.0,
                p.load_served_w if p else 0.0,
                p.battery_w if p else 0.0,
                float(temps[battery]),
                float(bt.max()) if bt.size else float("nan"),
                float(bt.mean()) if bt.size else float("nan"),
                float(temps[coldplate]),
                float(temps[radiator]),
                float(temps[avionics]),
                float(powered.sum()),
                float(b.power_w.sum()),
                1.0 if sc.in_eclipse() else 0.0,
                float(temps[structure]),
                float(sc.heater_power_w()),
                float(sc.loop_valve.opening),
                float(sc.array_temp_c),
                float(bt.min()) if bt.size else float("nan"),
            )
        )

    def arrays(self) -> dict[str, np.ndarray[Any, Any]]:
        data = np.array(self.rows, dtype=np.float64).reshape(-1, len(SERIES))
        return {name: data[:, i] for i, name in enumerate(SERIES)}

    def summary(self) -> dict[str, Any]:
        """Extremes and the energy balance (zero when the power model conserves energy)."""
        a = self.arrays()
        sc = self.sc
        pw = sc.power
        bat = sc.battery
        stored_change = float(bat.stored_wh) - self.start_stored_wh
        balance = pw.solar_wh - pw.load_wh - pw.shunt_wh - stored_change - bat.losses_wh

        def finite_max(x: np.ndarray[Any, Any]) -> float | None:
            x = x[np.isfinite(x)]
            return round(float(x.max()), 3) if x.size else None

        return {
            "min_soc": round(float(a["soc"].min()), 4) if a["soc"].size else None,
            "max_board_temp_c": finite_max(a["board_temp_max_c"]),
            "min_battery_temp_c": round(float(a["battery_temp_c"].min()), 3),
            "max_battery_temp_c": round(float(a["battery_temp_c"].max()), 3),
            "eclipse_fraction": round(float(a["eclipse"].mean()), 4),
            "solar_wh": round(pw.solar_wh, 3),
            "load_wh": round(pw.load_wh, 3),
            "shunt_wh": round(pw.shunt_wh, 3),
            "unserved_wh": round(pw.unserved_wh, 3),
            "battery_stored_change_wh": round(stored_change, 3),
            "battery_losses_wh": round(bat.losses_wh, 3),
            "energy_balance_wh": round(balance, 6),
            "heater_wh": {
                z: round(sc.cfg.heater_w(z) * s / 3600.0, 3) for z, s in sc.heater_on_s.items()
            },
            "max_heater_w": finite_max(a["heater_w"]),
            "payload_w_mean": round(float(a["payload_w"].mean()), 3)
            if a["payload_w"].size
            else 0.0,
            "temperatures": self.temperatures(a),
        }

    @staticmethod
    def temperatures(a: dict[str, np.ndarray[Any, Any]]) -> dict[str, dict[str, Any]]:
        """Per thermal node (and the powered boards): the range seen, its limits, and
        whether it stayed inside them."""
        out: dict[str, dict[str, Any]] = {}
        for node, (lo_key, hi_key) in NODE_SERIES.items():
            lo_v, hi_v = a[lo_key][np.isfinite(a[lo_key])], a[hi_key][np.isfinite(a[hi_key])]
            lo_lim, hi_lim = TEMPERATURE_LIMITS_C[node]
            seen_lo = round(float(lo_v.min()), 3) if lo_v.size else None
            seen_hi = round(float(hi_v.max()), 3) if hi_v.size else None
            inside = (seen_lo is None or seen_lo >= lo_lim) and (
                seen_hi is None or seen_hi <= hi_lim
            )
            out[node] = {
                "min_c": seen_lo,
                "max_c": seen_hi,
                "limits_c": [lo_lim, hi_lim],
                "within_limits": inside,
            }
        return out

    def plot(self, out_dir: Path) -> list[str]:
        """Write power, state-of-charge, temperature and payload plots; returns file names."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        a = self.arrays()
        t_h = a["t_s"] / 3600.0
        written = []

        def shade(ax: Any) -> None:
            ecl = a["eclipse"] > 0.5
            if ecl.any():
                ax.fill_between(
                    t_h,
                    0,
                    1,
                    where=ecl,
                    transform=ax.get_xaxis_transform(),
                    color="0.85",
                    label="eclipse",
                )

        figs: list[tuple[str, str, list[tuple[str, str]], str]] = [
            (
                "power.png",
                "Power",
                [
                    ("solar_w", "solar array"),
                    ("load_w", "loads"),
                    ("battery_w", "battery (+ charging)"),
                    ("payload_w", "payload boards"),
                ],
                "W",
            ),
            ("soc.png", "Battery state of charge", [("soc", "state of charge")], "1"),
            (
                "temperatures.png",
                "Temperatures",
                [
                    ("board_temp_max_c", "hottest board"),
                    ("board_temp_mean_c", "mean board"),
                    ("coldplate_c", "cold plate"),
                    ("radiator_c", "radiator"),
                    ("battery_temp_c", "battery"),
                    ("avionics_c", "avionics"),
                    ("structure_c", "structure"),
                ],
                "degC",
            ),
            ("payload.png", "Payload", [("boards_powered", "boards powered")], "boards"),
        ]
        for name, title, lines, unit in figs:
            fig, ax = plt.subplots(figsize=(9, 4))
            shade(ax)
            for key, label in lines:
                ax.plot(t_h, a[key], label=label, linewidth=1.2)
            ax.set_title(title)
            ax.set_xlabel("mission time [h]")
            ax.set_ylabel(unit)
            ax.grid(True, alpha=0.3)
            ax.legend(loc="best", fontsize=8)
            fig.tight_layout()
            fig.savefig(out_dir / name, dpi=110)
            plt.close(fig)
            written.append(name)
        # Thermal control: heater power, and the cooling loop's valve on its own axis.
        fig, ax = plt.subplots(figsize=(9, 4))
        shade(ax)
        ax.plot(t_h, a["heater_w"], label="heaters", color="tab:red", linewidth=1.2)
        ax.set_ylabel("heater power [W]")
        ax.set_xlabel("mission time [h]")
        ax.set_title("Thermal control")
        ax.grid(True, alpha=0.3)
        ax2 = ax.twinx()
        ax2.plot(t_h, 100.0 * a["valve_open"], label="loop valve", color="tab:blue", linewidth=1.2)
        ax2.set_ylabel("loop valve open [%]")
        ax2.set_ylim(-5, 105)
        handles, labels = ax.get_legend_handles_labels()
        handles2, labels2 = ax2.get_legend_handles_labels()
        ax.legend([*handles, *handles2], [*labels, *labels2], loc="best", fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "thermal_control.png", dpi=110)
        plt.close(fig)
        written.append("thermal_control.png")
        return written


class UtilizationMeter:
    """Busy and available board time and the work done, from the simulated boards' truth.

    A board is busy over a physics step when its own work counter advanced in it (at any
    power: a capped board is busy, and its smaller work shows in the work done). A board
    is available unless it is damaged (truth) or isolated (``isolated()``: FDIR's
    decision to take it out of service, which the operator sees and accepts).
    ``utilization`` is busy board-hours over available board-hours. ``payload()``, when
    given, returns the payload's own counters (busy, available and work board-hours and
    boards busy) so the summary can show its view beside the truth. Work is in
    board-hours at full power, per orbit of ``orbit_s`` from the start.
    """

    def __init__(
        self,
        spacecraft: Any,
        orbit_s: float,
        isolated: Callable[[], NDArray[np.bool_] | None] = lambda: None,
        payload: Callable[[], tuple[float, float, float, int] | None] = lambda: None,
        every_s: float = 10.0,
    ) -> None:
        self.sc = spacecraft
        self.boards = spacecraft.boards
        self.orbit_s = orbit_s
        self.isolated = isolated
        self.payload = payload
        self.t0 = float(spacecraft.t_s)
        self.last_t = self.t0
        self.last_work = np.array(self.boards.work_done, dtype=np.float64)
        self._delta = np.empty_like(self.last_work)  # per step, reused (no allocation)
        self._mask = np.empty(self.last_work.shape, dtype=np.bool_)
        self.busy_s = 0.0
        self.available_s = 0.0
        self.work_s = 0.0
        self.orbits: list[list[float]] = []  # per orbit: busy_s, available_s, work_s
        self.payload_at_orbit: list[tuple[float, float, float, int]] = []
        self.payload_start = payload()
        self.every_s = every_s
        self.next_sample = self.t0
        self.series: list[tuple[float, float, float, float, float]] = []
        self.busy_now = 0

    def update(self) -> None:
        """Account the physics steps since the last call (call it every minor frame, or
        when the spacecraft's ``t_s`` passed ``last_t``)."""
        t = float(self.sc.t_s)
        if t <= self.last_t:
            return
        dt = t - self.last_t
        self.last_t = t
        b = self.boards
        mask = self._mask
        delta = np.subtract(b.work_done, self.last_work, out=self._delta)
        self.last_work += delta
        busy = int(np.count_nonzero(np.greater(delta, 1e-12, out=mask)))
        work = float(delta.sum())
        out = b.damaged
        iso = self.isolated()
        if iso is not None and iso.shape == out.shape:
            out = np.logical_or(out, iso, out=mask)
        available = b.count - int(np.count_nonzero(out))
        k = int((t - self.t0 - 1e-9) // self.orbit_s)
        if k >= len(self.orbits):
            while len(self.orbits) <= k:
                if self.orbits:
                    self._close_orbit()
                self.orbits.append([0.0, 0.0, 0.0])
        row = self.orbits[k]
        row[0] += busy * dt
        row[1] += available * dt
        row[2] += work
        self.busy_s += busy * dt
        self.available_s += available * dt
        self.work_s += work
        self.busy_now = busy
        if t >= self.next_sample:
            self.next_sample = t + self.every_s
            view = self.payload()
            self.series.append(
                (
                    t - self.t0,
                    float(busy),
                    float(available),
                    float(np.count_nonzero(b.powered)),
                    float(view[3]) if view is not None else float("nan"),
                )
            )

    def _close_orbit(self) -> None:
        view = self.payload()
        if view is not None:
            self.payload_at_orbit.append(view)

    def summary(self) -> dict[str, Any]:
        """``utilization`` and work per orbit from truth, and the payload's view beside."""
        per_orbit = [round(w / 3600.0, 3) for _, _, w in self.orbits]
        out: dict[str, Any] = {
            "utilization": round(self.busy_s / self.available_s, 4) if self.available_s else None,
            "busy_board_hours": round(self.busy_s / 3600.0, 3),
            "available_board_hours": round(self.available_s / 3600.0, 3),
            "work_board_hours": round(self.work_s / 3600.0, 3),
            "work_board_hours_per_orbit": per_orbit,
            "utilization_per_orbit": [
                round(busy / avail, 4) if avail else None for busy, avail, _ in self.orbits
            ],
        }
        start, end = self.payload_start, self.payload()
        if start is not None and end is not None:
            marks = [start, *self.payload_at_orbit, end]
            avail = end[1] - start[1]
            out["payload_view"] = {
                "utilization": round((end[0] - start[0]) / avail, 4) if avail > 0 else None,
                "busy_board_hours": round(end[0] - start[0], 3),
                "available_board_hours": round(avail, 3),
                "work_board_hours": round(end[2] - start[2], 3),
                "work_board_hours_per_orbit": [
                    round(b[2] - a[2], 3) for a, b in itertools.pairwise(marks)
                ],
            }
        return out

    def plot(self, out_dir: Path) -> list[str]:
        """``utilization.png``: boards available, powered and busy over the run (truth, and
        busy as the payload reports it), and the work done per orbit."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        data = np.array(self.series, dtype=np.float64).reshape(-1, 5)
        t_h = data[:, 0] / 3600.0
        fig, (ax, bx) = plt.subplots(
            2, 1, figsize=(9, 6), gridspec_kw={"height_ratios": [2, 1]}, constrained_layout=True
        )
        ax.plot(t_h, data[:, 2], label="available", linewidth=1.2)
        ax.plot(t_h, data[:, 3], label="powered", linewidth=1.2)
        ax.plot(t_h, data[:, 1], label="busy (truth)", linewidth=1.2)
        ax.plot(t_h, data[:, 4], "--", label="busy (payload's view)", linewidth=1.0)
        s = self.summary()
        u = s["utilization"]
        ax.set_title("Payload utilization " + (f"{u:.3f}" if u is not None else "n/a") + " (truth)")
        ax.set_xlabel("mission time [h]")
        ax.set_ylabel("boards")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        orbits = np.arange(1, len(self.orbits) + 1)
        bx.bar(orbits - 0.2, s["work_board_hours_per_orbit"], 0.4, label="truth")
        view = s.get("payload_view", {}).get("work_board_hours_per_orbit")
        if view and len(view) == len(orbits):
            bx.bar(orbits + 0.2, view, 0.4, label="payload's view")
        bx.set_xticks(orbits)  # whole orbits, not fractions of one
        bx.set_xlabel("orbit")
        bx.set_ylabel("work [board-h at full power]")
        bx.grid(True, alpha=0.3, axis="y")
        bx.legend(loc="best", fontsize=8)
        fig.savefig(out_dir / "utilization.png", dpi=110)
        plt.close(fig)
        return ["utilization.png"]
