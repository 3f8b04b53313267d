"""An in-memory log that keeps every perfect node: for tests and small tools, not for the node's store."""

from __future__ import annotations

from collections.abc import Iterable

from civichain.log.errors import ProofError
from civichain.log.frontier import Frontier
from civichain.log.hashing import SHA256_TREE, TreeHasher
from civichain.log.prove import consistency_proof, inclusion_proof
from civichain.log.tree import require_size


class MerkleLog:
    """An append-only RFC 9162 log held in memory, answering roots and proofs at any past size.

    It stores every perfect node (about two hashes per entry) and serves them through `perfect`, so it is also
    the reference `LogNodes` that stored logs are compared against.
    """

    __slots__ = ("_frontier", "_hasher", "_levels")

    def __init__(self, *, hasher: TreeHasher = SHA256_TREE) -> None:
        self._hasher = hasher
        self._frontier = Frontier.empty(hasher=hasher)
        self._levels: list[list[bytes]] = []  # _levels[level][index] is perfect node (level, index)

    @classmethod
    def from_leaves(cls, data_list: Iterable[bytes], *, hasher: TreeHasher = SHA256_TREE) -> MerkleLog:
        """Return a log holding these entries, in order."""
        log = cls(hasher=hasher)
        for data in data_list:
            log.append_data(data)
        return log

    @property
    def size(self) -> int:
        """The number of entries in the log."""
        return self._frontier.size

    def append_data(self, data: bytes) -> int:
        """Append an entry; return its index."""
        return self.append_leaf_hash(self._hasher.leaf(data))

    def append_leaf_hash(self, leaf_hash: bytes) -> int:
        """Append an entry by its leaf hash HASH(0x00 || data); return its index. Raises `log.bad_hash_length`."""
        index = self.size
        for level, _, node in self._frontier.append(leaf_hash):
            # Nodes complete left to right on each level, so the node's index is the level's current length.
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(node)
        return index

    def perfect(self, level: int, index: int) -> bytes:
        """Return perfect node (level, index). Raises `log.index_out_of_range` unless that subtree is complete."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise ProofError(
            "log.index_out_of_range",
            where=f"perfect node ({level}, {index})",
            got="not complete",
            expected=f"a complete subtree of the {self.size} entries",
        )

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first `size` entries (all of them by default). Raises `log.size_out_of_range`."""
        size = self._size_or_all(size, "size")
        if size == self.size:
            return self._frontier.root()
        return Frontier.from_nodes(size, self, hasher=self._hasher).root()

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of entry `index` in the first `size` entries (all by default).

        Raises `log.size_out_of_range`, `log.index_out_of_range`.
        """
        return inclusion_proof(index, self._size_or_all(size, "size"), self, hasher=self._hasher)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """Return the consistency proof from the first `old` entries to the first `new` (all by default).

        Raises `log.size_out_of_range`.
        """
        return consistency_proof(old, self._size_or_all(new, "new"), self, hasher=self._hasher)

    def _size_or_all(self, size: int | None, where: str) -> int:
        if size is None:
            return self.size
        require_size(size, where)
        if size > self.size:
            raise ProofError("log.size_out_of_range", where=where, got=size, expected=f"<= log size {self.size}")
        return size
