"""Execution of a decided block: admission again, then each action, with a receipt for every transaction.

Deterministic: the only inputs are the committed state, the block's transactions in order, its height and
its BFT time. Rules for a transaction in a block:

* it fails admission at execution (it became invalid after it entered the mempool: nonce used meanwhile,
  expired, sender suspended; or a faulty proposer let it in): its receipt carries the admission code, it
  changes nothing (not even the nonce) and it is *not* appended to the transparency log;
* it passes admission and its action fails: the nonce is consumed (so it cannot be replayed), nothing else
  changes, the receipt carries the module's code, and it is appended to the log;
* it passes admission and its action succeeds: its writes and events take effect and it is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from civichain.codec import encode
from civichain.errors import CivicError
from civichain.execution.admission import Admission, AdmissionError, Mode, encode_nonce, nonce_key
from civichain.execution.overlay import Overlay, StateReader
from civichain.modules import BlockContext, Context
from civichain.types import Receipt


@dataclass(slots=True)
class BlockRun:
    """What executing a block produced, before anything is written."""

    receipts: list[Receipt] = field(default_factory=list)
    logged: list[bytes] = field(default_factory=list)           # raw transactions appended to the log, in order
    writes: dict[bytes, bytes | None] = field(default_factory=dict)


def execute_block(admission: Admission, block: BlockContext, raw_txs: Sequence[bytes], state: StateReader,
                  log_size: int) -> BlockRun:
    """Execute `raw_txs` in order over `state`; `log_size` is the log's size before this block."""
    overlay = Overlay(state)
    run = BlockRun()
    for raw in raw_txs:
        run.receipts.append(_execute_one(admission, block, raw, overlay, log_size + len(run.logged), run))
    run.writes = overlay.writes
    return run


def _execute_one(admission: Admission, block: BlockContext, raw: bytes, overlay: Overlay, log_index: int,
                 run: BlockRun) -> Receipt:
    try:
        admitted = admission.admit(raw, overlay, height=block.height, mode=Mode.BLOCK)
    except AdmissionError as exc:
        return Receipt(admission.tx_id(raw), exc.code, exc.where, _text(exc.got), exc.expected)
    overlay.set(nonce_key(admitted.sender.id), encode_nonce(admitted.nonce + 1))
    run.logged.append(raw)
    view = overlay.child()
    context = Context(view, block, admitted.sender, admitted.tx_id, admitted.endorsers)
    try:
        admitted.action.apply(context, admitted.args)
    except CivicError as exc:
        return Receipt(admitted.tx_id, exc.code, exc.where, _text(exc.got), exc.expected, log_index=log_index)
    view.merge_into_parent()
    return Receipt(admitted.tx_id, "ok", events=tuple(context.events), log_index=log_index)


def receipt_bytes(receipt: Receipt) -> bytes:
    """Return the canonical bytes of a receipt, as hashed into the block's receipts root."""
    return encode(receipt)


def _text(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:200]
