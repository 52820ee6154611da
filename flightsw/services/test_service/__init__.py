"""Test (PUS service 17): are-you-alive and on-board connection tests.

A mission names it as
``flightsw.services.test_service:TestService``;
the service is in ``app``."""

from flightsw.services.test_service.app import TestService

__all__ = ["TestService"]
