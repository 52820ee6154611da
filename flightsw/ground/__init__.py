"""The ground software: TM decoding and archiving, commanding by name, procedures, passes.

It stands beside the flight build, not on it: no flight app, no fdir, no simulator (the
SIL, ``flightsw.sil``, drives it from above)."""
