"""Device failures as data, not crashes: what an app does when a HAL call fails.

On a bench a device can answer late, garbage or not at all; the HAL then raises the
project's own error (a timeout, a NAK). An app's step that hits one is abandoned for
this cycle, the failure counted in the app's ``device_errors`` point and reported
(the first, then every hundredth) as a DEVICE_ERROR event; the app keeps its state and
tries again next cycle, instead of being restarted by the executive and losing it.
"""

from __future__ import annotations

from flightsw.base.errors import FlightswError
from flightsw.framework.app import Arg, EventDef, Severity, TelemetryDef

DEVICE_ERROR_EVENT_ID = 90
DEVICE_ERRORS = TelemetryDef("device_errors", "u32", "", "HAL calls that failed")
DEVICE_ERROR = EventDef(
    DEVICE_ERROR_EVENT_ID,
    "DEVICE_ERROR",
    Severity.LOW,
    (Arg("count", "u32"),),
    "a device did not answer or refused ({count} so far)",
)
REPORT_EVERY = 100


class DeviceGuard:
    """Mixin for apps: call :meth:`guarded` with the body of ``step``."""

    device_errors = 0

    def guarded(self, body: object, now_ns: int) -> None:
        try:
            body(now_ns)  # type: ignore[operator]
        except FlightswError:
            self.device_error()

    def device_error(self) -> None:
        """Count (and report) one failed HAL call the app absorbed."""
        self.device_errors += 1
        n = self.device_errors
        self.tlm["device_errors"] = n  # type: ignore[attr-defined]
        if n == 1 or n % REPORT_EVERY == 0:
            self.emit("DEVICE_ERROR", count=n)  # type: ignore[attr-defined]
