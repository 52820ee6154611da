"""CCSDS File Delivery Protocol (727.0-B) for flightsw, on the ``cfdp-py`` state machines.

cfdp-py does the protocol (class 1 and class 2, NAKs, EOF and Finished with positive
acknowledgement, checksums); this package gives it what a flight build needs around it:
timers on the injected clock (:mod:`.timers`), file stores on the NV store and on the
ground's disk (:mod:`.filestores`), and an entity (:mod:`.entity`) that moves PDUs as
bytes, queues put requests (bounded), stops its clock out of contact so a transfer
resumes at the next pass, and turns every library exception into our error.
"""
