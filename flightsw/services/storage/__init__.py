"""On-board storage and retrieval (PUS service 15, open-retrieval subset).

A mission names it as
``flightsw.services.storage:PacketStoreService``;
the service is in ``app``."""

from flightsw.services.storage.app import PacketStoreService

__all__ = ["PacketStoreService"]
