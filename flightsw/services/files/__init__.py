"""File management: PUS-23 segments for small files, CCSDS CFDP for the rest, one store.

A mission names it as
``flightsw.services.files:FileService``;
the service is in ``app``."""

from flightsw.services.files.app import FileService

__all__ = ["FileService"]
