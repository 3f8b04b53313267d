"""`civichain bench modules`, first part: blocks of 2,000 land and funds transactions, applied in-process.

A fresh ledger on a SQLite file (durable, as in a node) starts from the genesis of `bench/city.py` (the
departments and their accounts); setup blocks, untimed, register parcels with titles, mortgage some, open a
fiscal year with appropriations, programmes and allocations, and sign contracts. The ledger is then reopened,
so the measured blocks find the setup's records on disk rather than in its caches (in a city's state most
parcels were last touched long ago), and each measured block goes through the validator's own code path,
`AbciApplication` over the ledger, in CometBFT's order:

1. CheckTx of every transaction, as the mempool does: each signature is verified here, once;
2. ProcessProposal of the block;
3. FinalizeBlock: admission again, execution of every action, receipts, the state-tree update and state
   root, the transparency-log append and the app hash. *Applying the block*: this is issue 4's figure;
4. Commit: the durable SQLite write (full fsync), timed separately.

The same block is also finalized, just before and thrown away, by a second ledger opened on the same store
that has seen none of the transactions: it parses and verifies every signature inside FinalizeBlock, with
cold caches, as a node catching up by block sync does. Its app hash must equal the first ledger's.

Every receipt must be `ok`: a bench whose transactions fail measures nothing, so the run stops otherwise.
Times are wall-clock (what the block takes on a validator); the CPU time of the process is shown next to them.
"""

from __future__ import annotations

import gc
import hashlib
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import msgspec

from civichain.abci.app import AbciApplication
from civichain.abci.messages import abci
from civichain.bench.app import ed25519_verify_seconds
from civichain.bench.city import CHAIN_ID, BlockPlan, City
from civichain.execution.codes import number_of
from civichain.ledger import Ledger
from civichain.ledger.committed import CommittedState
from civichain.store import Store

Report = Callable[[str], None]
SETUP_BLOCK = 2_000
BLOCK_TIME = 1_700_000_000      # seconds; block h is at BLOCK_TIME + h


class BenchFailure(RuntimeError):
    """A bench transaction did not succeed: the figures would not measure the full path."""


def run_block_bench(*, blocks: int = 5, block_txs: int = 2_000, report: Report = print) -> dict:
    """Apply `blocks` measured blocks of `block_txs` land and funds transactions; return the figures."""
    started, thresholds = time.monotonic(), gc.get_threshold()
    city = City(blocks=blocks, block_txs=block_txs)
    setup = city.setup()
    report(f"  signed {len(setup):,} setup transactions in {time.monotonic() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="civichain-bench-block-") as tmp:
        store = Store(Path(tmp) / "civichain.db")
        try:
            ledger = Ledger(store)
            ledger.init_chain(CHAIN_ID, msgspec.json.encode(city.genesis()))
            app = AbciApplication(ledger)
            for first in range(0, len(setup), SETUP_BLOCK):
                _apply(app, setup[first:first + SETUP_BLOCK])
            report(f"  setup: {len(setup):,} transactions in {ledger.height} blocks, all ok "
                   f"({time.monotonic() - started:.1f} s)")
            plans = [city.block(b, CommittedState(store)) for b in range(blocks)]   # read past the ledger's caches
            app = AbciApplication(Ledger(store))      # reopened: the setup's records are on disk, not in caches
            gc.collect()
            gc.freeze()                               # as the app process does (node/app_process.py)
            gc.set_threshold(50_000, 50, 1000)
            rows = []
            for plan in plans:
                rows.append(_measure(app, store, plan.txs))
                report(f"  block {len(rows)} of {blocks}: FinalizeBlock {rows[-1]['finalize'][0] * 1000:.0f} ms, "
                       f"Commit {rows[-1]['commit'][0] * 1000:.0f} ms")
        finally:
            store.close()
            gc.unfreeze()
            gc.set_threshold(*thresholds)
    return _figures(rows, plans, blocks, block_txs)


def _measure(app: AbciApplication, store: Store, txs: list[bytes]) -> dict[str, tuple[float, float]]:
    """Run one block through the validator's phases; return (wall, CPU) seconds of each phase."""
    height = app.ledger.height + 1
    request = abci.RequestFinalizeBlock(txs=txs, height=height, hash=hashlib.sha256(b"%d" % height).digest())
    request.time.seconds = BLOCK_TIME + height
    unseen = AbciApplication(Ledger(store))
    cold, cold_answer = _timed(lambda: unseen.finalize_block(request))
    check_receipts(cold_answer, len(txs), "FinalizeBlock of a node that never saw the transactions")
    del unseen
    gc.collect()
    row = {"finalize_unseen": cold}
    row["check_tx"], checks = _timed(lambda: [app.check_tx(abci.RequestCheckTx(tx=raw, type=abci.NEW)) for raw in txs])
    refused = Counter(f"{c.codespace} {c.code}: {c.log[:80]}" for c in checks if c.code != 0)
    if refused:
        raise BenchFailure(f"CheckTx refused {sum(refused.values())} bench transactions: {refused.most_common(3)}")
    row["process_proposal"], proposal = _timed(
        lambda: app.process_proposal(abci.RequestProcessProposal(txs=txs, height=height)))
    if proposal.status != abci.ResponseProcessProposal.ACCEPT:
        raise BenchFailure(f"ProcessProposal rejected bench block {height}")
    row["finalize"], answer = _timed(lambda: app.finalize_block(request))
    check_receipts(answer, len(txs), "FinalizeBlock")
    if answer.app_hash != cold_answer.app_hash:
        raise BenchFailure(f"block {height}: two ledgers on the same state reached different app hashes")
    row["commit"], _ = _timed(lambda: app.commit(abci.RequestCommit()))
    return row


def _timed(work: Callable):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def check_receipts(answer, expected: int, phase: str) -> None:
    """Raise BenchFailure unless every transaction of the block got an `ok` receipt."""
    codes = Counter(f"{r.codespace} {r.code}: {r.log[:120]}" for r in answer.tx_results if r.code != number_of("ok"))
    if codes or len(answer.tx_results) != expected:
        raise BenchFailure(f"{phase}: {sum(codes.values())} of {expected} receipts failed, e.g. {codes.most_common(3)}")


def _apply(app: AbciApplication, txs: list[bytes]) -> None:
    """Finalize and commit a setup block; every receipt must be ok."""
    height = app.ledger.height + 1
    request = abci.RequestFinalizeBlock(txs=txs, height=height, hash=hashlib.sha256(b"%d" % height).digest())
    request.time.seconds = BLOCK_TIME + height
    check_receipts(app.finalize_block(request), len(txs), f"setup block {height}")
    app.commit(abci.RequestCommit())


def _figures(rows: list[dict], plans: list[BlockPlan], blocks: int, block_txs: int) -> dict:
    def ms(phase: str, kind: int = 0) -> list[float]:
        return [row[phase][kind] * 1000 for row in rows]

    applied = [f + c for f, c in zip(ms("finalize"), ms("commit"))]
    return {
        "blocks": blocks, "txs_per_block": block_txs, "mix": plans[0].mix,
        "signatures_per_block": round(statistics.mean(plan.signatures for plan in plans)),
        "receipts_ok": f"all {blocks * block_txs:,} ok",
        "finalize_ms_median": _median(ms("finalize")), "finalize_ms_max": round(max(ms("finalize"))),
        "finalize_cpu_ms_median": _median(ms("finalize", 1)),
        "commit_ms_median": _median(ms("commit")), "commit_ms_max": round(max(ms("commit"))),
        "finalize_and_commit_ms_median": _median(applied), "finalize_and_commit_ms_max": round(max(applied)),
        "signatures_verified_in_finalize": "no: CheckTx verified them, as on a validator whose mempool had the txs",
        "finalize_unseen_ms_median": _median(ms("finalize_unseen")),
        "finalize_unseen_ms_max": round(max(ms("finalize_unseen"))),
        "finalize_unseen_is": "FinalizeBlock on a node that never saw the txs: verifies every signature, cold caches",
        "check_tx_us_per_tx": round(statistics.median(ms("check_tx")) * 1000 / block_txs, 1),
        "process_proposal_ms_median": _median(ms("process_proposal")),
        "ed25519_verify_us": round(ed25519_verify_seconds() * 1e6, 1),
    }


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)
