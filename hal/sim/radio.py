"""The simulated RF link: both ends of it, with contacts, data rates, bit errors and delay.

The flight end satisfies ``hal.interfaces.Radio``. The ground end is what an in-process
ground station (``flightsw.ground.station``) talks to. Contact windows come from the
simulated orbit and the mission's ground stations (sim_hw.environment); out of contact
nothing gets through and what the flight side transmits is lost (counted). Inside a pass
the ground network works through the station that sees the node highest: the slant range
to it gives the propagation delay, and the link budget (sim_hw.radio_link) turns the
range into Eb/N0 and a bit error rate at each direction's fixed data rate. A mission may
pin the error rates or the delay instead (``ber_down``, ``ber_up``, ``delay_s``). Queues
in both directions are bounded.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from hal.interfaces import RadioStatus
from sim_hw.environment import (
    DEFAULT_STATIONS,
    GroundStation,
    contact_windows,
    contacts_by_station,
    station_position_eci_km,
)
from sim_hw.radio_link import (
    DEFAULT_DOWNLINK,
    DEFAULT_UPLINK,
    BitErrorChannel,
    LinkBudget,
    propagation_delay_s,
)
from sim_hw.spacecraft import Spacecraft

CONTACT_HORIZON_S = 86_400.0


@dataclasses.dataclass(frozen=True)
class LinkState:
    """The link at one instant: which station, how far, and what that does to the bits."""

    station: str | None
    range_km: float
    delay_s: float
    ber_down: float
    ber_up: float


class SimRfLink:
    """Contacts, rates, delay and errors between the spacecraft and the ground network."""

    def __init__(
        self,
        sc: Spacecraft,
        rng: np.random.Generator,
        downlink_bps: float = 2_000_000.0,
        uplink_bps: float = 64_000.0,
        ber_down: float | None = None,
        ber_up: float | None = None,
        delay_s: float | None = None,
        queue_limit: int = 4096,
        always_in_contact: bool = False,
        stations: Sequence[GroundStation] = DEFAULT_STATIONS,
        downlink: LinkBudget = DEFAULT_DOWNLINK,
        uplink: LinkBudget = DEFAULT_UPLINK,
    ) -> None:
        for name, value in (("downlink_bps", downlink_bps), ("uplink_bps", uplink_bps)):
            if not np.isfinite(value) or value <= 0.0:
                raise ValueError(f"{name} must be positive")
        for name, ber in (("ber_down", ber_down), ("ber_up", ber_up)):
            if ber is not None and not 0.0 <= ber <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if delay_s is not None and not 0.0 <= delay_s < 10.0:
            raise ValueError("delay_s must be within [0, 10)")
        if not stations:
            raise ValueError("at least one ground station is needed")
        self.sc = sc
        self.channel = BitErrorChannel(rng)
        self.downlink_bps = downlink_bps
        self.uplink_bps = uplink_bps
        self.ber_down = ber_down
        self.ber_up = ber_up
        self.delay_s = delay_s
        self.queue_limit = queue_limit
        self.always_in_contact = always_in_contact
        self.stations = tuple(stations)
        # The budgets at the radio's own rates: the errors are what those rates imply.
        self.downlink = dataclasses.replace(downlink, data_rate_bps=downlink_bps)
        self.uplink = dataclasses.replace(uplink, data_rate_bps=uplink_bps)
        self._windows_until = -1.0
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._station_windows: list[tuple[GroundStation, list[float], list[float]]] = []
        self._state: tuple[float, LinkState] | None = None
        self.bits_down = 0
        self.bits_up = 0
        # The first day of contacts now, while the HAL is built, not in an app's step.
        self._compute_windows(sc.t_s)
        self._down: deque[tuple[float, bytes]] = deque()  # (arrival time, data)
        self._up: deque[tuple[float, bytes]] = deque()
        self._down_free_at = 0.0
        self._up_free_at = 0.0
        self.lost_out_of_contact = 0
        self.dropped_queue_full = 0
        self.bits_flipped = 0
        self.flight = SimRadio(self)
        self.ground = GroundEnd(self)

    def in_contact(self, t_s: float | None = None) -> bool:
        t = self.sc.t_s if t_s is None else t_s
        if self.always_in_contact:
            return True
        if t >= self._windows_until:
            self._compute_windows(t)
        i = bisect.bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    def _compute_windows(self, t: float) -> None:
        t1 = t + CONTACT_HORIZON_S
        wins = contact_windows(self.sc.orbit, self.stations, t, t1)
        merged: list[tuple[float, float]] = []
        for w in sorted(wins, key=lambda w: w.start_s):
            if merged and w.start_s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], w.end_s))
            else:
                merged.append((w.start_s, w.end_s))
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]
        self._station_windows = [
            (
                st,
                [w.start_s for w in wins if w.station == st.name],
                [w.end_s for w in wins if w.station == st.name],
            )
            for st in self.stations
        ]
        self._windows_until = t1

    def link_state(self, t_s: float | None = None) -> LinkState:
        """Station, slant range, delay and bit error rates now (or at ``t_s`` inside the
        contact horizon). Out of contact: no station, the rates of the nearest visible
        geometry do not matter (nothing is sent)."""
        t = self.sc.t_s if t_s is None else t_s
        cached = self._state
        if cached is not None and cached[0] == t:
            return cached[1]
        if t >= self._windows_until:
            self._compute_windows(t)
        best: tuple[float, str] | None = None
        orbit = self.sc.orbit
        for st, starts, ends in self._station_windows:
            i = bisect.bisect_right(starts, t) - 1
            if i >= 0 and t <= ends[i]:
                rng_km = float(
                    np.linalg.norm(orbit.position_eci_km(t) - station_position_eci_km(st, orbit, t))
                )
                if best is None or rng_km < best[0]:
                    best = (rng_km, st.name)
        if best is None:  # no station above its mask: zenith geometry (always_in_contact)
            best = (orbit.altitude_km, "")
        rng_km, name = best
        state = LinkState(
            station=name or None,
            range_km=rng_km,
            delay_s=propagation_delay_s(rng_km) if self.delay_s is None else self.delay_s,
            ber_down=self.downlink.ber(rng_km) if self.ber_down is None else self.ber_down,
            ber_up=self.uplink.ber(rng_km) if self.ber_up is None else self.ber_up,
        )
        self._state = (t, state)
        return state

    def transmit(self, queue: deque[tuple[float, bytes]], data: bytes, down: bool) -> bool:
        now = self.sc.t_s
        if not self.in_contact(now):
            self.lost_out_of_contact += 1
            return False
        if len(queue) >= self.queue_limit:
            self.dropped_queue_full += 1
            return False
        rate = self.downlink_bps if down else self.uplink_bps
        start = max(now, self._down_free_at if down else self._up_free_at)
        done = start + 8 * len(data) / rate
        if down:
            self._down_free_at = done
            self.bits_down += 8 * len(data)
        else:
            self._up_free_at = done
            self.bits_up += 8 * len(data)
        state = self.link_state(now)
        corrupted, flips = self.channel.corrupt(data, state.ber_down if down else state.ber_up)
        self.bits_flipped += flips
        queue.append((done + state.delay_s, corrupted))
        return True

    def contact_summary(self, t0_s: float, t1_s: float) -> dict[str, dict[str, float]]:
        """Passes and minutes above the mask per station within [t0, t1]."""
        return contacts_by_station(self.sc.orbit, self.stations, t0_s, t1_s)

    def stats(self) -> dict[str, Any]:
        """What the RF link did: bits each way, bits flipped, what it could not carry."""
        return {
            "bits_down": self.bits_down,
            "bits_up": self.bits_up,
            "bits_flipped": self.bits_flipped,
            "lost_out_of_contact": self.lost_out_of_contact,
            "dropped_queue_full": self.dropped_queue_full,
        }

    def arrived(self, queue: deque[tuple[float, bytes]]) -> list[bytes]:
        now = self.sc.t_s
        out = []
        while queue and queue[0][0] <= now:
            out.append(queue.popleft()[1])
        return out


class SimRadio:
    """The flight end: ``hal.interfaces.Radio``."""

    simulated = True  # no path to the outside world (a published test key is harmless)

    def __init__(self, link: SimRfLink) -> None:
        self._link = link
        self.tx_dropped = 0
        self.rx_errors = 0
        self._status: tuple[tuple[bool, float, float, int, int], RadioStatus] | None = None

    def send(self, data: bytes) -> bool:
        link = self._link
        if not link.sc.radio_available():
            self.tx_dropped += 1
            return False
        ok = link.transmit(link._down, data, down=True)
        self.tx_dropped += not ok
        return ok

    def receive(self) -> list[bytes]:
        if not self._link.sc.radio_available():
            return []
        return self._link.arrived(self._link._up)

    def rx_pending(self) -> bool:
        """Whether anything is on its way up (sent by the ground, not yet received): when
        not, :meth:`receive` returns nothing until the ground sends again (a link user may
        then skip its receive step)."""
        return bool(self._link._up)

    def status(self) -> RadioStatus:
        """The radio's status now; the same (immutable) object while nothing in it
        changed, as comms and files ask every minor frame."""
        link = self._link
        key = (
            link.in_contact() and link.sc.radio_available(),
            link.downlink_bps,
            link.uplink_bps,
            self.tx_dropped,
            self.rx_errors,
        )
        cached = self._status
        if cached is not None and cached[0] == key:
            return cached[1]
        status = RadioStatus(*key)
        self._status = (key, status)
        return status


class GroundEnd:
    """The ground network's end of the simulated link."""

    def __init__(self, link: SimRfLink) -> None:
        self._link = link

    def send(self, data: bytes) -> bool:
        return self._link.transmit(self._link._up, data, down=False)

    def receive(self) -> list[bytes]:
        return self._link.arrived(self._link._down)

    def in_contact(self) -> bool:
        return self._link.in_contact()
