"""The compact right edge of a growing log: append in O(log n), root in O(log n), rebuilt from stored nodes."""

from __future__ import annotations

from civichain.log.hashing import SHA256_TREE, TreeHasher, require_digest
from civichain.log.tree import LogNodes, fold_pieces, perfect_pieces, read_perfect, require_size


class Frontier:
    """The perfect nodes that tile a log of `size` entries, one per set bit of `size`, largest first.

    These O(log n) hashes are all a writer keeps in memory: each append merges the new leaf with the pieces it
    completes, and the root folds the pieces from the right (RFC 9162 §2.1.1). Make one with `empty` or
    `from_nodes`.
    """

    __slots__ = ("_hasher", "_pieces", "_size")

    def __init__(self, size: int, pieces: list[bytes], hasher: TreeHasher) -> None:
        # Invariant: _pieces[i] is the perfect node for the i-th set bit of _size, counted from the highest.
        self._size, self._pieces, self._hasher = size, pieces, hasher

    @classmethod
    def empty(cls, *, hasher: TreeHasher = SHA256_TREE) -> Frontier:
        """Return the frontier of the empty log."""
        return cls(0, [], hasher)

    @classmethod
    def from_nodes(cls, size: int, nodes: LogNodes, *, hasher: TreeHasher = SHA256_TREE) -> Frontier:
        """Rebuild the frontier of the first `size` entries of a stored log, reading one node per set bit of size.

        Requires the stored log to hold at least `size` entries. Raises `log.size_out_of_range`, and
        `log.bad_hash_length` if the store returns a non-digest.
        """
        require_size(size, "size")
        pieces = [read_perfect(nodes, level, index, hasher) for level, index in perfect_pieces(0, size)]
        return cls(size, pieces, hasher)

    @property
    def size(self) -> int:
        """The number of entries appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append one entry by its leaf hash; return the perfect nodes (level, index, hash) it completes.

        The leaf itself comes first (level 0, index = the old size), then each parent completed in turn, so the
        caller can save them all. Raises `log.bad_hash_length`.
        """
        require_digest(leaf_hash, "leaf_hash", self._hasher)
        level, index, merged = 0, self._size, leaf_hash
        completed = [(0, index, leaf_hash)]
        # Each trailing 1 bit of the old size is a piece of the same level as `merged`, just to its left.
        while index & 1:
            merged = self._hasher.node(self._pieces.pop(), merged)
            level, index = level + 1, index >> 1
            completed.append((level, index, merged))
        self._pieces.append(merged)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of the log so far (RFC 9162 §2.1.1)."""
        if not self._pieces:
            return self._hasher.empty_root()
        return fold_pieces(self._pieces, self._hasher)

    def copy(self) -> Frontier:
        """Return an independent copy, to append to without changing this one."""
        return Frontier(self._size, list(self._pieces), self._hasher)
