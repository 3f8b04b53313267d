"""A chain in memory for module tests: the genesis the modules write, blocks run by the executor (admission,
policies, actions, receipts) over a plain dict of state, and, when asked, the versioned Merkle state too, so
a test can read any earlier height with its proof as a node does."""

from __future__ import annotations

from civichain.client.tx import build_body, sign
from civichain.execution import Admission, BlockRun, execute_block, genesis_writes, next_nonce
from civichain.modules import ALL_MODULES, BlockContext
from civichain.state import MemoryNodeStore, StateProof, apply, prove, read, verify_state_proof
from civichain.types import AppGenesis, Receipt
from tests.conftest import CHAIN, SUITE


class Reader:
    """A plain dict of committed state."""

    def __init__(self, values: dict[bytes, bytes]) -> None:
        self.values = values

    def get(self, key: bytes) -> bytes | None:
        return self.values.get(key)


class VersionedState:
    """The state tree of every height (genesis is version 0), kept in memory as a node keeps it in SQLite."""

    def __init__(self, genesis: dict[bytes, bytes | None]) -> None:
        self.nodes = MemoryNodeStore()
        self.roots: list[tuple[bytes | None, bytes]] = []     # (root key, root hash) by height
        self.apply(genesis)

    def apply(self, writes: dict[bytes, bytes | None]) -> None:
        """Add the next height's version: the previous one with `writes`."""
        base = self.roots[-1][0] if self.roots else None
        update = apply(self.nodes, base, len(self.roots), writes)
        self.nodes.save(update)
        self.roots.append((update.root_key, update.root_hash))

    def resolve(self, key: bytes, height: int) -> tuple[bytes | None, StateProof, bytes]:
        """Return the value of `key` at `height` with its proof and the state root, the proof checked."""
        root_key, root_hash = self.roots[height]
        value, proof = read(self.nodes, root_key, key), prove(self.nodes, root_key, key)
        verify_state_proof(root_hash, key, value, proof)
        return value, proof, root_hash


class MemoryChain:
    """A chain of `genesis`: blocks executed over a dict of state (and the versioned state, if `versioned`)."""

    def __init__(self, genesis: AppGenesis, *, versioned: bool = False) -> None:
        self.genesis = genesis
        writes = genesis_writes(genesis)
        self.state = {k: v for k, v in writes.items() if v is not None}
        self.versions = VersionedState(writes) if versioned else None
        self.admission = Admission(CHAIN, SUITE, ALL_MODULES, max_tx_bytes=65_536, max_expiry_window=100_000)
        self.height = 0
        self._pending: dict[str, int] = {}

    def tx(self, signer, module: str, action: str, args, endorsers=()) -> bytes:
        """A transaction signed by `signer` (with the next free nonce) and endorsed by `endorsers` (signers)."""
        nonce = next_nonce(self.reader(), signer.account) + self._pending.get(signer.account, 0)
        self._pending[signer.account] = self._pending.get(signer.account, 0) + 1
        return sign(build_body(CHAIN, signer.account, nonce, 10**6, module, action, args), signer, list(endorsers))

    def block(self, *txs: bytes) -> BlockRun:
        """Execute the next block and apply its writes."""
        self.height += 1
        self._pending.clear()
        run = execute_block(self.admission, BlockContext(CHAIN, self.height, self.height * 10**9), list(txs),
                            self.reader(), 0)
        for key, value in run.writes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        if self.versions is not None:
            self.versions.apply(run.writes)
        return run

    def reader(self) -> Reader:
        return Reader(self.state)

    def snapshot_without_nonces(self) -> dict[bytes, bytes]:
        """The state without the nonces (a refused action consumes its nonce and changes nothing else)."""
        return {k: v for k, v in self.state.items() if not k.startswith(b"auth/nonce/")}


def refused(chain: MemoryChain, tx: bytes, code: str) -> Receipt:
    """Run `tx` alone in a block: it fails with `code`, says where and what was expected, and changes nothing
    but its sender's nonce. Return the receipt."""
    before = chain.snapshot_without_nonces()
    receipt = chain.block(tx).receipts[0]
    assert receipt.code == code, receipt
    assert receipt.where and receipt.expected and receipt.log_index is not None
    assert receipt.events == ()
    assert chain.snapshot_without_nonces() == before
    return receipt
