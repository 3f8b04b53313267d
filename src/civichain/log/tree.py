"""The shape of the RFC 9162 Merkle tree, and its root over leaf hashes or stored perfect nodes.

A perfect node (level, index) is the root of the complete subtree over leaves [index·2^level, (index+1)·2^level);
level 0 holds the leaf hashes. Every subtree the RFC recursion reaches (§2.1.1: split at the largest power of two
strictly smaller than n) is either perfect or sits on the right edge of the tree, and a right-edge subtree is its
perfect pieces, largest first, folded from the right. So a store of perfect nodes answers every root and proof.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from civichain.log.errors import ProofError
from civichain.log.hashing import SHA256_TREE, TreeHasher, require_digest, require_digests


class LogNodes(Protocol):
    """Read access to the perfect nodes of a stored log."""

    def perfect(self, level: int, index: int) -> bytes:
        """Return perfect node (level, index). Requires that subtree to be complete in the stored log."""
        ...


def root_of(leaf_hashes: Sequence[bytes], *, hasher: TreeHasher = SHA256_TREE) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of the log whose entries have these leaf hashes.

    The empty log has root HASH(). Raises `log.bad_hash_length`.
    """
    require_digests(leaf_hashes, "leaf_hashes", hasher)
    if not leaf_hashes:
        return hasher.empty_root()
    # Pairing level by level, with an odd last node carried up unchanged, builds exactly the RFC tree: the
    # carried node is the right-edge subtree that the RFC split leaves unpaired at that level.
    level = list(leaf_hashes)
    node = hasher.node
    while len(level) > 1:
        paired = [node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def split_level(size: int) -> int:
    """Return the level of the left subtree in the RFC split of `size` >= 2 leaves.

    The left subtree holds k = 2^level leaves, the largest power of two strictly smaller than `size`.
    """
    return (size - 1).bit_length() - 1


def perfect_pieces(start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the perfect nodes (level, index), left to right and largest first, that tile leaves [start, end).

    Requires `start` to be a multiple of the smallest power of two >= end - start, which holds for every
    subtree of the RFC tree and for start = 0.
    """
    position, remaining = start, end - start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            yield level, position >> level
            position += 1 << level


def subtree_root(start: int, end: int, nodes: LogNodes, hasher: TreeHasher) -> bytes:
    """Return MTH(D[start:end]) for a non-empty subtree of the RFC tree, from at most log2(n)+1 perfect nodes.

    Preconditions as for `perfect_pieces`; raises `log.bad_hash_length` if the store returns a non-digest.
    """
    pieces = [read_perfect(nodes, level, index, hasher) for level, index in perfect_pieces(start, end)]
    return fold_pieces(pieces, hasher)


def fold_pieces(pieces: Sequence[bytes], hasher: TreeHasher) -> bytes:
    """Return the root of a right-edge subtree from its non-empty perfect pieces, largest first.

    The RFC split puts the largest piece on the left of everything after it, so the pieces fold from the right.
    """
    root = pieces[-1]
    for piece in reversed(pieces[:-1]):
        root = hasher.node(piece, root)
    return root


def read_perfect(nodes: LogNodes, level: int, index: int, hasher: TreeHasher) -> bytes:
    """Return perfect node (level, index) from `nodes`, refusing anything that is not a digest."""
    value = nodes.perfect(level, index)
    if type(value) is not bytes or len(value) != hasher.digest_size:
        require_digest(value, f"perfect node ({level}, {index})", hasher)
    return value


def require_size(size: int, where: str) -> None:
    """Raise `log.size_out_of_range` unless `size` is a non-negative int."""
    if not isinstance(size, int) or size < 0:
        raise ProofError("log.size_out_of_range", where=where, got=size, expected="an integer >= 0")


def require_index(index: int, size: int) -> None:
    """Raise `log.index_out_of_range` unless 0 <= index < size."""
    if not (isinstance(index, int) and isinstance(size, int) and 0 <= index < size):
        raise ProofError("log.index_out_of_range", where="index", got=index, expected=f"0 <= index < {size}")


def require_sizes(old_size: int, new_size: int) -> None:
    """Raise `log.size_out_of_range` unless 0 <= old_size <= new_size."""
    require_size(new_size, "new_size")
    require_size(old_size, "old_size")
    if old_size > new_size:
        raise ProofError("log.size_out_of_range", where="old_size", got=old_size, expected=f"<= new_size {new_size}")
