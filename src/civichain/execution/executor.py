"""Execution of a decided block: admission again, then each action, with a receipt for every transaction.

Deterministic: the only inputs are the committed state, the block's transactions in order, its height and
its BFT time. Rules for a transaction in a block:

* it fails admission at execution (it became invalid after it entered the mempool: nonce used meanwhile,
  expired, sender suspended; or a faulty proposer let it in): its receipt carries the admission code, it
  changes nothing (not even the nonce) and it is *not* appended to the transparency log;
* it passes admission and its action fails: the nonce is consumed (so it cannot be replayed), nothing else
  changes, the receipt carries the module's code, and it is appended to the log;
* it passes admission and its action succeeds: its writes and events take effect and it is logged.

An action's policy (who may perform it, whose endorsements it needs: modules/policy.py) is checked just
before it runs, as part of the action (after the action's resolver read the facts it refers to): a
transaction whose signers do not satisfy it fails with `auth.not_permitted` (or the module's own refusal
code) or `auth.missing_endorsement`, its nonce consumed and nothing else changed.

After the transactions, each module's end-of-block hook runs (in module-name order) on the state they left:
governance executes the proposals due at this height there. A hook reports each task it did as a *block
receipt* (empty tx id), which follows the transaction receipts into the receipts root; a hook that fails
with a CivicError changes nothing and gets a block receipt with the code. Last, the validator set after the
block is compared with the one before it: the differences are the validator updates for CometBFT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from civichain.codec import encode
from civichain.errors import CivicError
from civichain.execution.admission import Admission, AdmissionError, Mode, encode_nonce, nonce_key
from civichain.execution.overlay import Overlay, StateReader
from civichain.modules import BlockContext, Context, HookContext, Module
from civichain.modules.membership import VALIDATORS_KEY, load_validators
from civichain.modules.policy import NO_FACTS, check_policy
from civichain.types import Receipt, ValidatorUpdate


@dataclass(slots=True)
class BlockRun:
    """What executing a block produced, before anything is written."""

    receipts: list[Receipt] = field(default_factory=list)       # one per transaction, in block order
    block_receipts: list[Receipt] = field(default_factory=list)  # one per end-of-block task
    logged: list[bytes] = field(default_factory=list)           # raw transactions appended to the log, in order
    writes: dict[bytes, bytes | None] = field(default_factory=dict)
    validator_updates: list[ValidatorUpdate] = field(default_factory=list)   # sorted by public key

    def all_receipts(self) -> list[Receipt]:
        """Return the transaction receipts, then the block receipts: what the receipts root hashes."""
        return self.receipts + self.block_receipts


def execute_block(admission: Admission, block: BlockContext, raw_txs: Sequence[bytes], state: StateReader,
                  log_size: int) -> BlockRun:
    """Execute `raw_txs` in order over `state`; `log_size` is the log's size before this block."""
    overlay = Overlay(state)
    run = BlockRun()
    for raw in raw_txs:
        run.receipts.append(_execute_one(admission, block, raw, overlay, log_size + len(run.logged), run))
    for name in sorted(admission.modules):
        _end_block(admission.modules[name], block, overlay, run)
    run.validator_updates = validator_updates(state, overlay)
    run.writes = overlay.writes
    return run


def validator_updates(before: StateReader, after: StateReader) -> list[ValidatorUpdate]:
    """Return the changes from the validator set in `before` to the one in `after`, by public key (power 0: removed).

    Derived from the state, not collected from the actions, so the updates CometBFT gets always match the
    validator set the chain records, and no key appears twice (which CometBFT could not apply).
    """
    if before.get(VALIDATORS_KEY) == after.get(VALIDATORS_KEY):
        return []
    old = {v.pub_key: v.power for v in load_validators(before).validators}
    new = {v.pub_key: v.power for v in load_validators(after).validators}
    return [ValidatorUpdate(key, new.get(key, 0)) for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)]


def _end_block(module: Module, block: BlockContext, overlay: Overlay, run: BlockRun) -> None:
    if module.end_block is None:
        return
    view = overlay.child()
    context = HookContext(view, block)
    try:
        module.end_block(context)
    except CivicError as exc:
        context.events.clear()
        context.report(f"end_block {module.name}", exc)
        run.block_receipts.append(context.receipts[-1])
        return
    if context.events:
        context.report(f"end_block {module.name}")
    view.merge_into_parent()
    run.block_receipts.extend(context.receipts)


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
    action = admitted.action
    try:
        if action.policy is not None:
            facts = action.subjects(view, admitted.args) if action.subjects is not None else NO_FACTS
            check_policy(action.policy, admitted.sender, admitted.endorsers, facts)
        action.apply(context, admitted.args)
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
