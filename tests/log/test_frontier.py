"""The frontier and the proof builders work from saved perfect nodes alone, and read only O(log n) of them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civichain.crypto import sha256
from civichain.log import Frontier, MerkleLog, ProofError, consistency_proof, inclusion_proof, root_of

from .rfc9162_reference import DictNodes, entries, leaf_hash, mth

ENTRIES = entries(300)
LEAF_HASHES = [leaf_hash(d) for d in ENTRIES]
LOG = MerkleLog.from_leaves(ENTRIES)


def grow(leaf_hashes: list[bytes]) -> tuple[DictNodes, list[list[tuple[int, int, bytes]]], list[bytes]]:
    """Append leaf by leaf, saving the completed nodes; return the nodes, each append's answer, each size's root."""
    nodes, frontier = DictNodes(), Frontier.empty()
    completed, roots = [], [frontier.root()]
    for leaf in leaf_hashes:
        completed.append(frontier.append(leaf))
        nodes.save(completed[-1])
        roots.append(frontier.root())
    return nodes, completed, roots


NODES, COMPLETED, ROOTS = grow(LEAF_HASHES)


def test_frontier_root_equals_root_of_at_every_size():
    for n in range(len(ENTRIES) + 1):
        assert ROOTS[n] == root_of(LEAF_HASHES[:n])


def test_append_returns_the_leaf_then_every_perfect_node_it_completes():
    for old_size, completed in enumerate(COMPLETED):
        trailing_ones = (old_size ^ (old_size + 1)).bit_length() - 1
        assert [(level, index) for level, index, _ in completed] == [
            (level, old_size >> level) for level in range(trailing_ones + 1)
        ]
        for level, index, node in completed:
            assert node == mth(ENTRIES[index << level : (index + 1) << level])


def test_saved_nodes_are_exactly_the_perfect_nodes_of_the_log():
    n = len(ENTRIES)
    want = {(level, index) for level in range(n.bit_length()) for index in range(n >> level)}
    assert set(NODES.saved) == want
    assert all(NODES.saved[key] == LOG.perfect(*key) for key in want)


def test_frontier_rebuilt_from_saved_nodes_at_any_size_continues_identically():
    for size in range(len(ENTRIES)):
        rebuilt = Frontier.from_nodes(size, NODES)
        assert rebuilt.size == size
        assert rebuilt.root() == ROOTS[size]
        for n in range(size, min(size + 9, len(ENTRIES))):
            assert rebuilt.append(LEAF_HASHES[n]) == COMPLETED[n]
            assert rebuilt.root() == ROOTS[n + 1]


@settings(max_examples=40, deadline=None)
@given(leaves=st.lists(st.binary(max_size=16), max_size=200), data=st.data())
def test_frontier_restarted_anywhere_reaches_the_same_root(leaves, data):
    hashes = [leaf_hash(x) for x in leaves]
    nodes, _, roots = grow(hashes)
    restart = data.draw(st.integers(0, len(hashes)), label="restart at size")
    frontier = Frontier.from_nodes(restart, nodes)
    for h in hashes[restart:]:
        frontier.append(h)
    assert frontier.root() == roots[-1] == mth(tuple(leaves))


def test_proofs_from_saved_nodes_equal_merkle_log_proofs():
    for n in range(1, 130):
        for m in range(n):
            assert inclusion_proof(m, n, NODES) == LOG.inclusion_proof(m, n)
        for m in range(n + 1):
            assert consistency_proof(m, n, NODES) == LOG.consistency_proof(m, n)


class SyntheticNodes:
    """Stand-in hashes for a log of any size; refuses any node that is not complete, and counts the reads."""

    def __init__(self, size: int) -> None:
        self.size, self.reads = size, 0

    def perfect(self, level: int, index: int) -> bytes:
        assert level >= 0 and index >= 0 and (index + 1) << level <= self.size, f"incomplete node ({level}, {index})"
        self.reads += 1
        return sha256(b"%d,%d" % (level, index))


def test_proofs_read_at_most_two_nodes_per_level_at_every_size():
    for n in range(1, len(ENTRIES) + 1):
        bound = 2 * (n - 1).bit_length()  # two per level of a tree of n entries, ceil(log2 n) levels
        for m in range(n):
            NODES.reads = 0
            inclusion_proof(m, n, NODES)
            assert NODES.reads <= bound
        for m in range(n + 1):
            NODES.reads = 0
            consistency_proof(m, n, NODES)
            assert NODES.reads <= bound


@pytest.mark.parametrize("size", [1, 2, 3, 1_000_000, 2**20, 2**20 + 1, 2**40 - 1, 10**12 + 12345, 2**62 + 7])
def test_proofs_and_restarts_in_huge_logs_read_only_complete_nodes_and_few_of_them(size):
    bound = 2 * (size - 1).bit_length()
    for index in {0, size // 3, size // 2, max(size - 2, 0), size - 1}:
        nodes = SyntheticNodes(size)
        inclusion_proof(index, size, nodes)
        assert nodes.reads <= bound
    for old in {1, size // 3, size // 2, size - 1} - {0}:
        nodes = SyntheticNodes(size)
        consistency_proof(old, size, nodes)
        assert nodes.reads <= bound
    nodes = SyntheticNodes(size)
    Frontier.from_nodes(size, nodes)
    assert nodes.reads == size.bit_count()


def test_frontier_refuses_a_leaf_hash_of_the_wrong_length():
    frontier = Frontier.empty()
    with pytest.raises(ProofError, match="^log.bad_hash_length:"):
        frontier.append(b"\x00" * 31)
    assert frontier.size == 0


def test_frontier_refuses_a_negative_size_and_a_store_that_returns_a_non_digest():
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        Frontier.from_nodes(-1, NODES)

    class Broken:
        def perfect(self, level: int, index: int) -> bytes:
            return b"short"

    with pytest.raises(ProofError, match="^log.bad_hash_length:") as caught:
        Frontier.from_nodes(3, Broken())
    assert caught.value.where == "perfect node (1, 0)"


def test_proof_builders_refuse_requests_outside_the_log():
    with pytest.raises(ProofError, match="^log.index_out_of_range:"):
        inclusion_proof(5, 5, NODES)
    with pytest.raises(ProofError, match="^log.index_out_of_range:"):
        inclusion_proof(0, 0, NODES)
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        consistency_proof(6, 5, NODES)
    with pytest.raises(ProofError, match="^log.size_out_of_range:"):
        consistency_proof(-1, 5, NODES)


def test_a_copied_frontier_grows_independently_of_the_original():
    original = Frontier.from_nodes(10, NODES)
    copied = original.copy()
    for n in range(10, 20):
        assert copied.append(LEAF_HASHES[n]) == COMPLETED[n]
    assert (copied.size, copied.root()) == (20, ROOTS[20])
    assert (original.size, original.root()) == (10, ROOTS[10])
    assert original.append(LEAF_HASHES[10]) == COMPLETED[10]
