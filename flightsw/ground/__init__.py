"""The ground side: TM decoding and archiving, commanding by name, reports."""
