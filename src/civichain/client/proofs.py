"""Check the proofs a node's API returns, with nothing but the answer and a trusted root."""

from __future__ import annotations

from civichain.log import SHA256_TREE, verify_consistency, verify_inclusion
from civichain.state import ProofLeaf, StateProof, verify_state_proof


def state_proof_from_plain(plain: dict) -> StateProof:
    """Turn the JSON form of a state proof (as the API returns it) back into a StateProof."""
    leaf = plain["leaf"]
    return StateProof(plain["depth"], bytes.fromhex(plain["empty_siblings"]),
                      tuple(bytes.fromhex(s) for s in plain["siblings"]),
                      None if leaf is None else ProofLeaf(bytes.fromhex(leaf["key_hash"]), bytes.fromhex(leaf["value_hash"])))


def check_state_answer(key: bytes, state: dict) -> None:
    """Verify an API `state` answer (value or absence, proof, state root). Raises StateProofError."""
    value = None if state["value"] is None else bytes.fromhex(state["value"])
    verify_state_proof(bytes.fromhex(state["state_root"]), key, value, state_proof_from_plain(state["proof"]))


def check_inclusion_answer(answer: dict) -> None:
    """Verify a transaction answer's inclusion proof against the log root it names. Raises ProofError."""
    inclusion = answer["inclusion"]
    verify_inclusion(SHA256_TREE.leaf(bytes.fromhex(answer["tx_bytes"])), inclusion["log_index"], inclusion["log_size"],
                     [bytes.fromhex(h) for h in inclusion["proof"]], bytes.fromhex(inclusion["log_root"]))


def check_consistency_answer(answer: dict, old_root: bytes, new_root: bytes) -> None:
    """Verify a consistency answer between two roots the caller trusts. Raises ProofError."""
    verify_consistency(answer["old_size"], answer["new_size"], [bytes.fromhex(h) for h in answer["proof"]],
                       old_root, new_root)
