"""The bottom layer: what every other layer may import and that imports nothing of the
project: the error types (``errors``), CRC-16 (``crc``), the schema of configuration
tables (``schema``) and the bounded stream buffer of every byte-stream reader
(``stream``). hal and flightsw both stand on it, so neither needs an exception to the
rule that imports only point down."""
