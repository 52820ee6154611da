"""The link layer's decoders as targets for ``tools/fuzz.py``: (name, decode, seeds[, errors]).

Stream readers (CLTU decoder, CADU reader, packet extractor) must never raise at all on
any input: their allowed error list is empty.
"""

from __future__ import annotations

from collections.abc import Callable

from flightsw.base.errors import DecodeError
from flightsw.link.aos_frame import AosFrame
from flightsw.link.clcw import Clcw
from flightsw.link.cltu import CltuDecoder, decode_cltu, encode_cltu
from flightsw.link.extractor import PacketExtractor
from flightsw.link.framer import TmFramer
from flightsw.link.sdls import SaState, SdlsError, SdlsTc, SdlsTm, SecurityAssociation
from flightsw.link.sdls_state import decode_state, encode_state
from flightsw.link.sync import CaduReader, encode_cadu
from flightsw.link.tc_frame import TcFrame
from flightsw.link.tm_frame import TmFrame
from flightsw.packets import PusTm

FRAME_LEN = 256
KEY = bytes(range(32))
TC_HEADER = bytes([0x20, 0x2A, 0x04, 0x1F, 0x07])


def _tm_sdls() -> SdlsTm:
    return SdlsTm(SecurityAssociation(3, KEY, arsn_len=8))


def _seeds() -> dict[str, list[bytes]]:
    tc = TcFrame(scid=0x2A, vcid=1, seq=7, data=bytes(range(40))).encode()
    framer = TmFramer(scid=0x2A, frame_len=FRAME_LEN, has_ocf=True)
    for i in range(6):
        framer.push(0, PusTm(0x64, 3, 25, bytes(range(i * 30 % 200))).encode())
    tm = [framer.next_frame() for _ in range(4)]
    secured = TmFramer(scid=0x2A, frame_len=FRAME_LEN, has_ocf=True, security=_tm_sdls())
    for i in range(6):
        secured.push(0, PusTm(0x64, 3, 25, bytes(range(i * 30 % 200))).encode())
    tm_sdls = [secured.next_frame() for _ in range(4)]
    state = {1: SaState(bytes(8), True, 16, 9, 0b101, key=KEY, pending_key=None)}
    aos = AosFrame(
        scid=0x2A, vcid=1, vc_count=5, first_header_pointer=0, data=bytes(FRAME_LEN - 12)
    )
    return {
        "tc": [tc],
        "cltu": [encode_cltu(tc), encode_cltu(tc, randomize=True)],
        "tm": tm,
        "cadu": [b"".join(encode_cadu(f) for f in tm)],
        "aos": [aos.encode()],
        "clcw": [Clcw(vcid=1, report_value=9).encode()],
        "tm_sdls": tm_sdls,
        "sdls_tc": [SdlsTc([SecurityAssociation(1, KEY)]).protect(TC_HEADER, b"ping", 1)],
        "sdls_state": [encode_state(state, KEY), encode_state(state)],
    }


def _stream(reader_factory: Callable[[], object]) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        reader = reader_factory()
        feed = reader.feed  # type: ignore[attr-defined]
        half = len(data) // 2
        return feed(data[:half]) + feed(data[half:])

    return run


def _extract(data: bytes) -> object:
    ex = PacketExtractor(frame_len=FRAME_LEN, has_ocf=True)
    return [ex.feed_frame(data[i : i + FRAME_LEN]) for i in range(0, len(data), FRAME_LEN)]


def _extract_authenticated(data: bytes) -> object:
    ex = PacketExtractor(frame_len=FRAME_LEN, has_ocf=True, security=_tm_sdls())
    return [ex.feed_frame(data[i : i + FRAME_LEN]) for i in range(0, len(data), FRAME_LEN)]


def _sdls_verify(data: bytes) -> object:
    return SdlsTc([SecurityAssociation(1, KEY)]).verify(TC_HEADER, data)


_S = _seeds()
FUZZ_TARGETS: list[tuple[str, Callable[[bytes], object], list[bytes], tuple[type, ...]]] = [
    ("link.TcFrame.decode", TcFrame.decode, _S["tc"], (DecodeError,)),
    ("link.TmFrame.decode", TmFrame.decode, _S["tm"], (DecodeError,)),
    ("link.AosFrame.decode", AosFrame.decode, _S["aos"], (DecodeError,)),
    ("link.Clcw.decode", Clcw.decode, _S["clcw"], (DecodeError,)),
    ("link.decode_cltu", decode_cltu, _S["cltu"], (DecodeError,)),
    ("link.CltuDecoder", _stream(CltuDecoder), _S["cltu"], ()),
    ("link.CaduReader", _stream(lambda: CaduReader(FRAME_LEN)), _S["cadu"], ()),
    ("link.PacketExtractor", _extract, [b"".join(_S["tm"])], ()),
    ("link.PacketExtractor+SDLS", _extract_authenticated, [b"".join(_S["tm_sdls"])], ()),
    ("link.SdlsTc.verify", _sdls_verify, _S["sdls_tc"], (SdlsError,)),
    ("link.decode_state", lambda d: decode_state(d, KEY), _S["sdls_state"], (DecodeError,)),
]
