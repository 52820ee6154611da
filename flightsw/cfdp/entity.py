"""A CFDP entity: one cfdp-py source and one destination handler, PDUs in and out as bytes.

One transfer each way at a time (a file going out while another comes in); put requests
wait in a bounded queue. :meth:`CfdpEntity.receive` takes one PDU (decoded and checked
by :meth:`CfdpEntity.decode` first: garbage, a PDU for another entity or from an unknown
one is a :class:`CfdpError` and touches nothing); :meth:`CfdpEntity.poll` advances the
state machines and returns the PDUs to send, at most ``budget`` octets of them (the
link's share for this step), the rest waiting in a bounded queue (oldest dropped and
counted: class 2 asks again for what is lost).

Time: the entity's clock is link time (:mod:`flightsw.cfdp.timers`): it advances with
:meth:`tick` only while the link is up, so no timer runs out during a loss of signal
and a class 2 transfer picks up where it was at the next contact. A receiving transfer
that hears nothing for ``inactivity_s`` of link time is abandoned (a class 1 sender
whose EOF was lost would otherwise hold the receiver for good), and so is a class 2
sending one that waits that long for its Finished PDU (cfdp-py has no timer there: a
receiver that gave the transfer up would hold the sender, and every file queued behind).

Anything cfdp-py raises while handling a PDU or running is caught here: a PDU the
handlers ignore in their state is counted; any other exception abandons that transfer
(reported as failed, condition ``ABANDONED``), counted, and the entity goes on.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfdppy.defs import CfdpState
from cfdppy.exceptions import PduIgnoredForDest, PduIgnoredForSource
from cfdppy.handler.common import PacketDestination, get_packet_destination
from cfdppy.handler.dest import DestHandler, acknowledge_inactive_eof_pdu
from cfdppy.handler.dest import TransactionStep as DestStep
from cfdppy.handler.source import SourceHandler
from cfdppy.handler.source import TransactionStep as SourceStep
from cfdppy.mib import (
    DefaultFaultHandlerBase,
    IndicationConfig,
    LocalEntityConfig,
    RemoteEntityConfig,
    RemoteEntityConfigTable,
)
from cfdppy.request import PutRequest
from cfdppy.user import (
    CfdpUserBase,
    FileSegmentRecvdParams,
    MetadataRecvParams,
    TransactionFinishedParams,
    TransactionParams,
)
from spacepackets.cfdp import (
    ChecksumType,
    ConditionCode,
    DeliveryCode,
    DirectiveType,
    TransmissionMode,
)
from spacepackets.cfdp.defs import Direction, TransactionId
from spacepackets.cfdp.pdu import (
    AckPdu,
    EofPdu,
    FinishedPdu,
    MetadataPdu,
    NakPdu,
    TransactionStatus,
)
from spacepackets.cfdp.pdu.helper import GenericPduPacket, PduFactory
from spacepackets.seqcount import ProvidesSeqCount
from spacepackets.util import ByteFieldU16

from flightsw.base.errors import FlightswError
from flightsw.cfdp import fixes as _fixes  # cfdp-py corrections (two applied on import)
from flightsw.cfdp.timers import ClockCheckTimers, running

NS_PER_MS = 1_000_000
ABANDONED = 0xF0  # our condition for a transfer the entity gave up (outside CFDP's 0..15)
MIN_PDU_LEN = 64
CLOSED_HISTORY = 16  # transfers remembered after they ended, to answer late PDUs
_PAST_EOF = (
    DestStep.WAITING_FOR_MISSING_DATA,
    DestStep.TRANSFER_COMPLETION,
    DestStep.SENDING_FINISHED_PDU,
    DestStep.WAITING_FOR_FINISHED_ACK,
)


class CfdpError(FlightswError):
    """A PDU that does not decode, is not for this entity, or a refused request."""


@dataclass
class Transfer:
    """One finished transfer, as the entity saw it end."""

    seq: int
    sending: bool
    name: str
    acknowledged: bool
    condition: int  # ConditionCode value, or ABANDONED
    delivered: bool  # destination: file complete and checked; source: the peer said so
    size: int = 0


@dataclass
class EntityConfig:
    """The protocol parameters of a local entity and its one peer."""

    local_id: int
    remote_id: int
    pdu_len: int = 1024  # octets of one PDU, at most (both ways)
    ack_interval_s: float = 10.0  # positive acknowledgement timer (EOF, Finished)
    ack_limit: int = 4
    nak_interval_s: float = 5.0
    nak_limit: int = 8
    check_interval_s: float = 5.0  # class 1: wait this long for data after an early EOF
    check_limit: int = 2
    inactivity_s: float = 120.0
    max_requests: int = 8  # put requests waiting, at most
    out_depth: int = 4096  # PDUs waiting to be sent, at most
    checksum: ChecksumType = ChecksumType.CRC_32


@dataclass
class EntityCounters:
    pdus_in: int = 0
    pdus_out: int = 0
    pdus_ignored: int = 0
    out_dropped: int = 0
    faults: int = 0
    abandoned: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class _SeqCount(ProvidesSeqCount):  # type: ignore[misc]
    def __init__(self) -> None:
        self.value = 0

    @property
    def max_bit_width(self) -> int:
        return 16

    @max_bit_width.setter
    def max_bit_width(self, width: int) -> None:
        raise CfdpError("the transaction sequence number is 16 bits")

    def get_and_increment(self) -> int:
        value = self.value
        self.value = (value + 1) & 0xFFFF
        return value


class _Faults(DefaultFaultHandlerBase):  # type: ignore[misc]
    def __init__(self, entity: CfdpEntity) -> None:
        super().__init__()
        self.entity = entity

    def _count(self, transaction_id: TransactionId, cond: ConditionCode, progress: int) -> None:
        entity = self.entity
        entity.counters.faults += 1
        entity._fault[transaction_id.source_id.value == entity.cfg.local_id] = int(cond)

    notice_of_suspension_cb = _count
    notice_of_cancellation_cb = _count
    abandoned_cb = _count
    ignore_cb = _count


class _User(CfdpUserBase):  # type: ignore[misc]
    """cfdp-py's indications, turned into the entity's records."""

    def __init__(self, entity: CfdpEntity, vfs: Any) -> None:
        super().__init__(vfs)
        self.entity = entity

    def transaction_indication(self, transaction_indication_params: TransactionParams) -> None:
        pass

    def eof_sent_indication(self, transaction_id: TransactionId) -> None:
        pass

    def transaction_finished_indication(self, params: TransactionFinishedParams) -> None:
        self.entity._finished(params)

    def metadata_recv_indication(self, params: MetadataRecvParams) -> None:
        self.entity._metadata(params)

    def file_segment_recv_indication(self, params: FileSegmentRecvdParams) -> None:
        pass

    def report_indication(self, transaction_id: TransactionId, status_report: Any) -> None:
        pass

    def suspended_indication(self, transaction_id: TransactionId, cond_code: ConditionCode) -> None:
        pass

    def resumed_indication(self, transaction_id: TransactionId, progress: int) -> None:
        pass

    def fault_indication(
        self, transaction_id: TransactionId, cond_code: ConditionCode, progress: int
    ) -> None:
        pass

    def abandoned_indication(
        self, transaction_id: TransactionId, cond_code: ConditionCode, progress: int
    ) -> None:
        pass

    def eof_recv_indication(self, transaction_id: TransactionId) -> None:
        pass


@dataclass
class _Put:
    source: str
    dest: str
    acknowledged: bool


class CfdpEntity:
    """A local CFDP entity talking to one remote entity (see the module docstring)."""

    def __init__(self, cfg: EntityConfig, filestore: Any, finished_depth: int = 64) -> None:
        if cfg.pdu_len < MIN_PDU_LEN:
            raise CfdpError(f"pdu_len {cfg.pdu_len} below {MIN_PDU_LEN}")
        self.cfg = cfg
        self.filestore = filestore
        self.local = ByteFieldU16(cfg.local_id)
        self.remote = ByteFieldU16(cfg.remote_id)
        self.counters = EntityCounters()
        self.requests: deque[_Put] = deque()
        self.out: deque[bytes] = deque()
        self.finished: deque[Transfer] = deque(maxlen=finished_depth)
        self.link_ms = 0
        self.link_up = True
        self._last_ns: int | None = None
        self._last_heard_ms = 0
        self._names: dict[tuple[int, int], str] = {}
        self._sizes: dict[tuple[int, int], int] = {}
        self._sending: _Put | None = None
        self._closed_rx: deque[tuple[int, int]] = deque(maxlen=CLOSED_HISTORY)
        self._closed_tx: deque[int] = deque(maxlen=CLOSED_HISTORY)
        self._fault: dict[bool, int] = {}  # last fault condition, by sending side
        self._tx_seq = 0
        self._last_heard_tx_ms = 0
        self._rx_eof: EofPdu | None = None  # an EOF that arrived before the Metadata
        remote = RemoteEntityConfig(
            entity_id=self.remote,
            max_file_segment_len=None,
            max_packet_len=cfg.pdu_len,
            closure_requested=False,
            crc_on_transmission=False,
            default_transmission_mode=TransmissionMode.ACKNOWLEDGED,
            crc_type=cfg.checksum,
            positive_ack_timer_interval_seconds=cfg.ack_interval_s,
            positive_ack_timer_expiration_limit=cfg.ack_limit,
            check_limit=cfg.check_limit,
            nak_timer_interval_seconds=cfg.nak_interval_s,
            nak_timer_expiration_limit=cfg.nak_limit,
        )
        table = RemoteEntityConfigTable([remote])
        local = LocalEntityConfig(self.local, IndicationConfig(), _Faults(self))
        self.user = _User(self, filestore)
        timers = ClockCheckTimers(cfg.check_interval_s)
        self.seq = _SeqCount()
        with running(self.ms):
            self.source = SourceHandler(local, self.user, table, timers, self.seq)
            self.dest = DestHandler(local, self.user, table, timers)

    # --- time -------------------------------------------------------------------------
    def ms(self) -> int:
        """Link time in milliseconds (the clock every timer of this entity reads)."""
        return self.link_ms

    def tick(self, now_ns: int, link_up: bool) -> None:
        """Advance link time to ``now_ns`` if the link was up since the last tick."""
        if self._last_ns is not None and self.link_up and now_ns > self._last_ns:
            self.link_ms += (now_ns - self._last_ns) // NS_PER_MS
        self._last_ns = now_ns
        self.link_up = link_up

    # --- requests ---------------------------------------------------------------------
    def put(self, source: str, dest: str, acknowledged: bool = True) -> None:
        """Queue sending local file ``source`` to the peer as ``dest`` (class 2 when
        ``acknowledged``); CfdpError when the queue is full or the file is not there."""
        if len(self.requests) >= self.cfg.max_requests:
            raise CfdpError(f"{self.cfg.max_requests} file transfers already wait")
        if not self.filestore.file_exists(Path(source)):
            raise CfdpError(f"no file {source!r} to send")
        self.requests.append(_Put(source, dest, acknowledged))

    @property
    def sending(self) -> bool:
        return bool(self.source.state != CfdpState.IDLE)

    @property
    def receiving(self) -> bool:
        return bool(self.dest.state != CfdpState.IDLE)

    @property
    def idle(self) -> bool:
        return not (self.sending or self.receiving or self.requests or self.out)

    def progress(self) -> tuple[int, int, int, int]:
        """(octets sent, size of the file going out, octets received, size coming in)."""
        return (
            int(self.source.progress or 0) if self.sending else 0,
            int(self.source.file_size or 0) if self.sending else 0,
            int(self.dest.progress or 0) if self.receiving else 0,
            int(self.dest.file_size or 0) if self.receiving else 0,
        )

    # --- PDUs in ----------------------------------------------------------------------
    def decode(self, raw: bytes) -> GenericPduPacket:
        """A PDU from octets; CfdpError if it does not decode or is not ours."""
        try:
            pdu = PduFactory.from_raw(bytes(raw))
            if pdu is None:
                raise CfdpError("not a CFDP PDU")
            # What cfdp-py would only find out later: the routing, and a directive that
            # decodes lazily (an ACK's subject) must decode now.
            get_packet_destination(pdu)
            if isinstance(pdu, MetadataPdu):  # file names decode lazily: now, not later
                _ = (pdu.source_file_name, pdu.dest_file_name)
        except CfdpError:
            raise
        except Exception as exc:  # spacepackets raises ValueError, struct and its own errors
            raise CfdpError(f"bad PDU: {type(exc).__name__}: {exc}") from None
        ends = {pdu.source_entity_id.value, pdu.dest_entity_id.value}
        if (
            ends != {self.cfg.local_id, self.cfg.remote_id}
            or pdu.dest_entity_id == pdu.source_entity_id
        ):
            raise CfdpError(
                f"PDU between entities {pdu.source_entity_id.value} and {pdu.dest_entity_id.value}"
            )
        return pdu

    def receive(self, pdu: GenericPduPacket) -> None:
        """Hand one decoded PDU to the handler it is for.

        Four answers cfdp-py 0.7 does not give are given here (CFDP 4.6, 4.7): an EOF that
        arrives again after the first (its ACK was lost) is acknowledged again, and so is
        one of a transfer that already ended; a Finished PDU of a transfer the source
        already closed is acknowledged (the receiver would retry until its limit and
        report a failure); and a Finished PDU that arrives while the source still waits
        for its EOF's ACK (that ACK was lost) counts as that ACK first; an EOF that came
        before the Metadata is given to the receiver again once the Metadata arrived.
        """
        self.counters.pdus_in += 1
        if get_packet_destination(pdu) == PacketDestination.DEST_HANDLER:
            self._to_dest(pdu)
        else:
            self._to_source(pdu)

    def _to_dest(self, pdu: GenericPduPacket) -> None:
        self._last_heard_ms = self.link_ms
        tid = (pdu.source_entity_id.value, pdu.transaction_seq_num.value)
        current = self._current_rx()
        if current is None:
            self._rx_eof = None
        if tid != current and tid in self._closed_rx:
            if isinstance(pdu, EofPdu) and pdu.transmission_mode == TransmissionMode.ACKNOWLEDGED:
                self._send(acknowledge_inactive_eof_pdu(pdu, TransactionStatus.TERMINATED))
            else:
                self.counters.pdus_ignored += 1
            return
        if current is not None and tid != current:
            self.counters.pdus_ignored += 1  # another transfer's: one at a time
            return
        if (
            current is not None
            and isinstance(pdu, EofPdu)
            and pdu.transmission_mode == TransmissionMode.ACKNOWLEDGED
            and self.dest.states.step in _PAST_EOF
        ):
            conf = copy.copy(pdu.pdu_header.pdu_conf)
            conf.direction = Direction.TOWARDS_SENDER
            self._send(
                AckPdu(conf, DirectiveType.EOF_PDU, pdu.condition_code, TransactionStatus.ACTIVE)
            )
            return
        if isinstance(pdu, MetadataPdu) and pdu.dest_file_name is not None:
            expected = getattr(self.filestore, "expected_size", None)
            if expected is not None:
                expected.clear()
                expected[str(pdu.dest_file_name).lstrip("/")] = pdu.file_size
        early_eof = isinstance(pdu, EofPdu) and self.dest.states.step in (
            DestStep.IDLE,
            DestStep.WAITING_FOR_METADATA,
        )
        kept = copy.deepcopy(pdu) if early_eof else None  # cfdp-py turns a first PDU around
        self._run(self.dest, pdu)
        if kept is not None and self.receiving:
            self._rx_eof = kept
        elif self._rx_eof is not None and self.dest.states.step == DestStep.RECEIVING_FILE_DATA:
            # The EOF came before the Metadata: cfdp-py then waits for data as if it had no
            # EOF, and the sender (its EOF acknowledged) waits for Finished: both for good.
            eof, self._rx_eof = self._rx_eof, None
            self._run(self.dest, eof)

    def _to_source(self, pdu: GenericPduPacket) -> None:
        self._last_heard_tx_ms = self.link_ms
        seq = pdu.transaction_seq_num.value
        active = self.sending and self.source.transaction_seq_num.value == seq
        if not active:
            if isinstance(pdu, FinishedPdu) and seq in self._closed_tx:
                conf = copy.copy(pdu.pdu_header.pdu_conf)
                conf.direction = Direction.TOWARDS_RECEIVER
                self._send(
                    AckPdu(
                        conf,
                        DirectiveType.FINISHED_PDU,
                        pdu.condition_code,
                        TransactionStatus.TERMINATED,
                    )
                )
            else:
                self.counters.pdus_ignored += 1
            return
        if (
            isinstance(pdu, FinishedPdu)
            and self.source.states.step == SourceStep.WAITING_FOR_EOF_ACK
        ):
            conf = copy.copy(pdu.pdu_header.pdu_conf)
            conf.direction = Direction.TOWARDS_SENDER
            eof_ack = AckPdu(
                conf, DirectiveType.EOF_PDU, ConditionCode.NO_ERROR, TransactionStatus.ACTIVE
            )
            if not self._run(self.source, eof_ack):
                return
        if isinstance(pdu, NakPdu):  # at most one resend of the file per NAK
            pdu.segment_requests = _fixes.bounded_nak_requests(
                pdu.segment_requests, self.source.progress
            )
        self._run(self.source, pdu)

    def _send(self, pdu: Any) -> None:
        try:  # a PDU cfdp-py built from a corrupted one may not even pack: dropped, counted
            raw = bytes(pdu.pack())
        except Exception as exc:
            key = f"pack {type(exc).__name__}"
            self.counters.errors[key] = self.counters.errors.get(key, 0) + 1
            return
        if len(self.out) >= self.cfg.out_depth:
            self.out.popleft()
            self.counters.out_dropped += 1
        self.out.append(raw)

    def _tid(self, seq: int) -> tuple[int, int]:
        return (self.cfg.remote_id, seq)

    def _current_rx(self) -> tuple[int, int] | None:
        if not self.receiving:
            return None
        tid = self.dest.transaction_id
        return None if tid is None else (tid.source_id.value, tid.seq_num.value)

    # --- running ----------------------------------------------------------------------
    def _run(self, handler: Any, pdu: GenericPduPacket | None = None) -> bool:
        """One state machine call and its PDUs drained; False when it raised."""
        with running(self.ms):
            try:
                handler.state_machine(pdu)
                ok = True
            except (PduIgnoredForDest, PduIgnoredForSource):
                self.counters.pdus_ignored += 1
                ok = True
            except Exception as exc:
                self._drain(handler)
                self._abandon(handler, exc)
                return False
            self._drain(handler)
        if handler is self.source:
            if self.sending:
                self._tx_seq = self.source.transaction_seq_num.value
            elif self._sending is not None:  # cancelled inside cfdp-py, which says nothing
                put, self._sending = self._sending, None
                condition = self._fault.pop(True, ABANDONED)
                self._closed_tx.append(self._tx_seq)
                self.finished.append(
                    Transfer(self._tx_seq, True, put.source, put.acknowledged, condition, False)
                )
        return ok

    def _drain(self, handler: Any) -> None:
        while True:
            holder = handler.get_next_packet()
            if holder is None:
                return
            self._send(holder.pdu)

    def _abandon(self, handler: Any, exc: Exception) -> None:
        """Give up the handler's transfer after cfdp-py raised: record, reset, go on."""
        key = type(exc).__name__
        errors = self.counters.errors
        errors[key] = errors.get(key, 0) + 1
        self.counters.abandoned += 1
        sending = handler is self.source
        tid = handler.transaction_id
        seq = tid.seq_num.value if tid is not None else 0
        if sending:
            put = self._sending
            name = put.source if put else ""
            acked = bool(put and put.acknowledged)
            self._sending = None
            self._closed_tx.append(seq)
        else:
            rx: tuple[int, int] = (
                (int(tid.source_id.value), seq) if tid is not None else self._tid(seq)
            )
            name = self._names.pop(rx, "")
            acked = handler.transmission_mode == TransmissionMode.ACKNOWLEDGED
            self._closed_rx.append(rx)
        self.finished.append(Transfer(seq, sending, name, acked, ABANDONED, False))
        with running(self.ms):
            try:
                handler.reset()
            except Exception:  # a handler that cannot even reset: build a fresh one
                self._rebuild(sending)

    def _rebuild(self, sending: bool) -> None:
        if sending:
            old = self.source
            self.source = SourceHandler(
                old.cfg, self.user, old.remote_cfg_table, old.check_timer_provider, self.seq
            )
        else:
            d = self.dest
            self.dest = DestHandler(d.cfg, self.user, d.remote_cfg_table, d.check_timer_provider)

    def poll(self, budget: int) -> list[bytes]:
        """Advance the state machines; the PDUs to send now, ``budget`` octets at most."""
        if self.link_up:
            self._start_next()
            sent_before = len(self.out)
            for _ in range(4096):  # bounded: one file segment per call while sending
                if not self.sending or self._queued_octets() >= budget:
                    break
                if not self._run(self.source):
                    break
                if len(self.out) == sent_before:
                    break
                sent_before = len(self.out)
            if self.receiving:
                self._run(self.dest)
                if (
                    self.receiving
                    and self.link_ms - self._last_heard_ms > self.cfg.inactivity_s * 1000
                ):
                    self._abandon(self.dest, CfdpError("inactivity"))
            if (  # cfdp-py has no timer while a class 2 sender waits for the Finished PDU
                self.sending
                and self.source.states.step == SourceStep.WAITING_FOR_FINISHED
                and self.link_ms - self._last_heard_tx_ms > self.cfg.inactivity_s * 1000
            ):
                self._abandon(self.source, CfdpError("no Finished PDU: inactivity"))
        out: list[bytes] = []
        used = 0
        while self.out and used + len(self.out[0]) <= max(budget, 0):
            pdu = self.out.popleft()
            used += len(pdu)
            out.append(pdu)
        self.counters.pdus_out += len(out)
        return out

    def _queued_octets(self) -> int:
        return sum(len(p) for p in self.out)

    def _start_next(self) -> None:
        while not self.sending and self.requests:
            put = self.requests.popleft()
            mode = (
                TransmissionMode.ACKNOWLEDGED
                if put.acknowledged
                else TransmissionMode.UNACKNOWLEDGED
            )
            request = PutRequest(
                destination_id=self.remote,
                source_file=Path(put.source),
                dest_file=Path(put.dest),
                trans_mode=mode,
                closure_requested=put.acknowledged,
            )
            with running(self.ms):
                try:
                    started = self.source.put_request(request)
                except Exception as exc:
                    started = False
                    errors = self.counters.errors
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if started:
                self._sending = put
                self._last_heard_tx_ms = self.link_ms
                return
            self.finished.append(Transfer(0, True, put.source, put.acknowledged, ABANDONED, False))

    # --- indications ------------------------------------------------------------------
    def _metadata(self, params: MetadataRecvParams) -> None:
        tid = params.transaction_id
        key = (tid.source_id.value, tid.seq_num.value)
        if len(self._names) > 64:
            self._names.clear()
            self._sizes.clear()
        self._names[key] = str(params.dest_file_name or "").lstrip("/")
        self._sizes[key] = int(params.file_size or 0)

    def _finished(self, params: TransactionFinishedParams) -> None:
        tid = params.transaction_id
        fin = params.finished_params
        condition = int(fin.condition_code)
        if tid.source_id.value == self.cfg.local_id:
            put = self._sending
            self._sending = None
            name = put.source if put else ""
            acked = bool(put and put.acknowledged)
            delivered = condition == ConditionCode.NO_ERROR and (
                not acked or fin.delivery_code == DeliveryCode.DATA_COMPLETE
            )
            size = int(self.source.file_size or 0)
            self._closed_tx.append(tid.seq_num.value)
            self._fault.pop(True, None)
            self.finished.append(
                Transfer(tid.seq_num.value, True, name, acked, condition, delivered, size)
            )
            return
        key = (tid.source_id.value, tid.seq_num.value)
        name = self._names.pop(key, "")
        size = self._sizes.pop(key, 0)
        self._closed_rx.append(key)
        self._fault.pop(False, None)
        delivered = (
            condition == ConditionCode.NO_ERROR and fin.delivery_code == DeliveryCode.DATA_COMPLETE
        )
        acked = self.dest.transmission_mode == TransmissionMode.ACKNOWLEDGED
        if delivered:
            mark = getattr(self.filestore, "mark_complete", None)
            if mark is not None and name:
                mark(name)
        self.finished.append(
            Transfer(tid.seq_num.value, False, name, acked, condition, delivered, size)
        )


def directive_name(pdu: GenericPduPacket) -> str:
    """A PDU's kind for logs and tests: ``file_data`` or the directive's name."""
    directive = getattr(pdu, "directive_type", None)
    return "file_data" if directive is None else DirectiveType(directive).name.lower()
