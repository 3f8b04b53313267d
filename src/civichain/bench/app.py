"""`civichain bench app`: the CPU the app spends per transaction in each ABCI phase, without CometBFT.

A fresh ledger on a SQLite file (durable, as in a node) is fed the framed protobuf requests CometBFT sends,
through the ABCI server's own decoding and dispatch, but without sockets: per block, CheckTx of the new
transactions, PrepareProposal and ProcessProposal of the block, FinalizeBlock, Commit, then the re-check of
the transactions still waiting in the mempool (a backlog of `backlog`). The transactions are notary anchors
signed by `accounts` registered accounts, as in `civichain bench network`.

Times are the process's CPU time (not wall time: no disk waits, and less of the noise of a shared machine).
What one node's app costs per transaction is the sum of the phases (PrepareProposal runs on the proposer
only). The run also times one Ed25519 verification on this machine: the cost every node pays per
transaction whatever the app does, and a yardstick to compare figures measured on different days.
"""

from __future__ import annotations

import gc
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Callable

import msgspec

from civichain.abci.app import AbciApplication
from civichain.abci.messages import abci
from civichain.abci.server import AbciServer, encode_uvarint
from civichain.bench.load import anchor_txs, bench_signers, interleave
from civichain.crypto import ED25519_SHA256
from civichain.ledger import Ledger
from civichain.store import Store
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis

Report = Callable[[str], None]
PHASES = ("check_tx", "prepare_proposal", "process_proposal", "finalize_block", "commit", "recheck")
CHAIN_ID = "bench-app"
ORGANISATION = "notary-office"


def run_app_bench(*, blocks: int = 20, block: int = 1_000, backlog: int = 1_000, accounts: int = 200,
                  report: Report = print) -> dict:
    """Run `blocks` blocks of `block` transactions through one in-process app; return µs per tx by phase."""
    signers = bench_signers(ORGANISATION, accounts)
    genesis = AppGenesis(
        suite=ED25519_SHA256.name,
        organisations=(OrganisationGenesis(ORGANISATION, "公证处", "Notary Office"),),
        accounts=tuple(AccountGenesis(s.account, ORGANISATION, s.public_key.hex(), ("notary",)) for s in signers))
    total = block * blocks + backlog
    started = time.monotonic()
    per_account = -(-total // accounts)
    txs = interleave([anchor_txs(CHAIN_ID, s, per_account, 0, blocks + 10, tag="bench app") for s in signers])[:total]
    report(f"signed {len(txs)} transactions in {time.monotonic() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="civichain-bench-app-") as tmp:
        store = Store(Path(tmp) / "civichain.db")
        try:
            ledger = Ledger(store)
            ledger.init_chain(CHAIN_ID, msgspec.json.encode(genesis))
            seconds = _drive(AbciServer(AbciApplication(ledger), "tcp://127.0.0.1:0"), txs, blocks, block, backlog)
            if ledger.frontier.size != block * blocks:
                raise RuntimeError(f"only {ledger.frontier.size} of {block * blocks} transactions were committed "
                                   "successfully: the figures would not measure the full path")
        finally:
            store.close()
    per_tx = {phase: round(seconds[phase] / (block * blocks) * 1e6, 1) for phase in PHASES}
    node = round(sum(v for k, v in per_tx.items() if k != "prepare_proposal") + per_tx["prepare_proposal"] / 4, 1)
    return {"blocks": blocks, "block_txs": block, "backlog": backlog, "us_per_tx": per_tx,
            "us_per_tx_per_node_of_4": node, "ed25519_verify_us": round(ed25519_verify_seconds() * 1e6, 1)}


def _drive(server: AbciServer, txs: list[bytes], blocks: int, block: int, backlog: int) -> dict[str, float]:
    """Feed the server CometBFT's requests block by block; return the seconds spent per phase."""
    gc.freeze()                      # as the app process does (node/app_process.py)
    gc.set_threshold(50_000, 50, 1000)
    seconds = dict.fromkeys(PHASES, 0.0)

    def timed(phase: str, requests: list[bytes]) -> None:
        buffer = bytearray(b"".join(requests))
        started = time.process_time()
        _, consumed, _ = server._answer(buffer)
        seconds[phase] += time.process_time() - started
        if consumed != len(buffer):
            raise RuntimeError(f"{phase}: the server left {len(buffer) - consumed} bytes unanswered")

    # The backlog is admitted before the first block, untimed.
    server._answer(bytearray(b"".join(_frame(check_tx=abci.RequestCheckTx(tx=raw, type=abci.NEW))
                                      for raw in txs[:backlog])))
    pending, sent = list(txs[:backlog]), backlog
    for height in range(1, blocks + 1):
        new = txs[sent:sent + block]
        sent += len(new)
        timed("check_tx", [_frame(check_tx=abci.RequestCheckTx(tx=raw, type=abci.NEW)) for raw in new])
        pending.extend(new)
        chosen, pending = pending[:block], pending[block:]
        timed("prepare_proposal", [_frame(prepare_proposal=abci.RequestPrepareProposal(
            txs=chosen, max_tx_bytes=1 << 30, height=height))])
        timed("process_proposal", [_frame(process_proposal=abci.RequestProcessProposal(txs=chosen, height=height))])
        finalize = abci.RequestFinalizeBlock(txs=chosen, height=height, hash=hashlib.sha256(b"%d" % height).digest())
        finalize.time.seconds = 1_700_000_000 + height
        timed("finalize_block", [_frame(finalize_block=finalize)])
        timed("commit", [_frame(commit=abci.RequestCommit())])
        timed("recheck", [_frame(check_tx=abci.RequestCheckTx(tx=raw, type=abci.RECHECK)) for raw in pending])
    return seconds


def _frame(**request) -> bytes:
    body = abci.Request(**request).SerializeToString()
    return encode_uvarint(len(body)) + body


def ed25519_verify_seconds(rounds: int = 2_000) -> float:
    """CPU seconds one Ed25519 verification of a 200-byte message takes here (best of three runs)."""
    seed = hashlib.sha256(b"bench app verify").digest()
    public = ED25519_SHA256.public_key(seed)
    message = bytes(200)
    signature = ED25519_SHA256.sign(seed, message)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(rounds):
            ED25519_SHA256.verify(public, message, signature)
        best = min(best, (time.process_time() - started) / rounds)
    return best
