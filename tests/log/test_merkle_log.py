"""MerkleLog answers roots and proofs at any past size, and refuses what lies beyond its entries."""

from __future__ import annotations

import dataclasses

import pytest

from civichain.crypto import sha256
from civichain.log import (
    SHA256_TREE,
    MerkleLog,
    ProofError,
    TreeHasher,
    root_of,
    verify_consistency,
    verify_inclusion,
)

from .rfc9162_reference import entries, leaf_hash, mth


def test_appends_return_consecutive_indices_and_past_roots_stay_answerable():
    log = MerkleLog()
    for n, data in enumerate(entries(40)):
        assert log.append_data(data) == n
        assert log.size == n + 1
    assert log.append_leaf_hash(leaf_hash(b"x")) == 40
    all_entries = (*entries(40), b"x")
    for n in range(log.size + 1):
        assert log.root(n) == mth(all_entries[:n])
    assert log.root() == log.root(log.size)


def test_default_proofs_are_against_the_whole_log():
    log = MerkleLog.from_leaves(entries(21))
    assert log.inclusion_proof(4) == log.inclusion_proof(4, 21)
    assert log.consistency_proof(9) == log.consistency_proof(9, 21)


def test_perfect_nodes_are_served_only_for_complete_subtrees():
    log = MerkleLog.from_leaves(entries(6))
    assert log.perfect(0, 5) == leaf_hash(entries(6)[5])
    assert log.perfect(1, 2) == mth(entries(6)[4:6])
    assert log.perfect(2, 0) == mth(entries(6)[0:4])
    for level, index in [(0, 6), (1, 3), (2, 1), (3, 0), (-1, 0), (0, -1)]:
        with pytest.raises(ProofError, match="^log.index_out_of_range:"):
            log.perfect(level, index)


def test_sizes_beyond_the_log_are_refused():
    log = MerkleLog.from_leaves(entries(5))
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        log.root(6)
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        log.root(-1)
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        log.inclusion_proof(0, 6)
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        log.consistency_proof(2, 6)
    with pytest.raises(ProofError, match="^log.index_out_of_range:"):
        log.inclusion_proof(5)


def test_empty_log_has_the_empty_root():
    assert MerkleLog().root() == root_of([]) == sha256(b"") == SHA256_TREE.empty_root()


def wide_hash(data: bytes) -> bytes:
    """A 64-byte hash for testing the pluggable hasher; not for production."""
    return sha256(b"left" + data) + sha256(b"right" + data)


WIDE_TREE = TreeHasher(wide_hash)


def test_another_hash_function_plugs_in_with_its_own_digest_length():
    assert WIDE_TREE.digest_size == 64 and SHA256_TREE.digest_size == 32
    log = MerkleLog.from_leaves(entries(11), hasher=WIDE_TREE)
    assert log.root() == root_of([WIDE_TREE.leaf(d) for d in entries(11)], hasher=WIDE_TREE)
    assert log.root() != MerkleLog.from_leaves(entries(11)).root()
    for n in range(1, 12):
        for m in range(n):
            proof = log.inclusion_proof(m, n)
            assert all(len(h) == 64 for h in proof)
            verify_inclusion(WIDE_TREE.leaf(entries(11)[m]), m, n, proof, log.root(n), hasher=WIDE_TREE)
        for m in range(n + 1):
            verify_consistency(m, n, log.consistency_proof(m, n), log.root(m), log.root(n), hasher=WIDE_TREE)
    with pytest.raises(ProofError, match="^log.bad_hash_length:"):
        verify_inclusion(WIDE_TREE.leaf(b""), 0, 11, log.inclusion_proof(0), log.root())


def test_leaf_and_node_hashes_are_domain_separated():
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert SHA256_TREE.leaf(left + right) != SHA256_TREE.node(left, right)
    assert SHA256_TREE.node(left, right) != SHA256_TREE.node(right, left)
    assert SHA256_TREE.leaf(b"") != SHA256_TREE.empty_root()
    assert MerkleLog.from_leaves([b""]).root() != MerkleLog().root()


def test_tree_hasher_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SHA256_TREE.hash = wide_hash  # type: ignore[misc]


def test_root_of_refuses_leaf_hashes_of_the_wrong_length():
    with pytest.raises(ProofError, match="^log.bad_hash_length:") as caught:
        root_of([leaf_hash(b"a"), b"short"])
    assert caught.value.where == "leaf_hashes[1]"
