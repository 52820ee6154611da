"""``flightsw packet decode|encode KIND``: packets as JSON and hex, one or a stream.

One item gives one line of output. With ``--stdin`` every input line gives exactly one
output line, so a bad line in the middle shows as ``{"error": ...}`` at its position and
the rest still goes through; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flightsw.errors import DecodeError, FlightswError
from flightsw.link import kinds_downlink, kinds_uplink
from flightsw.packets.kinds import KINDS, Kind, KindOptions, fields_from_json

_LINK_KINDS = (kinds_uplink, kinds_downlink)  # imported for the kinds they register


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise FlightswError(f"unknown kind {name!r}; kinds: {', '.join(sorted(KINDS))}")
    return kind


def _hex_to_bytes(text: str) -> bytes:
    clean = "".join(text.split())
    if clean.startswith(("0x", "0X")):
        clean = clean[2:]
    if len(clean) % 2:
        raise DecodeError("hex", len(clean) // 2, f"odd number of hex digits ({len(clean)})")
    try:
        return bytes.fromhex(clean)
    except ValueError:
        bad = next(i for i, c in enumerate(clean) if c not in "0123456789abcdefABCDEF")
        raise DecodeError("hex", bad // 2, f"{clean[bad]!r} is not a hex digit") from None


def decode_one(kind: Kind, text: str, opts: KindOptions) -> dict[str, Any]:
    return kind.decode(_hex_to_bytes(text), opts)


def encode_one(kind: Kind, text: str, opts: KindOptions) -> str:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlightswError(f"bad JSON at column {exc.colno}: {exc.msg}") from None
    return kind.encode(fields_from_json(kind, obj), opts).hex()


def _run(args: argparse.Namespace) -> int:
    kind = _kind(args.kind)
    opts = KindOptions(time_len=args.time_len)
    if not 0 <= args.time_len <= 64:
        raise FlightswError("--time-len must be 0..64")
    decoding = args.packet_command == "decode"
    if not args.stdin:
        if args.item is None:
            raise FlightswError("give an item or --stdin")
        if decoding:
            print(json.dumps(decode_one(kind, args.item, opts)))
        else:
            print(encode_one(kind, args.item, opts))
        return 0
    if args.item is not None:
        raise FlightswError("give an item or --stdin, not both")
    failures = 0
    out = sys.stdout
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            if decoding:
                out.write(json.dumps(decode_one(kind, line, opts)) + "\n")
            else:
                out.write(encode_one(kind, line, opts) + "\n")
        except FlightswError as exc:
            failures += 1
            message = f"line {lineno}: {exc}"
            out.write(json.dumps({"error": message}) + "\n")
    out.flush()
    return 1 if failures else 0


def register(sub: Any) -> None:
    """Add ``packet decode`` and ``packet encode`` to the ``flightsw`` parser."""
    packet = sub.add_parser("packet", help="decode or encode packets (JSON <-> hex)")
    psub = packet.add_subparsers(dest="packet_command", required=True)
    for verb, item_help in (
        ("decode", "hex string of one packet"),
        ("encode", "JSON object with the kind's fields"),
    ):
        p = psub.add_parser(verb, help=f"{verb} a packet; kinds: {', '.join(KINDS)}")
        p.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
        p.add_argument("item", nargs="?", help=item_help)
        p.add_argument("--stdin", action="store_true", help="one item per input line")
        p.add_argument(
            "--time-len", type=int, default=6, help="TM time field octets (default 6, CUC 4+2)"
        )
        p.set_defaults(func=_run)
