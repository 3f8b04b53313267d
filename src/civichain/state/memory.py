"""A node store in a dict, for tests and tools: the node's own store keeps the same records in SQLite."""

from __future__ import annotations

from civichain.state.errors import StateError
from civichain.state.pruning import prunable_nodes
from civichain.state.tree import TreeUpdate


class MemoryNodeStore:
    """Nodes by node key, and the stale records that say when each may go.

    `nodes` and `stale` are open for inspection; change them only through `save` and `prune`.
    """

    def __init__(self) -> None:
        self.nodes: dict[bytes, bytes] = {}
        self.stale: list[tuple[int, bytes]] = []  # (version that staled the node, node key), oldest first

    def node(self, key: bytes) -> bytes:
        """Return the node under `key`. Raises KeyError when there is none (never stored, or pruned)."""
        return self.nodes[key]

    def save(self, update: TreeUpdate) -> None:
        """Store the nodes of `update` and remember its stale node keys.

        Raises `state.node_conflict` when a node key already holds other bytes: two updates claimed the same
        version, which a chain never does.
        """
        for key, node in update.new_nodes:
            if self.nodes.get(key, node) != node:
                raise StateError("state.node_conflict", where=f"node {key.hex()}", got="other bytes already stored",
                                 expected="one node per node key: each version applied once")
        for key, node in update.new_nodes:
            self.nodes[key] = node
        self.stale.extend((update.version, key) for key in update.stale)

    def prune(self, oldest_retained: int) -> int:
        """Delete every node that no version from `oldest_retained` on reaches; return how many were deleted."""
        doomed = prunable_nodes(self.stale, oldest_retained)
        for key in doomed:
            del self.nodes[key]
        self.stale = [(staled_by, key) for staled_by, key in self.stale if staled_by > oldest_retained]
        return len(doomed)
