"""PUS service 11, time-based scheduling: TCs stored on board and released at a time.

A mission names it as
``flightsw.services.scheduling:SchedulingService``;
the service is in ``app``."""

from flightsw.services.scheduling.app import SchedulingService

__all__ = ["SchedulingService"]
