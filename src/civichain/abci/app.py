"""ABCI requests in, civichain ledger calls out, ABCI responses back. Protobuf stops here."""

from __future__ import annotations

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
        txs = self.ledger.prepare_proposal(list(request.txs), request.max_tx_bytes, request.height)
        return abci.ResponsePrepareProposal(txs=txs)

    def process_proposal(self, request) -> abci.ResponseProcessProposal:
        accepted = self.ledger.process_proposal(list(request.txs))
        if not accepted:
            log.warning("abci.proposal_rejected", height=request.height)
        status = abci.ResponseProcessProposal.ACCEPT if accepted else abci.ResponseProcessProposal.REJECT
        return abci.ResponseProcessProposal(status=status)

    def finalize_block(self, request) -> abci.ResponseFinalizeBlock:
        time_ns = request.time.seconds * 1_000_000_000 + request.time.nanos
        outcome = self.ledger.finalize_block(request.height, time_ns, request.hash, list(request.txs))
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
        retain = self.ledger.commit()
        return abci.ResponseCommit(retain_height=retain)

    # mempool connection
    def check_tx(self, request) -> abci.ResponseCheckTx:
        outcome = self.ledger.check_tx(request.tx, recheck=request.type == abci.RECHECK)
        if outcome.code == "ok":
            return abci.ResponseCheckTx(code=0)
        return abci.ResponseCheckTx(code=number_of(outcome.code), codespace=codespace_of(outcome.code),
                                    log=f"{outcome.code}: {outcome.where} is {outcome.got}, expected {outcome.expected}")
