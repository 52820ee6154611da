"""``flightsw packet decode|encode KIND``: packets as JSON and hex, one or a stream.

One item gives one line of output. With ``--stdin`` every input line gives exactly one
output line, so a bad line in the middle shows as ``{"error": ...}`` at its position and
the rest still goes through; the exit status is then 1.

Input is untrusted text: it is read as bytes and must be UTF-8, a line is at most
``MAX_LINE`` octets, JSON integers at most ``MAX_DIGITS`` digits and JSON values flat
(a field is an integer, a hex string or null). Anything else is our error naming the
line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

from flightsw.base.errors import DecodeError, EncodeError, FlightswError
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


MAX_LINE = 1 << 20  # octets: a 64 KiB packet as hex, with room for JSON around it
MAX_DIGITS = 40  # a JSON integer longer than this is no field of any kind


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise FlightswError(f"bad JSON: an integer of {digits} digits (at most {MAX_DIGITS})")
    return int(text)


def _no_constant(name: str) -> None:
    raise FlightswError(f"bad JSON: {name} is not a JSON value")


def parse_json_object(text: str) -> dict[str, Any]:
    """A flat JSON object from untrusted text; FlightswError for anything else."""
    try:
        obj = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FlightswError(f"bad JSON at column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise FlightswError("bad JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise FlightswError("expected a JSON object of fields")
    for name, value in obj.items():
        if isinstance(value, dict | list):
            what = "an object" if isinstance(value, dict) else "an array"
            raise EncodeError(name, f"{what} is not a field value (an integer or hex string)")
    return obj


def decode_one(kind: Kind, text: str, opts: KindOptions) -> dict[str, Any]:
    return kind.decode(_hex_to_bytes(text), opts)


def encode_one(kind: Kind, text: str, opts: KindOptions) -> str:
    return kind.encode(fields_from_json(kind, parse_json_object(text)), opts).hex()


def text_lines(stream: BinaryIO) -> Iterator[tuple[int, str | FlightswError]]:
    """(line number, text or the error for that line): UTF-8, at most MAX_LINE octets."""
    lineno = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                raw = stream.readline(MAX_LINE + 1)
            yield lineno, FlightswError(f"longer than {MAX_LINE} octets")
            continue
        try:
            yield lineno, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, FlightswError(f"not UTF-8 at byte {exc.start}")


def check_text(text: str, what: str) -> str:
    """A command-line argument as text: Python gives undecodable octets as surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FlightswError(f"{what} is not UTF-8 text (at character {exc.start})") from None
    return text


def _run(args: argparse.Namespace) -> int:
    kind = _kind(check_text(args.kind, "the kind"))
    opts = KindOptions(time_len=args.time_len)
    if not 0 <= args.time_len <= 64:
        raise FlightswError("--time-len must be 0..64")
    decoding = args.packet_command == "decode"
    if not args.stdin:
        if args.item is None:
            raise FlightswError("give an item or --stdin")
        item = check_text(args.item, "the item")
        if decoding:
            print(json.dumps(decode_one(kind, item, opts)))
        else:
            print(encode_one(kind, item, opts))
        return 0
    if args.item is not None:
        raise FlightswError("give an item or --stdin, not both")
    failures = 0
    out = sys.stdout
    for lineno, line in text_lines(sys.stdin.buffer):
        try:
            if isinstance(line, FlightswError):
                raise line
            if not line.strip():
                continue
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
