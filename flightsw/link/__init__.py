"""The CCSDS space data link: transfer frames, channel coding and synchronization.

Uplink: TC transfer frames (232.0-B), BCH(63,56) codeblocks and CLTUs (231.0-B), the
TC and TM pseudo-randomizers, the attached sync marker and a CADU stream reader
(131.0-B). Formats are declared with construct and given tested fast paths, like
:mod:`flightsw.packets`. Modules are imported by their full names; this package
re-exports nothing so that its parts load independently.
"""
