"""Verification accepts exactly the RFC 9162 proofs: every mutation, wrong length or wrong input fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civichain.log import MerkleLog, ProofError, root_from_inclusion, verify_consistency, verify_inclusion

from .rfc9162_reference import entries, flip_bit, leaf_hash

ENTRIES = entries(300)
LOG = MerkleLog.from_leaves(ENTRIES)
ROOTS = [LOG.root(n) for n in range(len(ENTRIES) + 1)]
ZERO = bytes(32)


def raises_code(code: str):
    """Expect a ProofError with this code."""
    return pytest.raises(ProofError, match=f"^{code}:")


def error_code(verify, *args) -> str | None:
    """Return the code of the ProofError that `verify(*args)` raises, or None; cheaper than pytest.raises."""
    try:
        verify(*args)
    except ProofError as error:
        return error.code
    return None


def every_bit_flip(values: list[bytes]):
    """Yield `values` with one bit of one element inverted, for every bit of every element."""
    for position, value in enumerate(values):
        for bit in range(len(value) * 8):
            yield [*values[:position], flip_bit(value, bit), *values[position + 1 :]]


def test_every_inclusion_proof_verifies_at_every_size_up_to_300():
    for n in range(1, 301):
        root = ROOTS[n]
        for m in range(n):
            proof = LOG.inclusion_proof(m, n)
            verify_inclusion(leaf_hash(ENTRIES[m]), m, n, proof, root)
            assert root_from_inclusion(leaf_hash(ENTRIES[m]), m, n, proof) == root


def test_every_consistency_proof_verifies_at_every_pair_of_sizes_up_to_300():
    for n in range(301):
        new_root = ROOTS[n]
        for m in range(n + 1):
            verify_consistency(m, n, LOG.consistency_proof(m, n), ROOTS[m], new_root)


@settings(max_examples=100, deadline=None)
@given(leaves=st.lists(st.binary(max_size=64), min_size=2, max_size=300), data=st.data())
def test_inclusion_proof_verifies_and_any_flipped_bit_fails(leaves, data):
    log, index = MerkleLog.from_leaves(leaves), data.draw(st.integers(0, len(leaves) - 1))
    proof, root, leaf = log.inclusion_proof(index), log.root(), leaf_hash(leaves[index])
    verify_inclusion(leaf, index, len(leaves), proof, root)
    i = data.draw(st.integers(0, len(proof) - 1))  # two or more leaves: the proof is never empty
    bit = data.draw(st.integers(0, 255))
    with raises_code("log.root_mismatch"):
        verify_inclusion(leaf, index, len(leaves), [*proof[:i], flip_bit(proof[i], bit), *proof[i + 1 :]], root)
    with raises_code("log.root_mismatch"):
        verify_inclusion(flip_bit(leaf, bit), index, len(leaves), proof, root)
    with raises_code("log.root_mismatch"):
        verify_inclusion(leaf, index, len(leaves), proof, flip_bit(root, bit))


# Every index of every small log, and the edges and middle of some larger ones.
FLIP_CASES = [(m, n) for n in range(1, 10) for m in range(n)] + [
    (m, n) for n in (12, 13, 16, 17, 31, 33, 100, 300) for m in (0, 1, n // 2, n - 2, n - 1)
]


@pytest.mark.parametrize(("m", "n"), FLIP_CASES)
def test_every_single_bit_flip_of_inclusion_proof_leaf_or_root_fails(m, n):
    proof, leaf, root = LOG.inclusion_proof(m, n), leaf_hash(ENTRIES[m]), ROOTS[n]
    for changed in every_bit_flip(proof):
        assert error_code(verify_inclusion, leaf, m, n, changed, root) == "log.root_mismatch"
    for [changed_leaf] in every_bit_flip([leaf]):
        assert error_code(verify_inclusion, changed_leaf, m, n, proof, root) == "log.root_mismatch"
    for [changed_root] in every_bit_flip([root]):
        assert error_code(verify_inclusion, leaf, m, n, proof, changed_root) == "log.root_mismatch"


@pytest.mark.parametrize(("m", "n"), [(m, n) for m, n in FLIP_CASES if m > 0])
def test_every_single_bit_flip_of_consistency_proof_or_roots_fails(m, n):
    proof, old_root, new_root = LOG.consistency_proof(m, n), ROOTS[m], ROOTS[n]
    for changed in every_bit_flip(proof):
        assert error_code(verify_consistency, m, n, changed, old_root, new_root) == "log.root_mismatch"
    for [changed_old] in every_bit_flip([old_root]):
        assert error_code(verify_consistency, m, n, proof, changed_old, new_root) == "log.root_mismatch"
    for [changed_new] in every_bit_flip([new_root]):
        assert error_code(verify_consistency, m, n, proof, old_root, changed_new) == "log.root_mismatch"


@settings(max_examples=100, deadline=None)
@given(leaves=st.lists(st.binary(max_size=64), min_size=2, max_size=300), data=st.data())
def test_consistency_proof_verifies_and_any_flipped_bit_fails(leaves, data):
    log = MerkleLog.from_leaves(leaves)
    new = data.draw(st.integers(2, len(leaves)))
    old = data.draw(st.integers(1, new - 1))
    proof, old_root, new_root = log.consistency_proof(old, new), log.root(old), log.root(new)
    verify_consistency(old, new, proof, old_root, new_root)
    i, bit = data.draw(st.integers(0, len(proof) - 1)), data.draw(st.integers(0, 255))
    with raises_code("log.root_mismatch"):
        verify_consistency(old, new, [*proof[:i], flip_bit(proof[i], bit), *proof[i + 1 :]], old_root, new_root)


def test_inclusion_proof_verifies_for_no_other_index():
    for n in range(2, 41):
        root = ROOTS[n]
        for m in range(n):
            proof, leaf = LOG.inclusion_proof(m, n), leaf_hash(ENTRIES[m])
            for other in range(n):
                if other != m:
                    code = error_code(verify_inclusion, leaf, other, n, proof, root)
                    assert code in {"log.root_mismatch", "log.proof_length"}


def test_inclusion_proof_verifies_against_another_size_and_its_root_only_if_it_is_that_proof():
    for n in range(1, 40):
        for other in range(1, 40):
            for m in range(min(n, other)):
                proof, leaf = LOG.inclusion_proof(m, n), leaf_hash(ENTRIES[m])
                if proof == LOG.inclusion_proof(m, other):
                    verify_inclusion(leaf, m, other, proof, ROOTS[other])
                else:
                    code = error_code(verify_inclusion, leaf, m, other, proof, ROOTS[other])
                    assert code in {"log.root_mismatch", "log.proof_length"}


def test_consistency_proof_verifies_for_other_sizes_and_their_roots_only_if_it_is_that_proof():
    pairs = [(m, n) for n in range(17) for m in range(n + 1)]
    for m, n in pairs:
        proof = LOG.consistency_proof(m, n)
        for other_m, other_n in pairs:
            args = (other_m, other_n, proof, ROOTS[other_m], ROOTS[other_n])
            if proof == LOG.consistency_proof(other_m, other_n):
                verify_consistency(*args)
            else:
                assert error_code(verify_consistency, *args) is not None


def test_inclusion_proof_does_not_bind_the_size_so_size_and_root_must_come_together():
    # RFC 9162 §2.1.3.2 computes a root for the size it is told; entry 0 has the same path shape in logs of 3
    # and 4 entries, so size 4's proof checks out against size 4's root when the verifier says "size 3". A
    # signed checkpoint binds size and root, which is why verifiers take both from it.
    proof = LOG.inclusion_proof(0, 4)
    verify_inclusion(leaf_hash(ENTRIES[0]), 0, 3, proof, ROOTS[4])
    with raises_code("log.root_mismatch"):
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 3, proof, ROOTS[3])


def test_inclusion_proofs_of_wrong_length_fail():
    for n in range(1, 65):
        root = ROOTS[n]
        for m in range(n):
            proof, leaf = LOG.inclusion_proof(m, n), leaf_hash(ENTRIES[m])
            for wrong in [proof[1:], proof[:-1], [*proof, ZERO], [ZERO, *proof], [*proof, root]]:
                if wrong != proof:
                    assert error_code(verify_inclusion, leaf, m, n, wrong, root) == "log.proof_length"


def test_consistency_proofs_of_wrong_length_fail():
    for n in range(1, 65):
        new_root = ROOTS[n]
        for m in range(n + 1):
            proof, old_root = LOG.consistency_proof(m, n), ROOTS[m]
            for wrong in [proof[1:], proof[:-1], [*proof, ZERO], [old_root, *proof], [*proof, new_root]]:
                if wrong != proof:
                    assert error_code(verify_consistency, m, n, wrong, old_root, new_root) == "log.proof_length"


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (-1, 5), (5, 5), (2**64, 3), (0, -1)])
def test_inclusion_index_outside_the_log_is_refused(index, size):
    with raises_code("log.index_out_of_range"):
        verify_inclusion(leaf_hash(b""), index, size, [], ROOTS[1])
    with raises_code("log.index_out_of_range"):
        root_from_inclusion(leaf_hash(b""), index, size, [])


@pytest.mark.parametrize(("old", "new"), [(2, 1), (1, 0), (-1, 3), (0, -1)])
def test_consistency_sizes_out_of_order_or_negative_are_refused(old, new):
    with raises_code("log.size_out_of_range"):
        verify_consistency(old, new, [], ROOTS[0], ROOTS[0])


def test_consistency_from_the_empty_log_needs_the_empty_root_and_an_empty_proof():
    verify_consistency(0, 0, [], ROOTS[0], ROOTS[0])
    verify_consistency(0, 5, [], ROOTS[0], ROOTS[5])
    with raises_code("log.root_mismatch"):
        verify_consistency(0, 5, [], ZERO, ROOTS[5])
    with raises_code("log.root_mismatch"):
        verify_consistency(0, 0, [], ROOTS[0], ZERO)
    with raises_code("log.proof_length"):
        verify_consistency(0, 5, [ROOTS[5]], ROOTS[0], ROOTS[5])


def test_consistency_between_equal_sizes_needs_equal_roots_and_an_empty_proof():
    verify_consistency(7, 7, [], ROOTS[7], ROOTS[7])
    with raises_code("log.root_mismatch"):
        verify_consistency(7, 7, [], ROOTS[7], ROOTS[6])
    with raises_code("log.proof_length"):
        verify_consistency(7, 7, [ROOTS[7]], ROOTS[7], ROOTS[7])


def test_empty_consistency_proof_between_different_sizes_fails():
    with raises_code("log.proof_length"):
        verify_consistency(3, 5, [], ROOTS[3], ROOTS[5])


def test_hashes_of_the_wrong_length_or_type_are_refused_and_named():
    proof, leaf, root = LOG.inclusion_proof(2, 5), leaf_hash(ENTRIES[2]), ROOTS[5]
    cases = [
        (lambda: verify_inclusion(leaf[:31], 2, 5, proof, root), "leaf_hash"),
        (lambda: verify_inclusion(leaf, 2, 5, proof, root + b"\x00"), "root"),
        (lambda: verify_inclusion(leaf, 2, 5, [proof[0], b"", *proof[2:]], root), "proof[1]"),
        (lambda: verify_inclusion(leaf, 2, 5, [proof[0].hex(), *proof[1:]], root), "proof[0]"),
        (lambda: verify_consistency(3, 5, LOG.consistency_proof(3, 5), b"", root), "old_root"),
        (lambda: verify_consistency(3, 5, LOG.consistency_proof(3, 5), ROOTS[3], None), "new_root"),
        (lambda: verify_consistency(3, 5, [ZERO, ZERO * 2], ROOTS[3], root), "proof[1]"),
    ]
    for call, where in cases:
        with raises_code("log.bad_hash_length") as caught:
            call()
        assert caught.value.where == where


def test_errors_carry_their_facts():
    with raises_code("log.proof_length") as caught:
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 8, LOG.inclusion_proof(0, 8)[:2], ROOTS[8])
    assert caught.value.facts() == {
        "code": "log.proof_length", "where": "proof", "got": "2 hashes", "expected": "3 hashes",
    }
    with raises_code("log.root_mismatch") as caught:
        verify_inclusion(leaf_hash(ENTRIES[1]), 0, 8, LOG.inclusion_proof(0, 8), ROOTS[8])
    assert caught.value.where == "root" and caught.value.expected == ROOTS[8].hex()
