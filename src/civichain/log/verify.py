"""Verify inclusion and consistency proofs against roots, as RFC 9162 §2.1.3.2 and §2.1.4.2 say.

A verifier needs no database: only the proof, the leaf hash, the sizes and the roots. The loops below are the RFC's
algorithms step by step, so an auditor can hold them side by side with the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from civichain.log.errors import ProofError
from civichain.log.hashing import SHA256_TREE, TreeHasher, require_digest, require_digests
from civichain.log.tree import require_index, require_sizes


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    root: bytes,
    *,
    hasher: TreeHasher = SHA256_TREE,
) -> None:
    """Check that entry `index`, with `leaf_hash`, is in the log of `size` entries whose root is `root`.

    Follows RFC 9162 §2.1.3.2. Requires 0 <= index < size. Raises ProofError: `log.index_out_of_range`,
    `log.bad_hash_length`, `log.proof_length`, `log.root_mismatch`.
    """
    require_digest(root, "root", hasher)
    calculated = root_from_inclusion(leaf_hash, index, size, proof, hasher=hasher)
    if calculated != root:
        raise ProofError("log.root_mismatch", where="root", got=calculated.hex(), expected=root.hex())


def root_from_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    *,
    hasher: TreeHasher = SHA256_TREE,
) -> bytes:
    """Return the root that `proof` yields for entry `index`, with `leaf_hash`, in a log of `size` entries.

    Follows RFC 9162 §2.1.3.2 up to the final comparison. Requires 0 <= index < size. Raises ProofError:
    `log.index_out_of_range`, `log.bad_hash_length`, `log.proof_length`.
    """
    require_index(index, size)
    require_digest(leaf_hash, "leaf_hash", hasher)
    require_digests(proof, "proof", hasher)
    node = hasher.node
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise _wrong_length(proof, inclusion_proof_length(index, size))
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise _wrong_length(proof, inclusion_proof_length(index, size))
    return r


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
    *,
    hasher: TreeHasher = SHA256_TREE,
) -> None:
    """Check that the log of `new_size` entries with `new_root` extends the one of `old_size` with `old_root`.

    Follows RFC 9162 §2.1.4.2 for 0 < old_size < new_size. When old_size == new_size the proof must be empty
    and the roots equal; when old_size == 0 the proof must be empty and `old_root` the empty root, since every
    log extends the empty one. Requires 0 <= old_size <= new_size. Raises ProofError: `log.size_out_of_range`,
    `log.bad_hash_length`, `log.proof_length`, `log.root_mismatch`.
    """
    require_sizes(old_size, new_size)
    require_digest(old_root, "old_root", hasher)
    require_digest(new_root, "new_root", hasher)
    require_digests(proof, "proof", hasher)
    if old_size == 0 or old_size == new_size:
        if proof:
            raise _wrong_length(proof, 0)
        if old_size == 0:
            _require_equal(old_root, hasher.empty_root(), "old_root")
        if old_size == new_size:
            _require_equal(new_root, old_root, "new_root")
        return
    calculated_old, calculated_new = _roots_from_consistency(old_size, new_size, proof, old_root, hasher)
    _require_equal(calculated_old, old_root, "old_root")
    _require_equal(calculated_new, new_root, "new_root")


def _roots_from_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, hasher: TreeHasher
) -> tuple[bytes, bytes]:
    """Return the old and new roots that `proof` yields: RFC 9162 §2.1.4.2 steps 1 to 6, and 7's sn check."""
    if not proof:
        raise _wrong_length(proof, consistency_proof_length(old_size, new_size))
    # A power-of-two old tree is a perfect node of the new one; the proof leaves it out, the verifier knows it.
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    node = hasher.node
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise _wrong_length(proof, consistency_proof_length(old_size, new_size))
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise _wrong_length(proof, consistency_proof_length(old_size, new_size))
    return fr, sr


def inclusion_proof_length(index: int, size: int) -> int:
    """Return the number of hashes in the inclusion proof of entry `index` in a log of `size`; 0 <= index < size.

    Below the level where the paths to `index` and to the last entry part, every level has a sibling; above
    it, only the levels where `index`'s ancestor is a right child do (RFC 9162 §2.1.3.1).
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """Return the number of hashes in the consistency proof from `old_size` to `new_size`; 0 < old < new.

    The proof is the inclusion proof of entry old_size-1 cut off below the largest perfect node ending at
    old_size, plus that node itself unless it is the whole old tree (RFC 9162 §2.1.4.1).
    """
    shared_levels = (old_size & -old_size).bit_length() - 1
    old_is_perfect = old_size & (old_size - 1) == 0
    return inclusion_proof_length(old_size - 1, new_size) - shared_levels + (0 if old_is_perfect else 1)


def _require_equal(calculated: bytes, expected: bytes, where: str) -> None:
    if calculated != expected:
        raise ProofError("log.root_mismatch", where=where, got=calculated.hex(), expected=expected.hex())


def _wrong_length(proof: Sequence[bytes], expected: int) -> ProofError:
    return ProofError("log.proof_length", where="proof", got=f"{len(proof)} hashes", expected=f"{expected} hashes")
