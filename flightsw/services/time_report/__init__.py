"""Time management (PUS service 9): periodic on-board time reports.

A mission names it as
``flightsw.services.time_report:TimeService``;
the service is in ``app``."""

from flightsw.services.time_report.app import TimeService

__all__ = ["TimeService"]
