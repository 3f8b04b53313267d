"""The library agrees bit for bit with the naive RFC 9162 reference: roots, inclusion proofs, consistency proofs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civichain.log import MerkleLog, root_of
from civichain.log.verify import consistency_proof_length, inclusion_proof_length

from .rfc9162_reference import entries, leaf_hash, mth, path, proof

LARGEST = 300
ENTRIES = entries(LARGEST)
LOG = MerkleLog.from_leaves(ENTRIES)


def test_root_equals_reference_mth_at_every_size():
    for n in range(LARGEST + 1):
        want = mth(ENTRIES[:n])
        assert LOG.root(n) == want
        assert root_of([leaf_hash(d) for d in ENTRIES[:n]]) == want


def test_inclusion_proof_equals_reference_path_at_every_index_and_size():
    for n in range(1, LARGEST + 1):
        for m in range(n):
            want = path(m, ENTRIES[:n])
            assert LOG.inclusion_proof(m, n) == want, (m, n)
            assert inclusion_proof_length(m, n) == len(want)


def test_consistency_proof_equals_reference_proof_at_every_pair_of_sizes():
    for n in range(1, LARGEST + 1):
        for m in range(1, n):
            want = proof(m, ENTRIES[:n])
            assert LOG.consistency_proof(m, n) == want, (m, n)
            assert consistency_proof_length(m, n) == len(want)


def test_consistency_proof_from_empty_or_same_size_is_empty():
    for n in range(LARGEST + 1):
        assert LOG.consistency_proof(0, n) == []
        assert LOG.consistency_proof(n, n) == []


@settings(max_examples=60, deadline=None)
@given(leaves=st.lists(st.binary(max_size=64), max_size=LARGEST), data=st.data())
def test_random_logs_agree_with_the_reference(leaves, data):
    d = tuple(leaves)
    log = MerkleLog.from_leaves(d)
    assert log.root() == mth(d)
    assert root_of([leaf_hash(x) for x in d]) == mth(d)
    if not d:
        return
    n = data.draw(st.integers(1, len(d)), label="size")
    m = data.draw(st.integers(0, n - 1), label="index")
    assert log.root(n) == mth(d[:n])
    assert log.inclusion_proof(m, n) == path(m, d[:n])
    if m > 0:
        assert log.consistency_proof(m, n) == proof(m, d[:n])
