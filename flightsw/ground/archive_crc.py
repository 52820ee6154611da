"""The CRC-16 check of a batch of packets in one pass over their joined octets.

Every PUS packet ends in a CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF):
a packet is whole when the CRC of all its octets, its CRC included, is 0. Checking a
batch packet by packet (``binascii.crc_hqx``, a byte-at-a-time table) costs ~10 % of the
archive's batch ingest; a CRC over the batch's joined octets by a carry-less-multiply
implementation (``anycrc``, ~10 GB/s) costs ~1/20 of that, and says the same:

The CRC is affine in the octets: ``crc(init, m) = crc(init, 0^len(m)) XOR crc(0, m)``.
Over the joined octets, from initial value 0, each packet ``i`` starting at ``start_i``
contributes ``crc(crc(0, p_i), 0^rest_i)``; for a whole packet ``crc(0, p_i) =
crc(0xFFFF, 0^len_i)``, so its contribution is ``E[len(joined) - start_i]`` with
``E[n] = crc(0xFFFF, n zero octets)``. The batch is whole exactly when the CRC of the
joined octets equals the XOR of those terms, *if* at most one packet is bad: a bad
packet's nonzero remainder, carried through zeros (an invertible map, the polynomial's
constant term being 1), never comes out 0. Two or more bad packets in one batch are
missed only when their remainders cancel: for random damage one chance in ~2^16, the
order of a bad packet passing its own CRC-16; but deterministically for two single-bit
errors a multiple of 32,767 bits apart in the joined octets, which packet-by-packet
checking of packets shorter than 4 KiB would catch. ``E`` has period 32,767 octets (x
has order 32,767 modulo 0x11021 = (x+1)(a primitive of degree 15), and 8 is prime to
it), so its table is 64 KiB whatever the batch's size.

Without ``anycrc`` (an optional speed-up) the check is packet by packet, as before; a
batch that fails is left by the caller to the packet-by-packet path, which finds the
bad packet and names it.
"""

from __future__ import annotations

from binascii import crc_hqx
from collections.abc import Callable, Sequence
from functools import cache
from itertools import repeat
from typing import Any

import numpy as np

PERIOD = 32767  # octets after which a run of zeros maps a CRC-16/0x1021 state to itself

try:  # one CRC over the joined octets, from initial value 0
    from anycrc import Model as _Model
except ImportError:  # pragma: no cover - the packet-by-packet check
    joined_crc: Callable[[bytes, int], int] | None = None
else:
    joined_crc = _Model("CRC16-IBM-3740").calc  # CCITT-FALSE; init given per call


@cache
def zero_run_crcs() -> Any:
    """``E[n]`` = the CRC-16 (initial value 0xFFFF) of ``n`` zero octets, ``n < PERIOD``
    (a uint16 array, built once, in ~1 ms). By doubling: ``m`` more zero octets map a
    state linearly (``crc_hqx(bytes(m), state)``), so the next ``m`` entries are the map
    of the first ``m``, applied by two 256-entry tables (a state's low and high octet)
    made from the images of the 16 one-bit states."""
    table = np.array([0xFFFF], dtype=np.uint16)
    bits = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(bool)  # octet -> its bits
    while len(table) < PERIOD:
        zeros = bytes(len(table))
        image = np.array([crc_hqx(zeros, 1 << j) for j in range(16)], dtype=np.uint16)
        low = np.bitwise_xor.reduce(np.where(bits, image[:8], 0).astype(np.uint16), axis=1)
        high = np.bitwise_xor.reduce(np.where(bits, image[8:], 0).astype(np.uint16), axis=1)
        table = np.concatenate([table, low[table & 0xFF] ^ high[table >> 8]])
    return table[:PERIOD]


def all_whole(raws: Sequence[bytes], joined: bytes, starts: Any) -> bool:
    """True when every packet of ``raws`` (joined: ``joined``; offsets of each in it:
    ``starts``, an int64 array) has a right CRC; False when one (or more, see the module's
    note) has not. One CRC over ``joined`` when ``anycrc`` is installed, else one per
    packet."""
    crc = joined_crc
    if crc is None:
        return not any(map(crc_hqx, raws, repeat(0xFFFF, len(raws))))
    tails = (len(joined) - starts) % PERIOD
    expected = int(np.bitwise_xor.reduce(zero_run_crcs()[tails])) if len(tails) else 0
    return bool(crc(joined, 0) == expected)
