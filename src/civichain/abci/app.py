"""ABCI requests in, civichain ledger calls out, ABCI responses back. Protobuf stops here."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from concurrent.futures.process import BrokenProcessPool

import structlog

from civichain import __version__
from civichain.abci.messages import abci, keys
from civichain.crypto.workers import VerifierPool
from civichain.errors import CivicError
from civichain.execution.codes import codespace_of, number_of
from civichain.ledger import Ledger
from civichain.types import Receipt, ValidatorUpdate
from civichain.store import EvidenceRecord

log = structlog.get_logger("civichain.abci")

APP_VERSION = 1
NODE_ID = re.compile(r"^[0-9a-f]{40}$")


class AbciApplication:
    """The civichain application as CometBFT sees it: one method per ABCI request kind."""

    def __init__(self, ledger: Ledger, verifiers: VerifierPool | None = None) -> None:
        self.ledger = ledger
        self.verifiers = verifiers   # worker processes for CheckTx signatures; None: CheckTx verifies itself
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
        if path.startswith("/p2p/filter/id/"):
            return self._filter_node(path.removeprefix("/p2p/filter/id/"))
        if path.startswith("/p2p/filter/addr/"):
            return self._filter_address(path.removeprefix("/p2p/filter/addr/"))
        return _refusal("query.unknown_path", f"unknown query path {path!r}; the HTTP API serves state, "
                        "transactions and proofs")

    def _filter_node(self, node_id: str) -> abci.ResponseQuery:
        """Admit a peer whose (authenticated) node id is a validator's node or an observer in committed state."""
        if not NODE_ID.match(node_id):
            return _refusal("p2p.bad_node_id", f"peer node id {node_id!r} is not 40 lower-case hex digits")
        if self.ledger.admission is None:
            return _refusal("p2p.not_ready", f"peer {node_id} refused: the chain is not initialised yet")
        node = self.ledger.admitted_node(node_id)
        if node is None:
            log.warning("p2p.peer_refused", node_id=node_id, height=self.ledger.height)
            return _refusal("p2p.unknown_node", f"peer {node_id} refused: not a validator's node nor an admitted "
                            f"observer at height {self.ledger.height}")
        log.info("p2p.peer_admitted", node_id=node_id, role=node.role, operator=node.operator)
        return abci.ResponseQuery(code=0, log=f"peer {node_id} admitted: {node.role} node of {node.operator}")

    def _filter_address(self, address: str) -> abci.ResponseQuery:
        """Admit any well-formed IP:port: addresses are not authenticated, node ids are (see docs/architecture.md)."""
        host, _, port = address.rpartition(":")
        try:
            ipaddress.ip_address(host.strip("[]"))
            valid = port.isdigit() and 0 < int(port) < 65536
        except ValueError:
            valid = False
        if not valid:
            return _refusal("p2p.bad_address", f"peer address {address!r} is not IP:port")
        return abci.ResponseQuery(code=0)

    # consensus connection
    def init_chain(self, request) -> abci.ResponseInitChain:
        validators = [ValidatorUpdate(v.pub_key.ed25519, v.power) for v in request.validators]
        try:
            app_hash = self.ledger.init_chain(request.chain_id, request.app_state_bytes, validators)
        except CivicError as exc:
            log.error("abci.init_chain_refused", **exc.facts())
            raise
        log.info("abci.init_chain", chain_id=request.chain_id, app_hash=app_hash.hex(), validators=len(validators))
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
        evidence = evidence_records(request.misbehavior)
        if evidence:
            log.warning("block.evidence", height=request.height,
                        offences=[f"{e.kind} by {e.validator.hex().upper()} at {e.height}" for e in evidence])
        outcome = self.ledger.finalize_block(request.height, time_ns, request.hash, list(request.txs), evidence)
        self._finalize_seconds = time.perf_counter() - started
        response = abci.ResponseFinalizeBlock(app_hash=outcome.app_hash)
        results = response.tx_results
        for receipt, data in zip(outcome.receipts, outcome.receipt_bytes):
            result = results.add()
            result.code = number_of(receipt.code)
            result.data = data
            if receipt.code != "ok":
                result.codespace = codespace_of(receipt.code)
                result.log = f"{receipt.code}: {receipt.where} is {receipt.got}, expected {receipt.expected}"
        for update in outcome.validator_updates:
            response.validator_updates.add(pub_key=keys.PublicKey(ed25519=update.pub_key), power=update.power)
        for receipt in outcome.block_receipts:
            _add_block_events(response, receipt)
        if outcome.validator_updates:
            log.info("abci.validator_updates", height=request.height, effective_from=request.height + 2,
                     updates=[f"{u.pub_key.hex()[:16]}…={u.power}" for u in outcome.validator_updates])
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
    async def before_check_txs(self, txs: list[bytes]) -> None:
        """Verify the signatures of a batch of new transactions in the worker processes, before CheckTx.

        The event loop serves the consensus connection meanwhile, so blocks execute while signatures are
        checked. Each transaction whose signatures verified is entered in the signature cache under the keys
        that verified it, and CheckTx then skips only that verification: the outcome is CheckTx's alone, as
        without workers (a key changed in between makes the cache miss, and CheckTx verifies again).
        """
        if self.verifiers is None or self.ledger.admission is None:
            return
        work = self.ledger.signature_work(txs)
        if not work:
            return
        try:
            outcomes = []
            for future in self.verifiers.submit(self.ledger.suite.name, [w.checks for w in work]):
                outcomes.extend(await asyncio.wrap_future(future))
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory): go on verifying in CheckTx itself, which is only slower.
            log.error("abci.verifiers_lost", error=str(exc), fallback="CheckTx verifies signatures itself")
            self.verifiers = None
            return
        self.ledger.remember_verified(work, outcomes)

    def check_tx(self, request) -> abci.ResponseCheckTx:
        self._checks += 1
        outcome = self.ledger.check_tx(request.tx, recheck=request.type == abci.RECHECK)
        if outcome.code == "ok":
            return abci.ResponseCheckTx(code=0)
        return abci.ResponseCheckTx(code=number_of(outcome.code), codespace=codespace_of(outcome.code),
                                    log=f"{outcome.code}: {outcome.where} is {outcome.got}, expected {outcome.expected}")


_MISBEHAVIOUR_KINDS = {abci.DUPLICATE_VOTE: "duplicate_vote", abci.LIGHT_CLIENT_ATTACK: "light_client_attack"}


def evidence_records(misbehavior) -> list[EvidenceRecord]:
    """Turn FinalizeBlock's `misbehavior` list into civichain's evidence records, in block order."""
    return [EvidenceRecord(_MISBEHAVIOUR_KINDS.get(m.type, "unknown"), bytes(m.validator.address), m.validator.power,
                           m.height, m.time.seconds * 1_000_000_000 + m.time.nanos, m.total_voting_power)
            for m in misbehavior]


def _refusal(code: str, message: str) -> abci.ResponseQuery:
    return abci.ResponseQuery(code=number_of(code), codespace=codespace_of(code), log=f"{code}: {message}")


def _add_block_events(response, receipt: Receipt) -> None:
    """Copy an end-of-block task's events into FinalizeBlock's events (for CometBFT's block_results; not hashed)."""
    for event in receipt.events:
        added = response.events.add(type=f"{event.module}.{event.type}")
        added.attributes.add(key="key", value=event.key)
        for attribute in event.attributes:
            added.attributes.add(key=attribute.key, value=attribute.value)
        if receipt.code != "ok":
            added.attributes.add(key="code", value=receipt.code)
