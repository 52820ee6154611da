"""On-board monitoring (PUS service 12): checks on any telemetry point, from a table.

A mission names it as
``flightsw.services.monitoring:MonitoringService``;
the service is in ``app``."""

from flightsw.services.monitoring.app import MonitoringService

__all__ = ["MonitoringService"]
