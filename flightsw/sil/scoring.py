"""The score of a fault-scenario run: the simulated world's truth against the telemetry.

Nothing is credited from the flight software's belief about itself. Every injected
fault (scheduled or drawn by the radiation model, and the side effects upsets have:
double-bit errors, corrupted computations) is scored: injected, not effective (with the
world's reason), detected (its report reached the ground in the stated time), recovered
(the world shows the recovery, in the stated time), isolated, or left to the ground
(only where the scenario says so; any other kind FDIR does not handle fails the run).

Recovery from truth, per kind:

- ``sel``: the latch-up current cut (the world's latch cleared by a power-off) within one
  minor frame; the board healthy (powered, no latch-up, no hang) and announced back
  (``BOARD_RECOVERED``) within ``sel_recovery_s``; never damaged;
- ``sefi``: the hang cleared and the board healthy and announced within
  ``sefi_recovery_s``;
- ``seu_uncorrectable`` and caught ``silent_corruption`` on a computing board: the job
  on that board rolled back within ``rollback_s`` (so no corrupted progress is kept),
  and the work redone over the run stays within one checkpoint interval per fault (from
  the work the simulated boards really did, below);
- sensor faults: the zone temperature the apps use (thermal HK, and FDIR's battery
  temperature) within ``sensor_tolerance_c`` of the world's temperature in every sample
  from ``sensor_settle_s`` after the fault, and the sensor declared failed;
- ``switch_overcurrent``: the trip reported, and the switch conducting again within
  ``switch_recovery_s`` (or isolated, when the scenario expects it);
- ``memory_upset``: the flipped memory holding its value again (the world checks the
  bytes) within ``memory_repair_s`` (NV copies: ``nv_repair_s``);
- ``seu`` (corrected upsets scheduled on a board): counted in FDIR's HK, and the latent
  flips scrubbed within the scrub period.

A fault whose recovery time runs past the end of the run is "censored": reported, not
failed. False alarms are every fault-signalling event (any event of severity LOW or
above that is not in ``OPERATIONAL``) that no injected fault or world condition
explains. Lost work comes from truth: rejected submissions, jobs not delivered by their
deadline, corrupted results that were not rolled back (and every silent escape), and
work redone beyond one checkpoint interval per fault that hit a computing board.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from flightsw.sil.scenario import Job, RunRecord, Scenario

# Events that say nothing is wrong (announcements of normal operation).
OPERATIONAL = {
    "power.SWITCH_COMMANDED",
    "power.SWITCH_ARMED",
    "payload.JOB_DONE",
    "payload.JOB_STATUS",
    "thermal.BOARDS_THROTTLED",
    "storage.DUMP_STARTED",
    "storage.DUMP_COMPLETED",
    "files.FILE_COMPLETE",
    "comms.CONTACT_START",
    "comms.CONTACT_END",
    "fdir.SAFE_MODE_EXITED",
    # The mission's own link-security configuration, announced at boot (scenario runs
    # use the default mission's published test keys on purpose): not a fault.
    "comms.SDLS_PUBLISHED_KEY",
    "comms.SDLS_OFF",
}
# Kinds FDIR handles; any other kind must be left to the ground by the scenario.
HANDLED = {
    "sel",
    "sefi",
    "seu",
    "seu_uncorrectable",
    "silent_corruption",
    "sensor_stuck",
    "sensor_drift",
    "switch_overcurrent",
    "memory_upset",
}
# Which fault kinds can explain a board event on the same board.
BOARD_EVENTS = {
    "fdir.BOARD_LATCHUP": {"sel"},
    "fdir.BOARD_HANG": {"sefi", "sel"},
    "fdir.BOARD_POWER_CYCLED": {"sefi", "sel"},
    "fdir.BOARD_RECOVERED": {"sel", "sefi", "switch_overcurrent"},
    "fdir.BOARD_ISOLATED": {"sel", "sefi", "seu_uncorrectable", "switch_overcurrent"},
    "fdir.UNCORRECTABLE_MEMORY": {"seu_uncorrectable"},
    "payload.JOB_ROLLED_BACK": {
        "sel",
        "sefi",
        "seu_uncorrectable",
        "silent_corruption",
        "switch_overcurrent",
    },
}
HEALTHY = 0  # fdir health state announced as healthy
PROMISES = {
    "sel_report_s": 2.0,
    "sel_recovery_s": 20.0,
    "sefi_recovery_s": 30.0,
    "unc_report_s": 2.0,
    "rollback_s": 2.0,
    "sensor_report_s": 60.0,
    "sensor_settle_s": 5.0,
    "sensor_tolerance_c": 3.0,
    "switch_report_s": 3.0,
    "switch_recovery_s": 30.0,
    "memory_repair_s": 1.0,
    "nv_repair_s": 15.0,
    "explain_after_s": 20.0,
}
EPS = 1e-3  # event times are CUC-quantized (1/65536 s)


class Index:
    """Events by name, and by (name, unit) for events about one unit."""

    def __init__(self, events: list[tuple[float, str, dict[str, Any]]]) -> None:
        self.events = events
        self.by_name: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        for t, name, args in events:
            self.by_name[name].append((t, args))

    def first(self, name: str, lo: float, hi: float, **match: Any) -> float | None:
        for t, args in self.by_name.get(name, []):
            if lo - EPS <= t <= hi + EPS and all(args.get(k) == v for k, v in match.items()):
                return t
        return None


def _params(rec: RunRecord, sc: Scenario) -> dict[str, float]:
    out = {p["name"]: float(p["default"]) for p in rec.dictionary.get("parameters", [])}
    for key, value in sc.params.items():
        out[str(key)] = float(value)
    return out


class Truth:
    """The world's platform series, looked up by time."""

    def __init__(self, truth: dict[str, Any]) -> None:
        names = list(truth.get("series_names", []))
        rows = np.asarray(truth.get("series", []), dtype=np.float64)
        self.cols = {n: i for i, n in enumerate(names)}
        self.rows = rows.reshape(-1, len(names)) if names else np.zeros((0, 0))

    def window(self, name: str, t: float, half_s: float) -> np.ndarray[Any, Any]:
        if not self.rows.size or name not in self.cols:
            return np.zeros(0)
        ts = self.rows[:, 0]
        keep = (ts >= t - half_s) & (ts <= t + half_s)
        out: np.ndarray[Any, Any] = self.rows[keep, self.cols[name]]
        return out

    def at(self, name: str, t: float) -> float | None:
        if not self.rows.size or name not in self.cols:
            return None
        i = int(np.searchsorted(self.rows[:, 0], t, side="right")) - 1
        return float(self.rows[max(i, 0), self.cols[name]])


def _kind_row() -> dict[str, Any]:
    return {
        "injected": 0,
        "not_effective": {},
        "effective": 0,
        "detected": 0,
        "recovered": 0,
        "isolated": 0,
        "censored": 0,
        "left_to_ground": 0,
        "latency_s": [],
        "recovery_s": [],
        "failed": [],
    }


def score(sc: Scenario, seed: int, rec: RunRecord) -> dict[str, Any]:
    """Every fault scored from truth, false alarms, isolation, lost work, checks."""
    s = _Scorer(sc, seed, rec)
    return s.result()


class _Scorer:
    def __init__(self, sc: Scenario, seed: int, rec: RunRecord) -> None:
        self.sc = sc
        self.seed = seed
        self.rec = rec
        self.summary = rec.summary
        self.truth = rec.summary.get("truth", {})
        self.world = Truth(self.truth)
        self.ix = Index(rec.events)
        self.p = _params(rec, sc)
        frames = max(1, int(self.summary.get("minor_frames", 1)))
        self.frame_s = float(self.summary.get("sim_seconds", frames)) / frames
        self.end_s = rec.start_s + float(self.summary.get("sim_seconds", sc.duration_s))
        self.log: list[dict[str, Any]] = list(self.truth.get("fault_log", []))
        self.switch_names: list[str] = list(self.truth.get("switch_names", []))
        self.board_switch: list[str] = list(self.truth.get("board_switch", []))
        self.kinds: dict[str, dict[str, Any]] = {}
        self.failures: list[str] = []
        self.cut_late: list[float] = []
        self.severity = {e["name"]: e["severity"] for e in rec.dictionary.get("events", [])}

    # --- per fault ---------------------------------------------------------------------
    def _fail(self, k: dict[str, Any], r: dict[str, Any], what: str) -> None:
        k["failed"].append(f"{r['kind']}@{r['t_s']:.3f} on {r['target']}: {what}")

    def _budget(self, r: dict[str, Any], seconds: float) -> tuple[float, bool]:
        """The deadline and whether the run ended before it (censored)."""
        due = float(r["t_s"]) + seconds
        return due, due > self.end_s

    def score_faults(self) -> None:
        for r in self.log:
            kind = str(r["kind"])
            k = self.kinds.setdefault(kind, _kind_row())
            k["injected"] += 1
            if kind == "switch_overcurrent" and r.get("effective") and not r.get("trips"):
                r = {**r, "effective": False, "reason": "did not trip"}
            if not r.get("effective"):
                said = r.get("reason")  # None or "" when the injector gave none
                reason = str(said) if said else "no effect"
                k["not_effective"][reason] = k["not_effective"].get(reason, 0) + 1
                continue
            k["effective"] += 1
            caught = kind == "silent_corruption" and r.get("caught", True)
            if kind in self.sc.left_to_ground and not caught:
                k["left_to_ground"] += 1
                if kind == "silent_corruption":
                    self.escapes_left += 1  # reported, not a failure: see the README
                continue
            if kind not in HANDLED:
                self._fail(k, r, "kind not handled by FDIR nor left to the ground")
                continue
            getattr(self, f"_score_{kind}")(k, r)

    def _detected(self, k: dict[str, Any], r: dict[str, Any], t: float | None, what: str) -> bool:
        if t is None:
            self._fail(k, r, f"not reported ({what})")
            return False
        k["detected"] += 1
        k["latency_s"].append(round(t - float(r["t_s"]), 3))
        return True

    def _recovered(self, k: dict[str, Any], r: dict[str, Any], t: float) -> None:
        k["recovered"] += 1
        k["recovery_s"].append(round(t - float(r["t_s"]), 3))

    def _board_fault(
        self, k: dict[str, Any], r: dict[str, Any], event: str, report_s: float, budget_s: float
    ) -> None:
        b, t0 = int(r["target"]), float(r["t_s"])
        seen = self.ix.first(event, t0, t0 + report_s, board=b)
        cleared = r.get("cleared_s")
        hang_s = self.p.get("fdir.hang_timeout_s", 2.5)
        if (
            seen is None
            and r["kind"] == "sefi"
            and r.get("cleared_by") == "power_off"
            and cleared is not None
            and float(cleared) < t0 + hang_s
        ):
            # Switched off (the payload's power management: a board with no more work)
            # before FDIR's hang timeout could run out: not FDIR's action, nothing left to
            # detect or recover. Counted apart.
            reason = "masked: board switched off before a hang could show"
            k["not_effective"][reason] = k["not_effective"].get(reason, 0) + 1
            k["effective"] -= 1
            return
        self._detected(k, r, seen, event)
        if r.get("damaged"):
            self._fail(k, r, "board damaged")
            return
        due, censored = self._budget(r, budget_s)
        if self._isolated_after(b, t0, due):
            k["isolated"] += 1
            if b not in self.expected_isolated:
                self._fail(k, r, "board isolated, not expected")
            return
        healthy = r.get("healthy_s")
        back = self.ix.first("fdir.BOARD_RECOVERED", t0, due, board=b)
        if healthy is not None and healthy <= due and back is not None:
            self._recovered(k, r, max(float(healthy), back))
        elif censored:
            k["censored"] += 1
        else:
            self._fail(k, r, f"not healthy and announced back within {budget_s:.0f} s")

    def _score_sel(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        cleared = r.get("cleared_s")
        if r.get("cleared_by") == "power_off" and cleared is not None:
            late = float(cleared) - float(r["t_s"])
            if late > self.frame_s + EPS:
                self.cut_late.append(round(late, 3))
                self._fail(k, r, f"latch-up current cut after {late:.3f} s, promise one frame")
        elif not r.get("damaged"):
            self._fail(k, r, "latch-up never cut")
        self._board_fault(
            k, r, "fdir.BOARD_LATCHUP", PROMISES["sel_report_s"], PROMISES["sel_recovery_s"]
        )

    def _score_sefi(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        report = self.p.get("fdir.hang_timeout_s", 3.0) + 2.0
        cleared = r.get("cleared_s")
        if r.get("cleared_by") == "power_off" and cleared is not None:
            # FDIR cut the board for another fault (a latch-up on the hung board) before
            # the hang could show: that action is the detection (and it cleared the hang)
            b, t0 = int(r["target"]), float(r["t_s"])
            for other in ("fdir.BOARD_LATCHUP", "fdir.BOARD_OVERTEMP"):
                t = self.ix.first(other, t0, float(cleared), board=b)
                if t is not None:
                    report = max(report, t - t0)
                    self._board_fault(k, r, other, report, PROMISES["sefi_recovery_s"])
                    return
        self._board_fault(k, r, "fdir.BOARD_HANG", report, PROMISES["sefi_recovery_s"])

    def _rolled_back(self, r: dict[str, Any]) -> float | None:
        t0 = float(r["t_s"])
        return self.ix.first(
            "payload.JOB_ROLLED_BACK", t0, t0 + PROMISES["rollback_s"], board=int(r["target"])
        )

    def _score_seu_uncorrectable(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        t0, b = float(r["t_s"]), int(r["target"])
        t = self.ix.first("fdir.UNCORRECTABLE_MEMORY", t0, t0 + PROMISES["unc_report_s"], board=b)
        self._detected(k, r, t, "UNCORRECTABLE_MEMORY")
        if not r.get("job_hit"):
            if t is not None:
                self._recovered(k, r, t)  # nothing computed on it: nothing to redo
            return
        self.job_hits += 1
        back = self._rolled_back(r)
        if back is None:
            self.corrupted += 1
            self._fail(k, r, "corrupted job not rolled back")
        else:
            self._recovered(k, r, back)

    def _score_silent_corruption(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        if not r.get("caught", True):
            self.corrupted += 1
            if "silent_corruption" not in self.sc.left_to_ground:
                self._fail(k, r, "corruption escaped every check (no redundant execution)")
            return
        self.job_hits += 1
        back = self._rolled_back(r)
        if self._detected(k, r, back, "JOB_ROLLED_BACK after a failed checksum") and back:
            self._recovered(k, r, back)
        else:
            self.corrupted += 1

    def _score_seu(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        t0 = float(r["t_s"])
        series = self.rec.hk.get("fdir.fdir.ecc_corrected", [])
        before = max((v for t, v in series if t <= t0), default=0.0)
        count = int(r.get("detail", {}).get("count", 1))
        seen = next((t for t, v in series if t0 < t <= t0 + 30.0 and v >= before + count), None)
        if seen is None and t0 + 30.0 > self.end_s:
            k["censored"] += 1
        else:
            self._detected(k, r, seen, "ecc_corrected in FDIR HK")
        due, censored = self._budget(r, self.p.get("fdir.scrub_period_s", 600.0) + 5.0)
        scrubbed = r.get("scrubbed_s")
        if scrubbed is not None and scrubbed <= due:
            self._recovered(k, r, float(scrubbed))
        elif censored:
            k["censored"] += 1
        else:
            self._fail(k, r, "latent flips not scrubbed within the scrub period")

    def _sensor(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        t0, i = float(r["t_s"]), int(r.get("sensor", -1))
        nodes = list(self.truth.get("sensor_nodes", []))
        zones = list(self.truth.get("heater_zones", []))
        t = self.ix.first("fdir.SENSOR_FAILED", t0, t0 + PROMISES["sensor_report_s"], sensor=i)
        if t is None and t0 + PROMISES["sensor_report_s"] > self.end_s:
            k["censored"] += 1
        else:
            self._detected(k, r, t, "SENSOR_FAILED")
        node = nodes[i] if 0 <= i < len(nodes) else ""
        points: list[tuple[str, int]] = []  # (HK point, its bit in zones_valid; -1: none)
        if node in zones:
            z = zones.index(node)
            points.append((f"thermal.thermal.zone{z}_c", z))
        if node == "battery":
            points.append(("fdir.fdir.battery_temp_c", -1))
        valid = dict(self.rec.hk.get("thermal.thermal.zones_valid", []))
        tol = PROMISES["sensor_tolerance_c"]
        start = t0 + PROMISES["sensor_settle_s"]
        worst = 0.0
        samples = 0
        for point, bit in points:
            for ts, v in self.rec.hk.get(point, []):
                true_c = self.world.at(f"{node}_c", ts)
                if bit >= 0 and not int(valid.get(ts, 0)) >> bit & 1:
                    continue  # no value in use: not a sample (none at all fails below)
                if ts >= start and true_c is not None:
                    worst = max(worst, abs(v - true_c)) if math.isfinite(v) else math.inf
                    samples += 1
        if points and not samples:
            names = ", ".join(p for p, _bit in points)
            self._fail(k, r, f"no telemetry of the value the apps use ({names})")
        elif worst > tol:
            self._fail(k, r, f"apps used a value {worst:.1f} C off the truth")
        else:
            self._recovered(k, r, t if t is not None else start)

    _score_sensor_stuck = _sensor
    _score_sensor_drift = _sensor

    def _score_switch_overcurrent(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        name = str(r["target"])
        i = self.switch_names.index(name) if name in self.switch_names else -1
        tripped = float(r.get("tripped_s", r["t_s"]))
        t = self.ix.first(
            "power.SWITCH_TRIPPED", tripped, tripped + PROMISES["switch_report_s"], switch=i
        )
        self._detected(k, r, t, "SWITCH_TRIPPED")
        if (
            name.startswith("payload")
            and self.ix.first(
                "fdir.SUPPLY_FAULT", tripped, tripped + PROMISES["switch_report_s"], switch=i
            )
            is None
        ):
            self._fail(k, r, "the board supply's fault not placed at the supply (SUPPLY_FAULT)")
        conducting = bool(self.truth.get("switches_conducting", {}).get(name, False))
        if name in self.expected_switches:
            if (
                conducting
                or self.ix.first("power.SWITCH_ISOLATED", tripped, self.end_s, switch=i) is None
            ):
                self._fail(k, r, "switch not isolated as expected")
            else:
                k["isolated"] += 1
            return
        restored = r.get("restored_s")
        due, censored = self._budget(r, PROMISES["switch_recovery_s"])
        if conducting and restored is not None and restored <= due:
            self._recovered(k, r, float(restored))
        elif censored:
            k["censored"] += 1
        else:
            self._fail(k, r, "switch not conducting again in time")

    def _score_memory_upset(self, k: dict[str, Any], r: dict[str, Any]) -> None:
        t0 = float(r["t_s"])
        region = str(r.get("region", r["target"]))
        names = {
            "params": "fdir.PARAM_REPAIRED",
            "fdir.table": "fdir.TABLE_REPAIRED",
            "nv": "fdir.STATE_REPAIRED",
        }
        budget = PROMISES["nv_repair_s"] if region == "nv" else PROMISES["memory_repair_s"]
        t = self.ix.first(names.get(region, "fdir.TABLE_REPAIRED"), t0, t0 + budget + 1.0)
        self._detected(k, r, t, names.get(region, "repair event"))
        repaired = r.get("repaired_s")
        due, censored = self._budget(r, budget)
        if repaired is not None and repaired <= due + EPS:
            self._recovered(k, r, float(repaired))
        elif censored:
            k["censored"] += 1
        else:
            self._fail(k, r, f"memory not repaired within {budget:.0f} s")

    # --- isolation -------------------------------------------------------------------------
    def _resolve(self, items: list[Any]) -> set[Any]:
        out: set[Any] = set()
        for item in items:
            if isinstance(item, str) and item.startswith("@label:"):
                label = item.removeprefix("@label:")
                out |= {r["target"] for r in self.log if r.get("label") == label}
            else:
                out.add(item)
        return out

    def _isolated_after(self, b: int, t0: float, until: float) -> bool:
        return self.ix.first("fdir.BOARD_ISOLATED", t0, until, board=b) is not None

    # --- false alarms ------------------------------------------------------------------------
    def _window(self, r: dict[str, Any]) -> tuple[float, float]:
        t0 = float(r["t_s"])
        ends = [
            float(r[key])
            for key in ("cleared_s", "healthy_s", "working_s", "restored_s", "repaired_s")
            if r.get(key) is not None
        ]
        kind = r["kind"]
        unresolved = kind in ("sel", "sefi", "switch_overcurrent") and (
            r.get("working_s", r.get("restored_s")) is None
        )
        lasting = kind in ("sensor_stuck", "sensor_drift", "heater_stuck")
        end = self.end_s if unresolved or lasting or r.get("damaged") else max([t0 + 10.0, *ends])
        return t0 - EPS, end + PROMISES["explain_after_s"]

    def _explained_by_fault(self, kinds: set[str], t: float, **unit: Any) -> bool:
        for r in self.log:
            if not r.get("effective") or str(r["kind"]) not in kinds:
                continue
            lo, hi = self._window(r)
            if not lo <= t <= hi:
                continue
            if "board" in unit:
                b = unit["board"]
                if r["kind"] == "switch_overcurrent":
                    if 0 <= b < len(self.board_switch) and self.board_switch[b] == r["target"]:
                        return True
                elif r["target"] == b:
                    return True
            elif "sensor" in unit and r.get("sensor") == unit["sensor"]:
                return True
            elif "switch" in unit:
                i = unit["switch"]
                if 0 <= i < len(self.switch_names) and self.switch_names[i] == r["target"]:
                    return True
            elif "region" in unit and r["kind"] == "memory_upset":
                return True
        return False

    def _explained(self, t: float, name: str, a: dict[str, Any]) -> bool:
        p, w = self.p, self.world
        if name == "fdir.BOOT":
            return t < self.rec.start_s + 1.0
        if name in BOARD_EVENTS:
            return self._explained_by_fault(BOARD_EVENTS[name], t, board=a.get("board"))
        if name in ("fdir.BOARD_OVERTEMP", "thermal.BOARD_OVER_LIMIT"):
            limit = p.get("fdir.board_off_c" if "OVERTEMP" in name else "thermal.board_limit_c")
            hot = self.truth.get("board_temp_max_c", [])
            b = int(a.get("board", -1))
            return 0 <= b < len(hot) and hot[b] >= (limit or 100.0) - 2.0
        if name in ("fdir.SENSOR_FAILED", "thermal.SENSOR_INVALID"):
            return self._explained_by_fault(
                {"sensor_stuck", "sensor_drift"}, t, sensor=a.get("sensor")
            )
        if name in (
            "power.SWITCH_TRIPPED",
            "power.SWITCH_RETRY",
            "power.SWITCH_ISOLATED",
            "fdir.SUPPLY_FAULT",
        ):
            return self._explained_by_fault({"switch_overcurrent"}, t, switch=a.get("switch"))
        if name in ("fdir.TABLE_REPAIRED", "fdir.PARAM_REPAIRED", "fdir.STATE_REPAIRED"):
            return self._explained_by_fault({"memory_upset"}, t, region=True)
        if name == "fdir.HEALTH_CHANGED":
            return self._health_explained(t, a)
        if name == "thermal.ZONE_LIMIT":
            zones = list(self.truth.get("heater_zones", []))
            z = int(a.get("zone", -1))
            if not 0 <= z < len(zones):
                return False
            temps = w.window(f"{zones[z]}_c", t, 5.0)
            lo, hi = p.get("thermal.zone_min_c", -10.0), p.get("thermal.zone_max_c", 50.0)
            return bool(temps.size) and bool(((temps < lo + 2.0) | (temps > hi - 2.0)).any())
        if name == "fdir.SAFE_MODE_ENTERED":
            if self.sc.expect.get("safe_mode"):
                return True
            soc = w.window("soc", t, 5.0)
            bat = w.window("battery_c", t, 5.0)
            return bool(
                (soc.size and soc.min() < p.get("fdir.safe_mode_soc", 0.12) + 0.02)
                or (bat.size and bat.max() > p.get("fdir.battery_safe_c", 55.0) - 2.0)
            )
        if name == "power.SHED_LEVEL_CHANGED":
            old, new = int(a.get("old", 0)), int(a.get("new", 0))
            if new <= old or self._safe_before(t):
                return True
            soc = w.window("soc", t, 5.0)
            threshold = p.get(f"power.shed{new}_soc", 0.0)
            return bool(soc.size) and soc.min() < threshold + 0.03
        if name == "power.UNDERVOLTAGE":
            v = w.window("bus_v", t, 5.0)
            return bool(v.size) and v.min() < p.get("power.undervoltage_v", 0.0) + 5.0
        return False

    def _safe_before(self, t: float) -> bool:
        return self.ix.first("fdir.SAFE_MODE_ENTERED", 0.0, t) is not None

    def _health_explained(self, t: float, a: dict[str, Any]) -> bool:
        if int(a.get("health", HEALTHY)) == HEALTHY:
            return True
        kind, unit = int(a.get("kind", -1)), int(a.get("unit", -1))
        if kind == 0:  # board
            return self._explained_by_fault(
                BOARD_EVENTS["payload.JOB_ROLLED_BACK"] | {"seu_uncorrectable"}, t, board=unit
            )
        if kind == 1:  # switch
            return self._explained_by_fault({"switch_overcurrent"}, t, switch=unit)
        if kind == 2:  # sensor
            return self._explained_by_fault({"sensor_stuck", "sensor_drift"}, t, sensor=unit)
        return False

    def false_alarms(self) -> list[dict[str, Any]]:
        """Every fault-signalling event no injected fault explains. (On the simulated
        clock nothing measured on the host becomes an event, so an overrun is one too.)"""
        alarms: list[dict[str, Any]] = []
        for t, name, a in self.rec.events:
            quiet = name in OPERATIONAL or self.severity.get(name, "HIGH") == "INFO"
            if quiet and name != "fdir.HEALTH_CHANGED":
                continue
            if name == "payload.JOB_FAILED":
                continue  # lost work, counted there
            if not self._explained(t, name, a):
                alarms.append({"t_s": round(t, 3), "event": name, "args": a})
        return alarms

    # --- lost work -----------------------------------------------------------------------------
    def lost_work(self) -> dict[str, Any]:
        rec = self.rec
        failed_codes = {r: c for _t, s, r, c in rec.verification if c is not None}
        completed = {r for _t, s, r, c in rec.verification if s == 7}
        status = [
            (t, a)
            for t, a in self.ix.by_name.get("payload.JOB_STATUS", [])
            if int(a.get("state", -1)) == 0
        ]
        done = {int(a["job"]): t for t, a in self.ix.by_name.get("payload.JOB_DONE", [])}
        jobs_by_id: dict[int, tuple[Job, float]] = {}
        rejected = 0
        queue = iter(status)
        k = 0
        for _t, req, n in rec.tcs:
            batch = rec.jobs[k : k + n]
            k += n
            if req in failed_codes or req not in completed:
                rejected += n
                continue
            got = next(queue, None)
            if got is None:
                rejected += n
                continue
            t_exec, args = got
            for j, job in enumerate(batch):
                jobs_by_id[int(args["job"]) + j] = (job, t_exec)
        late: list[int] = []
        delivered_work = 0.0
        for jid, (job, t_exec) in jobs_by_id.items():
            t_done = done.get(jid)
            if t_done is not None:
                delivered_work += job.work_s
            if t_done is None or t_done > t_exec + job.deadline_s + EPS:
                late.append(jid)
        work = float(self.truth.get("work_done", 0.0))
        ckpt = self.sc.jobs.checkpoint_s
        allowed = self.job_hits * (ckpt + 2.0) + 1.5 * len(done) + 1.0
        redone = work - delivered_work
        return {
            "jobs": len(rec.jobs),
            "jobs_delivered": len(jobs_by_id) - len(late),
            "rejected_submissions": rejected,
            "failed_jobs": len(late),
            "corrupted_results": self.corrupted,
            "work_done_s": round(work, 1),
            "work_delivered_s": round(delivered_work, 1),
            "work_redone_s": round(redone, 1),
            "work_redone_allowed_s": round(allowed, 1),
            "lost_jobs": rejected + len(late) + self.corrupted,
            "corrupted_left_to_ground": self.escapes_left,
        }

    def _count_job_hits(self) -> None:
        """Faults that forced a computing board's job back (each may cost one interval)."""
        for r in self.log:
            if not r.get("effective"):
                continue
            kind = str(r["kind"])
            if kind in ("sel", "sefi") and str(r.get("state", "")).startswith("working"):
                self.job_hits += 1
            elif kind == "switch_overcurrent" and r.get("trips"):
                self.job_hits += sum(1 for s in self.board_switch if s == r["target"])

    # --- result --------------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        sc = self.sc
        self.job_hits = 0
        self.corrupted = 0
        self.escapes_left = 0
        self.expected_isolated = self._resolve(list(sc.expect.get("isolated", [])))
        self.expected_switches = self._resolve(list(sc.expect.get("isolated_switches", [])))
        self._count_job_hits()
        self.score_faults()
        alarms = self.false_alarms()
        lost = self.lost_work()
        isolated = sorted(
            {int(a["board"]) for _t, a in self.ix.by_name.get("fdir.BOARD_ISOLATED", [])}
        )
        powered_end = set(self.truth.get("powered_at_end", []))
        safe = self.ix.first("fdir.SAFE_MODE_ENTERED", 0.0, self.end_s) is not None
        unhandled = [f for k in self.kinds.values() for f in k["failed"]]
        must_act = set(sc.expect.get("effective", []))
        idle = sorted(
            {
                f"{r['kind']}@{r['t_s']}: {r.get('reason')}"
                for r in self.log
                if r["kind"] in must_act and r["source"] == "schedule" and not r.get("effective")
            }
        )
        checks = {
            "every_fault_scored": self.truth.get("fault_log_dropped", 0) == 0,
            "scheduled_faults_took_effect": not idle,
            "every_kind_handled": not any("kind not handled" in f for f in unhandled),
            "all_detected": all(
                not any("not reported" in f for f in k["failed"]) for k in self.kinds.values()
            ),
            "all_recovered": not any(
                "not reported" not in f and "kind not handled" not in f for f in unhandled
            ),
            "latchups_cut_within_a_frame": not self.cut_late,
            "no_false_alarms": not alarms,
            "isolated_as_expected": set(isolated) == {int(b) for b in self.expected_isolated}
            and not (set(isolated) & powered_end),
            "safe_mode_as_expected": safe == bool(sc.expect.get("safe_mode", False)),
            "no_board_damaged": self.truth.get("boards_damaged", 0) == 0,
            "no_lost_work": lost["lost_jobs"] == 0
            and lost["work_redone_s"] <= lost["work_redone_allowed_s"],
            "no_tm_lost": self.summary.get("tm_dropped", 0) == 0,
        }
        return {
            "scenario": sc.name,
            "seed": self.seed,
            "passed": all(checks.values()),
            "checks": checks,
            "kinds": self.kinds,
            "failures": (unhandled + [f"not effective: {x}" for x in idle])[:50],
            "false_alarms": len(alarms),
            "false_alarm_events": alarms[:20],
            "isolated": isolated,
            "safe_mode": safe,
            "lost": lost,
            "latchup_cut_late_s": self.cut_late,
            "faults_drawn": [
                {"t_s": f.t_s, "kind": f.kind.value, "target": f.target} for f in self.rec.faults
            ],
            # what the world made of the scheduled faults: the unit each struck and the
            # state it was in (a seed varies these too, not only the times)
            "struck": [
                {
                    "kind": str(r["kind"]),
                    "target": r["target"],
                    "state": str(r.get("state", "")),
                    "effective": bool(r.get("effective")),
                }
                for r in self.log
                if r.get("source") == "schedule"
            ],
            "orbits": round((self.end_s - self.rec.start_s) / self.rec.orbit_s, 4),
            "silent_escapes": self.truth.get("silent_escapes", 0),
            "tm_dropped": self.summary.get("tm_dropped", 0),
            "wall_seconds": self.summary.get("host_profile", {}).get("wall_seconds"),
        }
