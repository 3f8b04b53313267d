"""Read access to committed data, with small caches in front of SQLite for the hot paths."""

from __future__ import annotations

from civichain.execution.cache import TwoGenerationCache
from civichain.store import Store

_MISSING = object()


class CommittedState:
    """The latest committed key-value state, cached; `apply` keeps the cache in step with Commit."""

    def __init__(self, store: Store, capacity: int = 60_000) -> None:
        self._store = store
        self._cache: TwoGenerationCache[bytes, bytes | None] = TwoGenerationCache(capacity)

    def get(self, key: bytes) -> bytes | None:
        """Return the committed value of `key`."""
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._store.get(key)
            self._cache.put(key, value)
        return value

    def apply(self, writes: dict[bytes, bytes | None]) -> None:
        """Reflect a committed block's writes."""
        for key, value in writes.items():
            self._cache.put(key, value)


class StateNodes:
    """Committed state tree nodes (cached), with a block's not-yet-written nodes laid over them."""

    def __init__(self, store: Store, capacity: int = 80_000) -> None:
        self._store = store
        self._cache: TwoGenerationCache[bytes, bytes] = TwoGenerationCache(capacity)
        self.pending: dict[bytes, bytes] = {}

    def node(self, key: bytes) -> bytes:
        """Return a node. Raises KeyError when it is neither pending nor stored."""
        found = self.pending.get(key)
        if found is not None:
            return found
        found = self._cache.get(key)
        if found is None:
            found = self._store.state_node(key)
            self._cache.put(key, found)
        return found

    def committed(self, nodes: list[tuple[bytes, bytes]]) -> None:
        """Move written nodes from pending into the cache."""
        for key, node in nodes:
            self.pending.pop(key, None)
            self._cache.put(key, node)

    def forget(self, keys: list[bytes]) -> None:
        """Drop pruned nodes from the cache."""
        for key in keys:
            self._cache.pop(key)


class LatestStateNodes:
    """The latest version's state tree nodes, all in memory, for a throw-away re-execution (`verify`, `replay`).

    Such a run never reads an older version, so at each Commit the nodes a block made stale are dropped and
    its new ones kept: memory follows the size of the state, not the length of the chain, and no node is
    written to SQLite. Same interface as StateNodes for the tree update (`node`, `pending`).
    """

    def __init__(self) -> None:
        self._nodes: dict[bytes, bytes] = {}
        self.pending: dict[bytes, bytes] = {}

    def node(self, key: bytes) -> bytes:
        """Return a node. Raises KeyError when it is neither pending nor in the latest version."""
        found = self.pending.get(key)
        return found if found is not None else self._nodes[key]

    def replace(self, stale: list[bytes], new_nodes: list[tuple[bytes, bytes]]) -> None:
        """Apply one committed version: drop the nodes it made stale, then keep the ones it created."""
        nodes = self._nodes
        for key in stale:
            nodes.pop(key, None)
        nodes.update(new_nodes)

    def __len__(self) -> int:
        return len(self._nodes)


class LogNodes:
    """Committed perfect log nodes, with a block's new ones laid over them (for proofs over pending data)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def perfect(self, level: int, index: int) -> bytes:
        """Return a stored perfect node."""
        return self._store.log_node(level, index)
