"""CLI kinds for the uplink: ``tc-frame``, ``tc-frame-seg``, ``cltu`` and ``cltu-randomized``.

Importing this module registers them with :mod:`flightsw.packets.kinds`.

- ``tc-frame``: a TC transfer frame with a FECF. Decoding assumes no segment header
  (``seq_flags`` and ``map_id`` come out null); encoding writes one when either is given.
- ``tc-frame-seg``: the same, for virtual channels with segment headers: decoding reads
  the segment header of data frames (control 0).
- ``cltu``: ``{"frame": hex}`` <-> the CLTU; decoding gives the information octets
  (frame plus fill), the number of codeblocks and how many had a corrected bit.
- ``cltu-randomized``: the same with the TC pseudo-randomizer.

Integers are JSON numbers; ``data`` and ``frame`` are hex. ``frame_length`` and ``fecf``
are computed when null or absent and written verbatim when given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flightsw.errors import EncodeError
from flightsw.link.cltu import decode_cltu, encode_cltu
from flightsw.link.tc_frame import TcFrame, as_fields
from flightsw.packets.kinds import Kind, KindOptions, register

TC_FRAME_FIELDS = (
    "version",
    "bypass",
    "control",
    "spare",
    "scid",
    "vcid",
    "frame_length",
    "seq",
    "seq_flags",
    "map_id",
    "data",
    "fecf",
)
CLTU_FIELDS = ("frame", "codeblocks", "corrected")


def _tc_decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
    return as_fields(TcFrame.decode(raw))


def _tc_seg_decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
    return as_fields(TcFrame.decode(raw, has_segment_header=True))


def _tc_encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
    return TcFrame(**obj).encode()


def _cltu_decoder(randomize: bool) -> Callable[[bytes, KindOptions], dict[str, Any]]:
    def decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
        cltu = decode_cltu(raw, randomize=randomize)
        return {
            "frame": cltu.data.hex(),
            "codeblocks": cltu.codeblocks,
            "corrected": cltu.corrected,
        }

    return decode


def _cltu_encoder(randomize: bool) -> Callable[[dict[str, Any], KindOptions], bytes]:
    def encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
        frame = obj["frame"]
        raw = encode_cltu(frame, randomize=randomize)
        blocks = (len(raw) - 10) // 8
        given = obj.get("codeblocks")
        if given is not None and given != blocks:
            raise EncodeError("codeblocks", f"{given}, but the frame makes {blocks}")
        if obj.get("corrected") not in (None, 0):
            raise EncodeError("corrected", "a decode statistic; 0 or null when encoding")
        return raw

    return encode


def _register_all() -> None:
    register(
        Kind(
            "tc-frame",
            TC_FRAME_FIELDS,
            ("scid", "vcid", "data"),
            ("data",),
            _tc_decode,
            _tc_encode,
            "CCSDS 232.0-B-4 TC transfer frame with FECF; decoded without segment header",
        )
    )
    register(
        Kind(
            "tc-frame-seg",
            TC_FRAME_FIELDS,
            ("scid", "vcid", "data"),
            ("data",),
            _tc_seg_decode,
            _tc_encode,
            "TC transfer frame with FECF on a VC with segment headers (seq_flags, map_id)",
        )
    )
    register(
        Kind(
            "cltu",
            CLTU_FIELDS,
            ("frame",),
            ("frame",),
            _cltu_decoder(False),
            _cltu_encoder(False),
            "CCSDS 231.0-B-4 CLTU (BCH(63,56)); decode gives frame+fill octets",
        )
    )
    register(
        Kind(
            "cltu-randomized",
            CLTU_FIELDS,
            ("frame",),
            ("frame",),
            _cltu_decoder(True),
            _cltu_encoder(True),
            "CLTU with the TC pseudo-randomizer; decode gives frame+fill octets",
        )
    )


_register_all()
