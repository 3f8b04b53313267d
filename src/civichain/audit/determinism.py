"""`civichain replay HOME`: re-execute a node's whole chain from genesis in a fresh app and compare every app hash.

The determinism check an operator runs on their own node (CI runs it after the fault tests): the node's
database keeps every block's transactions, BFT time and block hash, and what the app computed from them
(app hash, log size and root, state root, receipts root, receipts). A fresh ledger in a throw-away file
executes the same blocks in order; any height where it computes anything else is reported, naming the
height and the field, because two runs of the same code on the same inputs must agree bit for bit.
"""

from __future__ import annotations

import tempfile
import time
from itertools import takewhile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from civichain.audit.cometbft import AuditError
from civichain.audit.signatures import SignaturePipeline
from civichain.codec import decode
from civichain.ledger import Ledger
from civichain.store import Store

Progress = Callable[[int, int], None]


@dataclass
class ReplayReport:
    """What `replay` re-executed."""

    chain_id: str = ""
    heights: int = 0
    transactions: int = 0
    seconds: float = 0.0

    def tx_per_second(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0


def replay_store(path: Path, progress: Progress | None = None, *, workers: int | None = None) -> ReplayReport:
    """Re-execute every block of the node database at `path`; raise AuditError at the first difference.

    Only the blocks committed when it starts are replayed (the node may keep running meanwhile).
    """
    started = time.monotonic()
    source = Store(path, readonly=True)
    try:
        chain_id, app_state = source.meta("chain_id"), source.meta("app_genesis")
        last = source.last_block()
        if chain_id is None or app_state is None or last is None:
            raise AuditError("audit.nothing_to_replay", where=str(path), got="no committed block",
                             expected="the database of a node that has committed blocks")
        report = ReplayReport(chain_id=chain_id.decode())
        with tempfile.TemporaryDirectory(prefix="civichain-replay-") as tmp:
            fresh = Store(Path(tmp) / "replay.db", durable=False, lookups=False)
            ledger = Ledger(fresh, latest_state_only=True)
            ledger.init_chain(report.chain_id, app_state)
            with SignaturePipeline(ledger.admission, ledger.committed, workers=workers) as signatures:
                blocks = takewhile(lambda record: record.height <= last.height, source.blocks())
                for record, txs in signatures.ahead(blocks, _transactions):
                    outcome = ledger.finalize_block(record.height, record.time_ns, record.block_hash, txs)
                    _compare(record, outcome.batch.block)
                    ledger.commit()
                    report.heights += 1
                    report.transactions += len(txs)
                    if progress:
                        progress(record.height, last.height)
            fresh.close()
    finally:
        source.close()
    report.seconds = time.monotonic() - started
    return report


def _transactions(record) -> list[bytes]:
    return decode(record.txs, list[bytes], where=f"height {record.height} transactions")


def _compare(stored, replayed) -> None:
    where = f"height {stored.height}"
    for name in ("app_hash", "log_size", "log_root", "state_root", "receipts_root", "receipts"):
        got, want = getattr(stored, name), getattr(replayed, name)
        if got != want:
            shown = (lambda v: v.hex()[:64] if isinstance(v, bytes) else str(v))
            raise AuditError(f"audit.{name}", where=f"{where} {name}", got=f"{shown(got)} (stored by the node)",
                             expected=f"{shown(want)} (re-executed from genesis)")

