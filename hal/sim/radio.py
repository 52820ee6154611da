"""The simulated RF link: both ends of it, with contacts, data rates, bit errors and delay.

The flight end satisfies ``hal.interfaces.Radio``. The ground end is what an in-process
ground station (``flightsw.ground.station``) talks to. Contact windows come from the
simulated orbit and the ground-station list (sim_hw.environment); out of contact nothing
gets through and what the flight side transmits is lost (counted). Inside a pass each
direction delivers at its data rate after a fixed propagation delay, with bits flipped
at the configured error rate. Queues in both directions are bounded.
"""

from __future__ import annotations

import bisect
from collections import deque

import numpy as np

from hal.interfaces import RadioStatus
from sim_hw.environment import DEFAULT_STATIONS, contact_windows
from sim_hw.radio_link import BitErrorChannel
from sim_hw.spacecraft import Spacecraft

CONTACT_HORIZON_S = 86_400.0


class SimRfLink:
    """Contacts, rates, delay and errors between the spacecraft and the ground network."""

    def __init__(
        self,
        sc: Spacecraft,
        rng: np.random.Generator,
        downlink_bps: float = 2_000_000.0,
        uplink_bps: float = 64_000.0,
        ber_down: float = 1e-7,
        ber_up: float = 1e-7,
        delay_s: float = 0.01,
        queue_limit: int = 4096,
        always_in_contact: bool = False,
    ) -> None:
        self.sc = sc
        self.channel = BitErrorChannel(rng)
        self.downlink_bps = downlink_bps
        self.uplink_bps = uplink_bps
        self.ber_down = ber_down
        self.ber_up = ber_up
        self.delay_s = delay_s
        self.queue_limit = queue_limit
        self.always_in_contact = always_in_contact
        self._windows_until = -1.0
        self._starts: list[float] = []
        self._ends: list[float] = []
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
            t1 = t + CONTACT_HORIZON_S
            wins = contact_windows(self.sc.orbit, DEFAULT_STATIONS, t, t1)
            merged: list[tuple[float, float]] = []
            for w in sorted(wins, key=lambda w: w.start_s):
                if merged and w.start_s <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], w.end_s))
                else:
                    merged.append((w.start_s, w.end_s))
            self._starts = [a for a, _ in merged]
            self._ends = [b for _, b in merged]
            self._windows_until = t1
        i = bisect.bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

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
        else:
            self._up_free_at = done
        corrupted, flips = self.channel.corrupt(data, self.ber_down if down else self.ber_up)
        self.bits_flipped += flips
        queue.append((done + self.delay_s, corrupted))
        return True

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

    def status(self) -> RadioStatus:
        link = self._link
        return RadioStatus(
            in_contact=link.in_contact() and link.sc.radio_available(),
            downlink_bps=link.downlink_bps,
            uplink_bps=link.uplink_bps,
            tx_dropped=self.tx_dropped,
            rx_errors=self.rx_errors,
        )


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
