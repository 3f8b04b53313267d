"""The ledger: committed state, and the block being executed on top of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

import msgspec

from civichain.codec import decode, encode, json_decoder
from civichain.crypto import Suite, suite_named
from civichain.errors import CivicError
from civichain.execution import (
    Admission, AdmissionError, BlockRun, Mode, SignatureWork, execute_block, genesis_writes, nonce_key,
)
from civichain.execution.overlay import Overlay
from civichain.ledger.committed import CommittedState, LatestStateNodes, LogNodes, StateNodes
from civichain.log import Frontier, TreeHasher, root_of
from civichain.modules import ALL_MODULES, BlockContext
from civichain.modules.membership import NodeRecord, load_node, load_validators
from civichain.state import TreeUpdate, apply as apply_to_tree, prunable_nodes
from civichain.store import BlockRecord, CommitBatch, EvidenceRecord, Store, StoreError
from civichain.types import AppGenesis, Receipt, ValidatorUpdate, app_hash_of

PRUNE_EVERY = 50   # blocks between two pruning passes of old state versions


class LedgerError(CivicError):
    """The ledger cannot go on: a genesis or store problem no transaction explains."""


class CheckOutcome(NamedTuple):
    """The answer to CheckTx: "ok", or a code with its facts."""

    code: str
    where: str = ""
    got: str = ""
    expected: str = ""
    sender: str = ""


@dataclass(slots=True)
class FinalizeOutcome:
    """What FinalizeBlock returns to CometBFT, and what Commit will write."""

    height: int
    app_hash: bytes
    receipts: list[Receipt]
    batch: CommitBatch
    run: BlockRun
    frontier: Frontier
    tree: TreeUpdate
    genesis_tree: TreeUpdate | None = None
    receipt_bytes: list[bytes] | None = None   # canonical bytes of `receipts`, then of the block receipts

    @property
    def block_receipts(self) -> list[Receipt]:
        """The receipts of the end-of-block tasks (after the transactions' receipts in the receipts root)."""
        return self.run.block_receipts

    @property
    def validator_updates(self) -> list[ValidatorUpdate]:
        """The validator changes this block made, for CometBFT (they take effect two heights later)."""
        return self.run.validator_updates


@dataclass(slots=True)
class _Genesis:
    chain_id: str
    app_state: bytes
    genesis: AppGenesis
    writes: dict[bytes, bytes | None]
    tree: TreeUpdate


class Ledger:
    """One node's ledger over its SQLite store. Single-threaded: the ABCI server calls it in order."""

    def __init__(self, store: Store, *, keep_versions: int | None = None, max_block_txs: int = 5000,
                 latest_state_only: bool = False) -> None:
        """Open the ledger of `store`.

        `latest_state_only` is for throw-away re-execution from genesis (`verify`, `replay`): the state tree's
        latest version is kept in memory and no tree node is written, so the store can answer no state proof
        and cannot be reopened. Raises `ledger.not_empty` when such a ledger is opened on a store with blocks.
        """
        self.store = store
        self.max_block_txs = max_block_txs
        self.committed = CommittedState(store)
        self._latest_only = latest_state_only
        self.nodes = LatestStateNodes() if latest_state_only else StateNodes(store)
        if latest_state_only and store.last_block() is not None:
            raise LedgerError("ledger.not_empty", where=str(store.path), got="committed blocks",
                              expected="an empty store for a re-execution that keeps only the latest state")
        self.log_nodes = LogNodes(store)
        self._keep_versions_override = keep_versions
        self._pending: FinalizeOutcome | None = None
        self._genesis_pending: _Genesis | None = None
        self._mempool_nonces: dict[str, int] = {}
        self.last_block_txs = 0
        self._load_committed()

    # --- start-up -----------------------------------------------------------------------------------------

    def _load_committed(self) -> None:
        last = self.store.last_block()
        self.height = 0 if last is None else last.height
        self.app_hash = b"" if last is None else last.app_hash
        self.time_ns = 0 if last is None else last.time_ns
        self.admission: Admission | None = None
        self.suite: Suite | None = None
        if last is None:
            return
        app_state = self.store.meta("app_genesis")
        chain_id = self.store.meta("chain_id")
        if app_state is None or chain_id is None:
            raise StoreError("store.corrupt", where=str(self.store.path), got="blocks without a genesis record",
                             expected="the genesis written with the first block")
        self._configure(chain_id.decode(), _parse_genesis(app_state))
        root = self.store.state_root(last.height)
        if root is None:
            raise StoreError("store.corrupt", where=str(self.store.path), got=f"no state root for height {last.height}",
                             expected="the state root of the last committed block")
        self.state_root_key, self.state_root = root
        self.frontier = Frontier.from_nodes(last.log_size, self.log_nodes, hasher=self.hasher)
        recomputed = app_hash_of(self.suite.hash, last.log_size, self.frontier.root(), self.state_root,
                                 last.receipts_root)
        if recomputed != last.app_hash or self.state_root != last.state_root:
            raise StoreError("store.corrupt", where=str(self.store.path),
                             got=f"stored app hash of height {last.height} does not match its parts",
                             expected="a database written by civichain and not modified since")

    def _configure(self, chain_id: str, genesis: AppGenesis) -> None:
        self.chain_id, self.genesis = chain_id, genesis
        self.suite = suite_named(genesis.suite)
        self.hasher = TreeHasher(self.suite.hash)
        self.admission = Admission(chain_id, self.suite, ALL_MODULES, max_tx_bytes=genesis.params.max_tx_bytes,
                                   max_expiry_window=genesis.params.max_expiry_window)
        self.keep_versions = self._keep_versions_override or genesis.params.state_keep_versions

    # --- ABCI: Info and InitChain -------------------------------------------------------------------------

    def info(self) -> tuple[int, bytes]:
        """Return (last committed height, its app hash): exactly what the last Commit wrote.

        CometBFT calls Info when it (re)starts, with an empty mempool: forget the nonces of the old one.
        """
        self._mempool_nonces.clear()
        return self.height, self.app_hash

    def init_chain(self, chain_id: str, app_state: bytes,
                   validators: Sequence[ValidatorUpdate] | None = None) -> bytes:
        """Prepare the genesis state (written with the first block's Commit) and return its app hash.

        `validators` are CometBFT's genesis validators (InitChain passes them): the application genesis must
        name exactly the same keys with the same powers. Raises LedgerError: `genesis.invalid`,
        `genesis.validators_mismatch` or another `genesis.*` code from a module's genesis check.
        """
        if self.height != 0:
            raise LedgerError("ledger.already_initialised", where="InitChain", got=f"height {self.height}",
                              expected="InitChain only on an empty store")
        genesis = _parse_genesis(app_state)
        try:
            writes = genesis_writes(genesis)
        except CivicError as exc:
            raise LedgerError(exc.code, where=exc.where, got=exc.got, expected=exc.expected) from None
        if validators is not None:
            _check_engine_validators(writes, validators)
        self._configure(chain_id, genesis)
        self.nodes.pending.clear()
        tree = apply_to_tree(self.nodes, None, 0, writes)
        self.nodes.pending.update(tree.new_nodes)
        self._genesis_pending = _Genesis(chain_id, app_state, genesis, writes, tree)
        self.frontier = Frontier.empty(hasher=self.hasher)
        self.state_root_key, self.state_root = tree.root_key, tree.root_hash
        empty = self.hasher.empty_root()
        return app_hash_of(self.suite.hash, 0, empty, tree.root_hash, empty)

    # --- ABCI: peer filter ---------------------------------------------------------------------------------

    def admitted_node(self, node_id: str) -> NodeRecord | None:
        """Return the record of a node the chain admits as a peer (a validator's or an observer), or None.

        Reads committed state (the genesis state before the first Commit), which every node shares.
        """
        if self.admission is None:
            return None
        return load_node(self._reader(), node_id)

    # --- ABCI: mempool ------------------------------------------------------------------------------------

    def check_tx(self, raw: bytes, *, recheck: bool) -> CheckOutcome:
        """Admit a transaction to the mempool, or say why not. Changes no state."""
        admission = self._require_admission()
        if recheck:
            return self._recheck(admission, raw)
        try:
            pending = self._mempool_nonces.get(admission.parse(raw).tx.body.sender)
            admitted = admission.admit(raw, self._reader(), height=self.height + 1, mode=Mode.MEMPOOL,
                                       pending_nonce=pending)
        except AdmissionError as exc:
            return CheckOutcome(exc.code, exc.where, _text(exc.got), exc.expected)
        self._mempool_nonces[admitted.sender.id] = admitted.nonce + 1
        return CheckOutcome("ok", sender=admitted.sender.id)

    def signature_work(self, raws: Iterable[bytes]) -> list[SignatureWork]:
        """Return the signature checks of the transactions in `raws` not yet verified under today's keys.

        For verifying elsewhere (worker processes) before CheckTx: `remember_verified` then spares CheckTx the
        verification. A transaction that fails its byte checks, names an unknown account or already verified
        is left out. Changes no state.
        """
        admission, state = self._require_admission(), self._reader()
        verified = admission.signatures.verified
        return [w for w in (admission.signature_work(raw, state) for raw in raws)
                if w is not None and not verified(w.tx_id, w.keys)]

    def remember_verified(self, work: Iterable[SignatureWork], outcomes: Iterable[bool]) -> None:
        """Enter each transaction whose checks all verified into the signature cache (the others are ignored:
        admission verifies them itself and refuses what is bad)."""
        remember = self._require_admission().signatures.remember
        for item, ok in zip(work, outcomes, strict=True):
            if ok:
                remember(item.tx_id, item.keys)

    def _recheck(self, admission: Admission, raw: bytes) -> CheckOutcome:
        # CometBFT re-checks the remaining mempool in its order after each Commit, which cleared the map of
        # pending nonces: each transaction kept puts its sender's next pending nonce back.
        try:
            sender, nonce = admission.recheck(raw, self._reader(), height=self.height + 1)
        except AdmissionError as exc:
            return CheckOutcome(exc.code, exc.where, _text(exc.got), exc.expected)
        if nonce + 1 > self._mempool_nonces.get(sender, 0):
            self._mempool_nonces[sender] = nonce + 1
        return CheckOutcome("ok", sender=sender)

    # --- ABCI: proposals ----------------------------------------------------------------------------------

    def prepare_proposal(self, txs: Iterable[bytes], max_bytes: int, height: int) -> list[bytes]:
        """Choose the proposal's transactions: those that pass admission now, in mempool order, within size.

        At most `max_block_txs` (node policy, not a consensus rule): a block the slowest validator can check
        and execute well within the round's timeouts keeps commits flowing under load.
        """
        admission = self._require_admission()
        nonces = Overlay(self._reader())
        chosen, total = [], 0
        for raw in txs:
            if total + len(raw) > max_bytes or len(chosen) >= self.max_block_txs:
                break
            try:
                admitted = admission.admit(raw, nonces, height=height, mode=Mode.BLOCK)
            except AdmissionError:
                continue
            nonces.set(nonce_key(admitted.sender.id), encode(admitted.nonce + 1))
            chosen.append(raw)
            total += len(raw)
        return chosen

    def process_proposal(self, txs: list[bytes]) -> bool:
        """Accept a proposal unless a transaction is malformed, of another chain or badly signed.

        Deterministic: it reads only committed state, which every validator shares. Nonces and expiry are
        not checked here; a transaction that fails them gets a refusal receipt at execution.
        """
        admission = self._require_admission()
        reader = self._reader()
        for raw in txs:
            try:
                admission.check_proposed(raw, reader)
            except AdmissionError:
                return False
        return True

    # --- ABCI: FinalizeBlock and Commit --------------------------------------------------------------------

    def finalize_block(self, height: int, time_ns: int, block_hash: bytes, txs: list[bytes],
                       misbehavior: Sequence[EvidenceRecord] = ()) -> FinalizeOutcome:
        """Execute a decided block into memory and return its receipts and app hash. Writes nothing.

        `misbehavior` is the evidence CometBFT committed in the block; Commit stores it for the API.
        """
        admission = self._require_admission()
        if height != self.height + 1:
            raise LedgerError("ledger.height_gap", where="FinalizeBlock", got=height, expected=str(self.height + 1))
        block = BlockContext(self.chain_id, height, time_ns)
        base_writes = self._genesis_pending.writes if self._genesis_pending else {}
        reader = _Layered(base_writes, self.committed)
        with self.store.snapshot():
            run = execute_block(admission, block, txs, reader, self.frontier.size)
            outcome = self._seal(height, time_ns, block_hash, txs, run)
        # Not hashed into the app hash: the header's evidence hash already commits to the block's evidence.
        outcome.batch.evidence.extend(misbehavior)
        return outcome

    def _seal(self, height: int, time_ns: int, block_hash: bytes, txs: list[bytes], run: BlockRun) -> FinalizeOutcome:
        """Append the block to the log, apply its writes to the state tree, and compute the app hash."""
        frontier = self.frontier.copy()
        log_nodes: list[tuple[int, int, bytes]] = []
        for raw in run.logged:
            log_nodes.extend(frontier.append(self.hasher.leaf(raw)))
        # Each receipt is encoded once: for its leaf, the block record and FinalizeBlock's result data.
        receipt_bytes = [encode(r) for r in run.all_receipts()]
        receipts_root = root_of([self.hasher.leaf(b) for b in receipt_bytes], hasher=self.hasher)
        tree = apply_to_tree(self.nodes, self.state_root_key, height, run.writes)
        app_hash = app_hash_of(self.suite.hash, frontier.size, frontier.root(), tree.root_hash, receipts_root)
        batch = self._commit_batch(height, time_ns, block_hash, app_hash, txs, run, frontier, receipts_root,
                                   receipt_bytes, log_nodes, tree)
        genesis_tree = self._genesis_pending.tree if self._genesis_pending else None
        self._pending = FinalizeOutcome(height, app_hash, run.receipts, batch, run, frontier, tree, genesis_tree,
                                        receipt_bytes)
        return self._pending

    def commit(self) -> int:
        """Write the finalized block durably; return the height below which CometBFT may prune blocks (0: none)."""
        pending = self._pending
        if pending is None:
            raise LedgerError("ledger.nothing_to_commit", where="Commit", got="no finalized block",
                              expected="FinalizeBlock before Commit")
        self.store.commit_block(pending.batch)
        self._pending = None
        self._genesis_pending = None
        self.committed.apply(pending.batch.kv)
        if self._latest_only:
            for update in (pending.genesis_tree, pending.tree):
                if update is not None:
                    self.nodes.replace(update.stale, update.new_nodes)
        else:
            self.nodes.committed(pending.batch.state_nodes)
        self.nodes.pending.clear()
        self.height, self.app_hash, self.time_ns = pending.height, pending.app_hash, pending.batch.block.time_ns
        self.last_block_txs = pending.batch.block.tx_count
        self.frontier = pending.frontier
        self.state_root_key, self.state_root = pending.tree.root_key, pending.tree.root_hash
        self._mempool_nonces.clear()   # rebuilt by CometBFT's re-check of the remaining mempool
        if self.height % PRUNE_EVERY == 0 and not self._latest_only:
            self.prune()
        return 0

    def prune(self) -> int:
        """Delete state versions older than the retention window; return how many nodes went."""
        oldest = self.height - self.keep_versions + 1
        if oldest <= 0:
            return 0
        records = [(version, _unpack_keys(packed)) for version, packed in self.store.stale_records(oldest)]
        deletable = prunable_nodes([(version, key) for version, keys in records for key in keys], oldest)
        old_versions = [v for v in self.store.state_versions() if v < oldest]
        self.store.prune_state(old_versions, deletable, stale_versions=[version for version, _ in records])
        self.nodes.forget(deletable)
        return len(deletable)

    # --- helpers ------------------------------------------------------------------------------------------

    def _reader(self):
        if self._genesis_pending is not None:
            return _Layered(self._genesis_pending.writes, self.committed)
        return self.committed

    def _require_admission(self) -> Admission:
        if self.admission is None:
            raise LedgerError("ledger.not_initialised", where="ledger", got="no genesis",
                              expected="InitChain before any transaction")
        return self.admission

    def _commit_batch(self, height: int, time_ns: int, block_hash: bytes, app_hash: bytes, txs: list[bytes],
                      run: BlockRun, frontier: Frontier, receipts_root: bytes, receipt_bytes: list[bytes], log_nodes,
                      tree: TreeUpdate) -> CommitBatch:
        # The list of receipts in its canonical form, from the receipts' own canonical bytes.
        receipts = encode([msgspec.Raw(b) for b in receipt_bytes])
        record = BlockRecord(height, time_ns, block_hash, app_hash, frontier.size, frontier.root(), tree.root_hash,
                             receipts_root, len(txs), encode(list(txs)), receipts)
        batch = CommitBatch(block=record, log_nodes=log_nodes)
        for position, receipt in enumerate(run.receipts):
            batch.tx_index.append((receipt.tx_id, position, receipt.log_index))
            if receipt.log_index is not None:
                batch.log_leaves.append((receipt.log_index, position))
        # Block receipts follow the transactions: their events are indexed at positions len(txs), len(txs)+1, ...
        for position, receipt in enumerate(run.all_receipts()):
            for seq, event in enumerate(receipt.events):
                batch.events.append((event.module, event.type, event.key, position, seq))
        genesis = self._genesis_pending
        kv = dict(genesis.writes) if genesis else {}
        kv.update(run.writes)
        batch.kv = kv
        trees = ([genesis.tree] if genesis else []) + [tree]
        for update in trees:
            batch.state_roots.append((update.version, update.root_key, update.root_hash))
            if self._latest_only:     # the tree stays in memory (see __init__)
                continue
            batch.state_nodes.extend(update.new_nodes)
            if update.stale:
                batch.state_stale.append((update.version, _pack_keys(update.stale)))
        if genesis:
            batch.meta.update({"chain_id": genesis.chain_id.encode(), "app_genesis": genesis.app_state})
        return batch


class _Layered:
    """Genesis writes not yet committed, over the committed state."""

    __slots__ = ("_top", "_base")

    def __init__(self, top: dict[bytes, bytes | None], base) -> None:
        self._top, self._base = top, base

    def get(self, key: bytes) -> bytes | None:
        if key in self._top:
            return self._top[key]
        return self._base.get(key)


def _check_engine_validators(writes: dict[bytes, bytes | None], validators: Sequence[ValidatorUpdate]) -> None:
    """Refuse a genesis whose validators are not exactly CometBFT's (same keys, same powers)."""
    recorded = sorted((v.pub_key, v.power) for v in load_validators(_Layered(writes, _Nothing())).validators)
    engine = sorted((bytes(v.pub_key), v.power) for v in validators)
    if recorded != engine:
        raise LedgerError("genesis.validators_mismatch", where="genesis.json: app_state.validators",
                          got=_describe_validators(recorded),
                          expected=f"CometBFT's genesis validators: {_describe_validators(engine)}")


def _describe_validators(validators: list[tuple[bytes, int]]) -> str:
    return ", ".join(f"{key.hex()[:16]}…={power}" for key, power in validators) or "none"


class _Nothing:
    def get(self, key: bytes) -> bytes | None:
        return None


def _parse_genesis(app_state: bytes) -> AppGenesis:
    try:
        return json_decoder(AppGenesis).decode(app_state)
    except msgspec.MsgspecError as exc:
        raise LedgerError("genesis.invalid", where="genesis.json: app_state", got=str(exc),
                          expected="a civichain application genesis") from None


def _pack_keys(keys: list[bytes]) -> bytes:
    return encode(list(keys))


def _unpack_keys(packed: bytes) -> list[bytes]:
    return decode(packed, list[bytes], where="stale node list")


def _text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)
