"""Temperature sensors: vote redundant ones, declare the bad ones failed.

Sensors are grouped by the name before ``_`` (``battery_a``/``battery_b`` measure one
zone); the battery group also gets the battery's own sensor. Each group has a
:class:`flightsw.apps.shared.sensor_vote.ZoneVoter`; a sensor is declared failed when its
voter has found it suspect (implausibly fast change, out of line with its partners,
unusable) for ``fail_after`` samples in a row, or when it is stuck: its reading frozen
to the bit for ``stuck_samples`` samples while a redundant partner of its group (a
usable sensor, or the battery's own sensor) kept moving through most of that time. A
reading that is merely constant is not a failure by itself: a zone can sit still (a
bench emulator's avionics plate, a quantizing converter at equilibrium), and a sensor
with no partner cannot be told from a still zone. The battery temperature FDIR acts on
is the battery group's vote, never one sensor.
"""

from __future__ import annotations

import math

from flightsw.apps.shared.sensor_vote import ZoneVoter

FAST_ZONES = ("coldplate", "radiator", "structure")  # can change by degrees a second
FAST_RATE_C_S = 2.0


class SensorFdir:
    """Groups, voters and the failed set for ``names`` (one reading each per sample)."""

    def __init__(self, names: tuple[str, ...], with_bms: bool, stuck_samples: int) -> None:
        self.names = names
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            groups.setdefault(n.split("_")[0], []).append(i)
        self.groups = groups
        self.bms_group = "battery" if with_bms and "battery" in groups else ""
        self.voters = {
            g: ZoneVoter(
                len(idx) + (1 if g == self.bms_group else 0),
                max_rate_c_s=FAST_RATE_C_S if g in FAST_ZONES else 0.05,
            )
            for g, idx in groups.items()
        }
        self.stuck_samples = stuck_samples
        # Stuck detection: per source (the sensors, then the battery's own sensor) the
        # last reading, samples frozen in a row, samples it moved in (cumulative), and
        # per sensor the partners' move counts when its freeze began. Plain lists: a
        # handful of sources, where each numpy call would cost more than the loop.
        sources = len(names) + 1
        self._last: list[float] = [math.nan] * sources
        self._frozen: list[int] = [0] * sources
        self._moves: list[int] = [0] * sources
        # (rows are replaced whole, never changed in place, so they may be shared)
        self._moves_at_freeze: list[list[int]] = [[0] * sources for _ in range(sources)]
        self._partners = [
            [k for k in groups[name.split("_")[0]] if k != i]
            + ([len(names)] if name.split("_")[0] == self.bms_group else [])
            for i, name in enumerate(names)
        ]
        # Per group, in the groups' order: its voter, its sensors, whether the battery's
        # own sensor is its last source (the loop of :meth:`update` without dict look-ups)
        self._plan = [(self.voters[g], idx, g == self.bms_group) for g, idx in groups.items()]
        self.failed: set[int] = set()
        self.external: set[int] = set()  # under ground control: never declared failed here

    def battery_c(self) -> float:
        v = self.voters.get("battery")
        return v.value if v is not None and not math.isnan(v.value) else -273.0

    def update(self, values: list[float], bms_c: float, fail_after: int, stuck_n: int) -> list[int]:
        """One sample of every sensor; the sensors newly declared failed.

        With no sensor failed every reading is usable: the voters get ``usable=None``,
        which they read as all True (the same votes, without building the list). A voter
        is asked which sources are failing only when one of them has been suspect or
        unusable ``fail_after`` samples (``failing`` lists exactly those)."""
        newly: list[int] = []
        stuck = self._stuck([*values, bms_c], stuck_n)
        failed = self.failed
        for voter, idx, with_bms in self._plan:
            voter.fail_after = fail_after
            readings = [values[i] for i in idx]
            usable = [i not in failed for i in idx] if failed else None
            if with_bms:
                readings.append(bms_c)
                if usable is not None:
                    usable.append(True)
            voter.update(readings, usable)
            if max(voter.suspect_for) >= fail_after:
                for k in voter.failing():
                    if k < len(idx) and idx[k] not in failed:
                        newly.append(idx[k])
        if not newly and not stuck:
            return newly
        newly += [i for i in stuck if i not in failed]
        out = sorted({i for i in newly if i not in self.external})
        failed.update(out)
        return out

    def _stuck(self, now: list[float], stuck_n: int) -> list[int]:
        """Sensors frozen for ``stuck_n`` samples while a partner moved in at least half
        of them (the last entry of ``now`` is the battery's own sensor).

        A reading equal to the last one (both finite) extends a freeze; one that differs
        from a finite last reading is a move; a non-finite one is neither. When a freeze
        begins, the move counts of all sources as they stood before this sample are
        noted for it."""
        last, frozen, moves = self._last, self._frozen, self._moves
        before = moves.copy()  # the counts before this sample's moves
        for k, v in enumerate(now):
            if not math.isfinite(v):
                frozen[k] = 0
            elif v == last[k]:
                if not frozen[k]:
                    self._moves_at_freeze[k] = before
                frozen[k] += 1
            else:
                frozen[k] = 0
                if math.isfinite(last[k]):
                    moves[k] += 1
        self._last = [float(v) for v in now]
        if max(frozen) < stuck_n:  # (no source frozen long enough: the usual sample)
            return []
        out = []
        for i in range(len(self.names)):
            held = frozen[i]
            if held < stuck_n:
                continue
            partners = [k for k in self._partners[i] if k not in self.failed]
            at = self._moves_at_freeze[i]
            if partners and 2 * max(moves[k] - at[k] for k in partners) >= held:
                out.append(i)
        return out
