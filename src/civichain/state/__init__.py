"""Merkleized, versioned key-value state: the state root in every app hash, and proofs checked against it.

Each block height is a version: an immutable binary sparse Merkle tree over sha256(key), with leaf shortcuts.
`apply` turns a block's changes into new nodes and stale node keys without writing anything; a `NodeReader`
(SQLite in the node, `MemoryNodeStore` in tests) serves the nodes back. `prove` answers for any key at any
retained version, and `verify_presence` / `verify_absence` check the answer against a root alone, so a light
client needs no store. docs/state.md explains the design, the byte layouts and the pruning rule.
"""

from civichain.state.errors import StateError, StateProofError
from civichain.state.memory import MemoryNodeStore
from civichain.state.nodes import EMPTY_HASH, MAX_KEY_SIZE, MAX_VALUE_SIZE, decode_node_key
from civichain.state.proof import (
    MAX_PROOF_SIZE,
    ProofLeaf,
    StateProof,
    decode_state_proof,
    encode_state_proof,
    prove,
    verify_absence,
    verify_presence,
    verify_state_proof,
)
from civichain.state.pruning import prunable_nodes
from civichain.state.tree import NodeReader, TreeUpdate, apply, entries, read

__all__ = [
    "EMPTY_HASH",
    "MAX_KEY_SIZE",
    "MAX_PROOF_SIZE",
    "MAX_VALUE_SIZE",
    "MemoryNodeStore",
    "NodeReader",
    "ProofLeaf",
    "StateError",
    "StateProof",
    "StateProofError",
    "TreeUpdate",
    "apply",
    "decode_node_key",
    "entries",
    "decode_state_proof",
    "encode_state_proof",
    "prove",
    "prunable_nodes",
    "read",
    "verify_absence",
    "verify_presence",
    "verify_state_proof",
]
