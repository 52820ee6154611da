"""Table management (after cFS TBL; private PUS service 140): load, validate, activate.

A mission names it as
``flightsw.services.tables:TableService``;
the service is in ``app``."""

from flightsw.services.tables.app import TableService

__all__ = ["TableService"]
