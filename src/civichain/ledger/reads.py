"""Read committed data with its proofs: what the API, the CLI and exports hand to citizens and auditors."""

from __future__ import annotations

from dataclasses import dataclass

from civichain.codec import decode, encode, json_decoder, to_plain
from civichain.crypto import suite_named
from civichain.errors import CivicError
from civichain.ledger.committed import LogNodes
from civichain.log import TreeHasher, consistency_proof, inclusion_proof
from civichain.modules import ALL_MODULES
from civichain.state import StateError, prove, read
from civichain.store import BlockRecord, Store
from civichain.types import AppGenesis, Checkpoint, Receipt, Transaction


class NotFound(CivicError):
    """Nothing committed under that id, height or key."""


@dataclass(frozen=True, slots=True)
class TxView:
    """A committed transaction, its receipt and where it is."""

    tx_id: bytes
    height: int
    position: int
    log_index: int | None
    raw: bytes
    receipt: Receipt


class LedgerReader:
    """Reads over a node's store. One per thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.log_nodes = LogNodes(store)
        self._load_genesis()

    def _load_genesis(self) -> None:
        app_state = self.store.meta("app_genesis")
        self.genesis = None if app_state is None else json_decoder(AppGenesis, strict=False).decode(app_state)
        self.chain_id = (self.store.meta("chain_id") or b"").decode()
        suite = suite_named(self.genesis.suite if self.genesis else "ed25519-sha256")
        self.suite, self.hasher = suite, TreeHasher(suite.hash)

    def latest(self) -> BlockRecord:
        """Return the last committed block. Raises `ledger.empty`."""
        block = self.store.last_block()
        if block is None:
            raise NotFound("ledger.empty", where="ledger", got="no block", expected="at least one committed block")
        return self._with_genesis(block)

    def block(self, height: int) -> BlockRecord:
        """Return a committed block. Raises `ledger.no_such_block`."""
        block = self.store.block(height)
        if block is None:
            raise NotFound("ledger.no_such_block", where="height", got=height, expected="a committed height")
        return self._with_genesis(block)

    def _with_genesis(self, block: BlockRecord) -> BlockRecord:
        # A reader opened before the chain's first Commit (an API asked early) found no genesis; a block means
        # it is there now, and checkpoints must name the chain.
        if not self.chain_id:
            self._load_genesis()
        return block

    def checkpoint(self, block: BlockRecord) -> Checkpoint:
        """Return the checkpoint after `block`."""
        return Checkpoint(self.chain_id, block.height, block.log_size, block.log_root, block.state_root,
                          block.receipts_root, block.time_ns)

    def tx(self, tx_id: bytes) -> TxView:
        """Return a committed transaction by id. Raises `ledger.no_such_tx`."""
        location = self.store.tx_location(tx_id)
        if location is None:
            raise NotFound("ledger.no_such_tx", where="tx id", got=tx_id.hex(), expected="a committed transaction")
        height, position, log_index = location
        block = self.block(height)
        raw = decode(block.txs, list[bytes], where=f"block {height} txs")[position]
        receipt = decode(block.receipts, list[Receipt], where=f"block {height} receipts")[position]
        return TxView(tx_id, height, position, log_index, raw, receipt)

    def inclusion(self, log_index: int, log_size: int) -> list[bytes]:
        """Return the inclusion proof of entry `log_index` in the log of `log_size` entries."""
        return inclusion_proof(log_index, log_size, self.log_nodes, hasher=self.hasher)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        """Return the consistency proof between two log sizes."""
        return consistency_proof(old_size, new_size, self.log_nodes, hasher=self.hasher)

    def state_value(self, key: bytes, height: int | None = None):
        """Return (height, value or None, proof, state root) for `key` at a retained height."""
        block = self.latest() if height is None else self.block(height)
        root = self.store.state_root(block.height)
        if root is None:
            raise NotFound("state.version_pruned", where="height", got=block.height,
                           expected="a height within the retained window")
        root_key, root_hash = root
        try:
            value = read(_Nodes(self.store), root_key, key)
            proof = prove(_Nodes(self.store), root_key, key)
        except StateError as exc:
            raise NotFound(exc.code, where=exc.where, got=exc.got, expected=exc.expected) from None
        return block.height, value, proof, root_hash

    def describe_tx(self, raw: bytes) -> dict:
        """Return a transaction as plain data, its arguments decoded by the action's schema."""
        tx = decode(raw, Transaction, where="transaction")
        body = to_plain(tx)
        action = ALL_MODULES.get(tx.body.module, None)
        schema = action.actions.get(tx.body.action) if action else None
        if schema is not None:
            body["body"]["args"] = to_plain(decode(bytes(tx.body.args), schema.schema, where="args"))
        return body


class _Nodes:
    def __init__(self, store: Store) -> None:
        self._store = store

    def node(self, key: bytes) -> bytes:
        return self._store.state_node(key)


def receipt_plain(receipt: Receipt) -> dict:
    """Return a receipt as plain data."""
    return to_plain(receipt)


__all__ = ["LedgerReader", "NotFound", "TxView", "encode", "receipt_plain"]
