"""Mutation fuzzer for every decoder: bad bytes may only ever raise our own error type.

    python tools/fuzz.py                     # 60 s over all targets
    python tools/fuzz.py --seconds 600 --only pus-tc cltu
    python tools/fuzz.py --list

Each decoder target decodes bytes; valid samples seed the corpus and are mutated (bit
flips, octet changes, truncation, extension, splices, length-field edits). Anything
other than the target's allowed error (``DecodeError`` for packet and frame codecs) is a
finding: the reproducer is printed as hex and the exit status is 1.

The input targets (``tools/fuzz_inputs.py``: ``mission-loader``, ``scenario-loader``,
``cli``) generate structured inputs instead and judge the whole outcome; their
reproducers are printed as text. Every target draws from its own random stream, so a
target's inputs are the same for a seed whatever the time budget; slow targets get a
time slice per round so they do not starve the others. CI runs a short budget of all
of this through ``tests/tools/test_fuzz.py``.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flightsw.base.errors import DecodeError
from flightsw.link import kinds_downlink, kinds_uplink
from flightsw.packets import PusTc, PusTm, SpacePacket, cds_decode, cuc_decode, iter_packets
from flightsw.packets.kinds import KINDS, KindOptions

_LINK_KINDS = (kinds_uplink, kinds_downlink)  # imported for the frame kinds they register


@dataclass
class Target:
    """One decoder under fuzz, its seed corpus and the errors it may raise.

    ``generate`` (optional) makes each input instead of mutating ``seeds``; ``show``
    renders an input for a finding's reproducer (default: hex)."""

    name: str
    decode: Callable[[bytes], object]
    seeds: list[bytes]
    allowed: tuple[type[BaseException], ...] = (DecodeError,)
    execs: int = 0
    findings: list[str] = field(default_factory=list)
    generate: Callable[[random.Random], bytes] | None = None
    show: Callable[[bytes], str] = bytes.hex


def input_targets(work: Path | None = None) -> list[Target]:
    """The mission loader, the scenario loader and the command line (tools/fuzz_inputs.py);
    their files go to ``work`` (default: a new temporary directory)."""
    import fuzz_inputs

    work = work if work is not None else fuzz_inputs.workdir()
    out = []
    for name, cls in (
        ("mission-loader", fuzz_inputs.MissionTarget),
        ("scenario-loader", fuzz_inputs.ScenarioTarget),
        ("cli", fuzz_inputs.CliTarget),
    ):
        t = cls(work)
        out.append(
            Target(
                name,
                t.run,
                [],
                (),
                generate=t.generate,
                show=lambda b: repr(b.decode("utf-8", "replace")),
            )
        )
    return out


def _packet_seeds() -> list[bytes]:
    return [
        PusTc(0x64, 17, 1).encode(),
        PusTc(0x64, 8, 1, b"\x10\x01\x05", seq_count=77).encode(),
        PusTm(0x64, 3, 25, bytes(range(40)), time=bytes(6)).encode(),
        PusTm(0x64, 1, 1, b"\x18\x64\xc0\x00").encode(),
        SpacePacket(0x7FF, b"\x55" * 9).encode(),
    ]


def builtin_targets() -> list[Target]:
    """The packet-level targets; link and HAL codecs add theirs through ``extra_targets``."""
    seeds = _packet_seeds()
    opts = KindOptions()
    targets = [
        Target("space-packet.decode", SpacePacket.decode, seeds),
        Target("pus-tc.decode", PusTc.decode, seeds),
        Target("pus-tm.decode", PusTm.decode, seeds),
        Target("iter_packets", lambda b: list(iter_packets(b)), [b"".join(seeds)]),
        Target("cuc_decode", cuc_decode, [bytes(6), b"\x00\x00\x01\x00\x80\x00"]),
        Target("cds_decode", cds_decode, [bytes(6), bytes(8)]),
    ]
    for name, kind in KINDS.items():
        targets.append(Target(f"kind:{name}", lambda b, k=kind: k.decode(b, opts), seeds))
    return targets


def extra_targets() -> list[Target]:
    """Targets from modules that declare ``FUZZ_TARGETS`` (name, decode, seeds)."""
    out: list[Target] = []
    for module in ("flightsw.link.fuzz_targets", "hal.serial.fuzz_targets"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        for name, decode, seeds, *allowed in mod.FUZZ_TARGETS:
            errors = tuple(allowed[0]) if allowed else (DecodeError,)
            out.append(Target(name, decode, list(seeds), errors))
    return out


def mutate(rng: random.Random, corpus: list[bytes]) -> bytes:
    """One mutated input from the corpus."""
    base = bytearray(rng.choice(corpus))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        if op == 0 and base:
            i = rng.randrange(len(base))
            base[i] ^= 1 << rng.randrange(8)
        elif op == 1 and base:
            base[rng.randrange(len(base))] = rng.randrange(256)
        elif op == 2 and base:
            del base[rng.randrange(len(base)) :]
        elif op == 3:
            base += rng.randbytes(rng.randint(1, 16))
        elif op == 4:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            base = base[: rng.randrange(len(base) + 1)] + bytearray(other[cut:])
        elif op == 5 and len(base) >= 6:
            i = rng.choice((4, 5)) if rng.random() < 0.7 else rng.randrange(len(base))
            base[i] = rng.choice((0, 1, 0xFF, 0x7F, 0x80, base[i] ^ 0xFF))
        else:
            base = bytearray(rng.randbytes(rng.randrange(64)))
    return bytes(base)


def fuzz(targets: list[Target], seconds: float, seed: int, min_execs: int = 0) -> int:
    """Run until the time budget is spent and every target has had ``min_execs`` inputs
    (a floor that does not shrink on a loaded machine); returns the number of findings."""
    rngs = {t.name: random.Random(f"{seed}:{t.name}") for t in targets}
    deadline = time.perf_counter() + seconds
    per_round, slice_s = 200, 0.05
    while time.perf_counter() < deadline or any(t.execs < min_execs for t in targets):
        for t in targets:
            rng = rngs[t.name]
            end = time.perf_counter() + slice_s
            for i in range(per_round):
                if i and time.perf_counter() > end:
                    break
                data = t.generate(rng) if t.generate is not None else mutate(rng, t.seeds)
                try:
                    t.decode(data)
                except t.allowed:
                    pass
                except Exception as exc:
                    if len(t.findings) < 5:
                        t.findings.append(f"{type(exc).__name__}: {exc} <- {t.show(data)}")
                t.execs += 1
    return sum(len(t.findings) for t in targets)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", nargs="*", help="target names (substring match)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    targets = builtin_targets() + extra_targets() + input_targets()
    if args.only:
        targets = [t for t in targets if any(s in t.name for s in args.only)]
    if args.list:
        for t in targets:
            print(t.name)
        return 0
    if not targets:
        print("error: no targets match", file=sys.stderr)
        return 1
    found = fuzz(targets, args.seconds, args.seed)
    for t in targets:
        print(f"{t.name:32s} {t.execs:10d} execs  {len(t.findings)} findings")
        for f in t.findings:
            print(f"    {f[:400]}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
