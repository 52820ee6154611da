"""CLI kinds for the uplink: ``tc-frame``, ``tc-frame-seg``, ``cltu`` and ``cltu-randomized``.

Importing this module registers them with :mod:`flightsw.packets.kinds`.

- ``tc-frame``: a TC transfer frame with a FECF. Decoding assumes no segment header
  (``seq_flags`` and ``map_id`` come out null); encoding writes one when either is given.
- ``tc-frame-seg``: the same, for virtual channels with segment headers: decoding reads
  the segment header of data frames (control 0).
- ``cltu``: ``{"frame": hex}`` <-> the CLTU; decoding gives the information octets
  (frame plus fill), the number of codeblocks and how many had a corrected bit.
  Encoding with ``corrected`` N flips one bit (the first) in each of the first N
  codeblocks, so what decode prints encodes back to a CLTU that decodes the same; the
  bytes come back exactly for a CLTU without bit errors (decoding corrects the others,
  and does not say which bit was wrong).
- ``cltu-randomized``: the same with the TC pseudo-randomizer.

Integers are JSON numbers; ``data`` and ``frame`` are hex. ``frame_length`` and ``fecf``
are computed when null or absent and written verbatim when given. The TC frame kinds'
fields are the frame declaration's (:func:`~flightsw.packets.kinds.declared_kind`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flightsw.base.errors import EncodeError
from flightsw.link.bch import CODEBLOCK_LEN
from flightsw.link.cltu import START_SEQUENCE, decode_cltu, encode_cltu
from flightsw.link.tc_frame import TcFrame, tc_frame_declaration
from flightsw.packets.kinds import Kind, KindOptions, declared_kind, register

CLTU_FIELDS = ("frame", "codeblocks", "corrected")


def _tc_frame_kind(name: str, segmented: bool, doc: str) -> Kind:
    return declared_kind(
        name,
        tc_frame_declaration(has_segment_header=segmented),
        TcFrame,
        doc,
        decode=lambda raw, _opts: TcFrame.decode(raw, has_segment_header=segmented),
    )


def _cltu_decoder(randomize: bool) -> Callable[[bytes, KindOptions], dict[str, Any]]:
    def decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
        cltu = decode_cltu(raw, randomize=randomize)
        return {
            "frame": cltu.data.hex(),
            "codeblocks": cltu.codeblocks,
            "corrected": cltu.corrected,
        }

    return decode


def _with_bit_errors(cltu: bytes, blocks: int) -> bytes:
    """``cltu`` with the first bit of each of its first ``blocks`` codeblocks flipped:
    one error a codeblock, which BCH(63,56) corrects."""
    out = bytearray(cltu)
    for i in range(blocks):
        out[len(START_SEQUENCE) + i * CODEBLOCK_LEN] ^= 0x80
    return bytes(out)


def _cltu_encoder(randomize: bool) -> Callable[[dict[str, Any], KindOptions], bytes]:
    def encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
        frame = obj["frame"]
        raw = encode_cltu(frame, randomize=randomize)
        blocks = (len(raw) - len(START_SEQUENCE) - CODEBLOCK_LEN) // CODEBLOCK_LEN
        given = obj.get("codeblocks")
        if given is not None and given != blocks:
            raise EncodeError("codeblocks", f"{given}, but the frame makes {blocks}")
        corrected = obj.get("corrected")
        if corrected is None:
            corrected = 0
        if not 0 <= corrected <= blocks:
            raise EncodeError("corrected", f"{corrected}, but the frame makes {blocks} codeblocks")
        return _with_bit_errors(raw, corrected)

    return encode


def _register_all() -> None:
    register(
        _tc_frame_kind(
            "tc-frame",
            False,
            "CCSDS 232.0-B-4 TC transfer frame with FECF; decoded without segment header",
        )
    )
    register(
        _tc_frame_kind(
            "tc-frame-seg",
            True,
            "TC transfer frame with FECF on a VC with segment headers (seq_flags, map_id)",
        )
    )
    # A CLTU is a coding, not a layout: its fields are what the decoder reports.
    for name, randomize, doc in (
        ("cltu", False, "CCSDS 231.0-B-4 CLTU (BCH(63,56)); decode gives frame+fill octets"),
        (
            "cltu-randomized",
            True,
            "CLTU with the TC pseudo-randomizer; decode gives frame+fill octets",
        ),
    ):
        register(
            Kind(
                name,
                CLTU_FIELDS,
                ("frame",),
                ("frame",),
                _cltu_decoder(randomize),
                _cltu_encoder(randomize),
                doc,
                nullable=("codeblocks", "corrected"),
            )
        )


_register_all()
