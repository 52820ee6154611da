"""FDIR's triplicate voting store now lives in the framework (:mod:`flightsw.store.voting`).

The SDLS anti-replay state needs the same voted NV storage and flightsw must not import
fdir, so the store moved down a layer; this name is kept for FDIR's existing imports.
"""

from flightsw.store.voting import COPIES, Store, VotingStore

__all__ = ["COPIES", "Store", "VotingStore"]
