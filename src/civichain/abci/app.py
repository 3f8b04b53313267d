"""ABCI requests in, civichain ledger calls out, ABCI responses back. Protobuf stops here."""

from __future__ import annotations

import time

import structlog

from civichain import __version__
from civichain.abci.messages import abci
from civichain.codec import encode
from civichain.execution.codes import codespace_of, number_of
from civichain.ledger import Ledger

log = structlog.get_logger("civichain.abci")

APP_VERSION = 1


class AbciApplication:
    """The civichain application as CometBFT sees it: one method per ABCI request kind."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._finalize_seconds = 0.0
        self._checks = self._proposals = 0   # for the operator's log line of each block

    # query connection
    def info(self, request) -> abci.ResponseInfo:
        height, app_hash = self.ledger.info()
        log.info("abci.info", height=height, cometbft=request.version, abci=request.abci_version)
        return abci.ResponseInfo(data="civichain", version=__version__, app_version=APP_VERSION,
                                 last_block_height=height, last_block_app_hash=app_hash)

    def query(self, request) -> abci.ResponseQuery:
        path = request.path
        if path.startswith("/p2p/filter/"):
            return abci.ResponseQuery(code=0)   # every peer of the configured mesh (issue 3 adds the chain's list)
        return abci.ResponseQuery(code=1, codespace="query", log=f"unknown query path {path!r}; the HTTP API "
                                  "serves state, transactions and proofs")

    # consensus connection
    def init_chain(self, request) -> abci.ResponseInitChain:
        app_hash = self.ledger.init_chain(request.chain_id, request.app_state_bytes)
        log.info("abci.init_chain", chain_id=request.chain_id, app_hash=app_hash.hex())
        return abci.ResponseInitChain(app_hash=app_hash)

    def prepare_proposal(self, request) -> abci.ResponsePrepareProposal:
        txs = self.ledger.prepare_proposal(request.txs, request.max_tx_bytes, request.height)
        return abci.ResponsePrepareProposal(txs=txs)

    def process_proposal(self, request) -> abci.ResponseProcessProposal:
        self._proposals += 1
        accepted = self.ledger.process_proposal(list(request.txs))
        if not accepted:
            log.warning("abci.proposal_rejected", height=request.height)
        status = abci.ResponseProcessProposal.ACCEPT if accepted else abci.ResponseProcessProposal.REJECT
        return abci.ResponseProcessProposal(status=status)

    def finalize_block(self, request) -> abci.ResponseFinalizeBlock:
        started = time.perf_counter()
        time_ns = request.time.seconds * 1_000_000_000 + request.time.nanos
        outcome = self.ledger.finalize_block(request.height, time_ns, request.hash, list(request.txs))
        self._finalize_seconds = time.perf_counter() - started
        response = abci.ResponseFinalizeBlock(app_hash=outcome.app_hash)
        results = response.tx_results
        for receipt in outcome.receipts:
            result = results.add()
            result.code = number_of(receipt.code)
            result.data = encode(receipt)
            if receipt.code != "ok":
                result.codespace = codespace_of(receipt.code)
                result.log = f"{receipt.code}: {receipt.where} is {receipt.got}, expected {receipt.expected}"
        return response

    def commit(self, request) -> abci.ResponseCommit:
        started = time.perf_counter()
        height = self.ledger.height + 1
        retain = self.ledger.commit()
        log.info("block.committed", height=height, txs=self.ledger.last_block_txs,
                 finalize_ms=round(self._finalize_seconds * 1000, 1),
                 commit_ms=round((time.perf_counter() - started) * 1000, 1),
                 checks_since_last=self._checks, process_proposals=self._proposals)
        self._checks = self._proposals = 0
        return abci.ResponseCommit(retain_height=retain)

    # mempool connection
    def check_tx(self, request) -> abci.ResponseCheckTx:
        self._checks += 1
        outcome = self.ledger.check_tx(request.tx, recheck=request.type == abci.RECHECK)
        if outcome.code == "ok":
            return abci.ResponseCheckTx(code=0)
        return abci.ResponseCheckTx(code=number_of(outcome.code), codespace=codespace_of(outcome.code),
                                    log=f"{outcome.code}: {outcome.where} is {outcome.got}, expected {outcome.expected}")
