"""Housekeeping (PUS service 3): periodic reports built from declared telemetry points.

A mission names it as
``flightsw.services.housekeeping:HousekeepingService``;
the service is in ``app``."""

from flightsw.services.housekeeping.app import HousekeepingService

__all__ = ["HousekeepingService"]
