"""Apply a block's changes to the state tree, and read a value at any retained version.

The tree is a binary sparse Merkle tree over the 256-bit paths sha256(key), with leaf shortcuts: a node at
prefix p is internal when two or more keys share p, a leaf when exactly one does (and its parent is internal),
and empty when none does. The tree is therefore a function of the set of (key, value) pairs alone, whatever
the order or history that produced it. `apply` reads through a `NodeReader` and writes nothing: it returns the
new nodes and the node keys they replace, and the caller saves both.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Iterator, Protocol

from civichain.crypto import sha256
from civichain.state.errors import StateError
from civichain.state.nodes import (
    EMPTY,
    EMPTY_HASH,
    INTERNAL,
    INTERNAL_TAG,
    LEAF,
    LEAF_TAG,
    NO_VERSION,
    PATH_BITS,
    check_internal,
    check_key,
    check_value,
    decode_leaf,
    decode_node_key,
    encode_internal,
    encode_leaf,
    encode_version,
    internal_hash,
    leaf_hash,
    node_key,
)


class NodeReader(Protocol):
    """Where the tree reads its nodes: a dict in tests, SQLite in the node."""

    def node(self, key: bytes) -> bytes:
        """Return the node stored under node key `key`. Raises KeyError when there is none."""
        ...


@dataclass(frozen=True, slots=True)
class TreeUpdate:
    """What one version changes: the nodes to save and the node keys this version no longer uses.

    `root_key` is None when the tree is empty, and then `root_hash` is EMPTY_HASH. A version with no effective
    change keeps the previous root key and has no new or stale nodes. Every node key in `stale` belonged to the
    base version's tree and belongs to no tree of this version or any later one.
    """

    version: int
    root_hash: bytes
    root_key: bytes | None
    new_nodes: list[tuple[bytes, bytes]]
    stale: list[bytes]


# A child as its parent sees it: (kind, version, hash, node). A placed child is stored under (version, its
# prefix) and `node` is None; a floating leaf has version None and carries its leaf node, to be stored at
# whatever prefix it finally settles (deletes can lift a leaf several levels).
Child = tuple[int, bytes | None, bytes, bytes | None]
EMPTY_CHILD: Child = (EMPTY, NO_VERSION, EMPTY_HASH, None)

# A change as the update walks it: (path as an integer, key hash, key, new value or None to delete).
Row = tuple[int, bytes, bytes, bytes | None]


def apply(store: NodeReader, base_root: bytes | None, new_version: int,
          changes: Mapping[bytes, bytes | None]) -> TreeUpdate:
    """Apply `changes` (key to new value, None to delete) to the tree whose root key is `base_root`.

    `base_root` is None for the empty tree. `new_version` must exceed the version of every node in the base
    tree, that is the version in `base_root`. Deleting an absent key or writing an unchanged value changes
    nothing. Reads nodes from `store` and writes nothing. Raises StateError: `state.bad_key_type`,
    `state.key_too_long`, `state.bad_value_type`, `state.value_too_long`, `state.bad_version`,
    `state.version_not_increasing`, `state.bad_node_key`, `state.bad_root_key`, `state.node_missing`,
    `state.malformed_node`.
    """
    version = encode_version(new_version)
    root = _root_child(store, base_root, new_version)
    batch = _Batch(store, version, _sorted_changes(changes))
    result = batch.update(root, 0, 0, 0, len(batch.paths)) if batch.paths else root
    if result is root:
        return TreeUpdate(new_version, root[2], base_root, [], [])
    if result[0] == EMPTY:
        return TreeUpdate(new_version, EMPTY_HASH, None, batch.new_nodes, batch.stale)
    if result[1] is None:  # a leaf that floated up to the root, or the first key of an empty tree
        root_key = node_key(version, 0, 0)
        batch.new_nodes.append((root_key, result[3]))
    else:
        root_key = node_key(result[1], 0, 0)
    return TreeUpdate(new_version, result[2], root_key, batch.new_nodes, batch.stale)


def read(store: NodeReader, root_key: bytes | None, key: bytes) -> bytes | None:
    """Return the value of `key` in the tree whose root key is `root_key`, or None when the key is absent.

    Raises StateError: `state.bad_key_type`, `state.key_too_long`, `state.bad_node_key`, `state.bad_root_key`,
    `state.node_missing` (a node of a pruned version, or a damaged store), `state.malformed_node`.
    """
    check_key(key, StateError)
    _, leaf = descend(store, root_key, sha256(key))
    if leaf is None:
        return None
    leaf_key, value = decode_leaf(leaf)
    return value if leaf_key == key else None


def descend(store: NodeReader, root_key: bytes | None, key_hash: bytes) -> tuple[list[bytes], bytes | None]:
    """Walk from the root along path `key_hash`; return the sibling hashes from the root down, and the leaf node.

    The leaf node is None when the path ends in an empty subtree; otherwise it is the one leaf on the path,
    which holds the key asked for or another key whose path shares the prefix. Raises as `read` does.
    """
    if root_key is None:
        return [], None
    _check_root_key(root_key)
    path, node, depth, siblings = int.from_bytes(key_hash, "big"), load(store, root_key), 0, []
    while node[:1] == INTERNAL_TAG:
        check_internal(node)
        if depth == PATH_BITS:
            raise StateError("state.malformed_node", where=f"node at depth {depth}", got="internal node",
                             expected="a leaf: paths have 256 bits")
        if (path >> (PATH_BITS - 1 - depth)) & 1:
            kind, version, sibling = node[1] & 15, node[42:50], node[10:42]
        else:
            kind, version, sibling = node[1] >> 4, node[2:10], node[50:82]
        siblings.append(sibling)
        depth += 1
        if kind == EMPTY:
            return siblings, None
        node = load(store, node_key(version, depth, path >> (PATH_BITS - depth)))
    decode_leaf(node)
    return siblings, node


def load(store: NodeReader, key: bytes) -> bytes:
    """Return the node under `key`. Raises `state.node_missing` when the store has none."""
    try:
        return store.node(key)
    except KeyError:
        raise StateError("state.node_missing", where=f"node {key.hex()}", got="no node",
                         expected="a node of a retained version (was this version pruned?)") from None


def _root_child(store: NodeReader, base_root: bytes | None, new_version: int) -> Child:
    if base_root is None:
        return EMPTY_CHILD
    base_version = _check_root_key(base_root)
    if base_version >= new_version:
        raise StateError("state.version_not_increasing", where="new version", got=new_version,
                         expected=f"more than {base_version}, the version of the base root")
    node = load(store, base_root)
    if node[:1] == LEAF_TAG:
        key, value = decode_leaf(node)
        return (LEAF, base_root[:8], leaf_hash(sha256(key), sha256(value)), None)
    check_internal(node)
    return (INTERNAL, base_root[:8], internal_hash(node[10:42], node[50:82]), None)


def _check_root_key(root_key: bytes) -> int:
    version, depth, _ = decode_node_key(root_key)
    if depth != 0:
        raise StateError("state.bad_root_key", where="root key", got=root_key.hex(), expected="a node key of depth 0")
    return version


def _sorted_changes(changes: Mapping[bytes, bytes | None]) -> list[Row]:
    """Return the changes as (path, key hash, key, value), sorted by path so that every node sees them in order."""
    rows = []
    for key, value in changes.items():
        check_key(key, StateError)
        if value is not None:
            check_value(value, StateError)
        key_hash = sha256(key)
        rows.append((int.from_bytes(key_hash, "big"), key_hash, key, value))
    rows.sort()
    return rows


class _Batch:
    """One version's update: the sorted changes, and the nodes created and made stale so far.

    Each method gets a subtree (a Child at `depth` and `prefix`) and the rows lo:hi whose paths fall inside
    it, and returns the subtree's new Child. A subtree no row touches is never read, and one that ends up
    unchanged is returned as the very same object, so its parent knows it need not rewrite anything.
    """

    def __init__(self, store: NodeReader, version: bytes, rows: list[Row]) -> None:
        self.store, self.version, self.rows = store, version, rows
        self.paths = [row[0] for row in rows]
        self.new_nodes: list[tuple[bytes, bytes]] = []
        self.stale: list[bytes] = []

    def update(self, child: Child, depth: int, prefix: int, lo: int, hi: int) -> Child:
        """Apply rows lo:hi to `child`."""
        if child[0] == INTERNAL:
            return self.update_internal(child, depth, prefix, lo, hi)
        if child[0] == LEAF:
            return self.update_leaf(child, depth, prefix, lo, hi)
        rows = [row for row in self.rows[lo:hi] if row[3] is not None]
        return self.build(depth, prefix, rows, [row[0] for row in rows], 0, len(rows)) if rows else child

    def update_internal(self, child: Child, depth: int, prefix: int, lo: int, hi: int) -> Child:
        """Apply rows lo:hi below an internal node, visiting only the sides they touch."""
        key = node_key(child[1], depth, prefix)
        node = load(self.store, key)
        check_internal(node)
        left: Child = (node[1] >> 4, node[2:10], node[10:42], None)
        right: Child = (node[1] & 15, node[42:50], node[50:82], None)
        mid = bisect_left(self.paths, (prefix << 1 | 1) << (PATH_BITS - 1 - depth), lo, hi)
        new_left = self.update(left, depth + 1, prefix << 1, lo, mid) if lo < mid else left
        new_right = self.update(right, depth + 1, prefix << 1 | 1, mid, hi) if mid < hi else right
        if new_left is left and new_right is right:
            return child
        self.stale.append(key)
        return self.join(depth, prefix, new_left, new_right)

    def update_leaf(self, child: Child, depth: int, prefix: int, lo: int, hi: int) -> Child:
        """Merge rows lo:hi with the one leaf of this subtree, then rebuild the subtree if anything changed."""
        key = node_key(child[1], depth, prefix)
        node = load(self.store, key)
        leaf_key, leaf_value = decode_leaf(node)
        leaf_key_hash = sha256(leaf_key)
        leaf_path = int.from_bytes(leaf_key_hash, "big")
        at = bisect_left(self.paths, leaf_path, lo, hi)
        new_value = self.rows[at][3] if at < hi and self.paths[at] == leaf_path else leaf_value
        rows = [row for row in self.rows[lo:hi] if row[3] is not None and row[0] != leaf_path]
        if new_value == leaf_value and not rows:
            return child  # only deletes of absent keys, or the leaf written with the value it already has
        if new_value is not None:
            rows.append((leaf_path, leaf_key_hash, leaf_key, new_value))
            rows.sort()
        self.stale.append(key)
        if not rows:
            return EMPTY_CHILD
        return self.build(depth, prefix, rows, [row[0] for row in rows], 0, len(rows))

    def build(self, depth: int, prefix: int, rows: list[Row], paths: list[int], lo: int, hi: int) -> Child:
        """Build the subtree holding exactly rows lo:hi (no deletes among them) from nothing."""
        if hi - lo == 1:
            _, key_hash, key, value = rows[lo]
            return (LEAF, None, leaf_hash(key_hash, sha256(value)), encode_leaf(key, value))
        mid = bisect_left(paths, (prefix << 1 | 1) << (PATH_BITS - 1 - depth), lo, hi)
        left = self.build(depth + 1, prefix << 1, rows, paths, lo, mid) if lo < mid else EMPTY_CHILD
        right = self.build(depth + 1, prefix << 1 | 1, rows, paths, mid, hi) if mid < hi else EMPTY_CHILD
        return self.join(depth, prefix, left, right)

    def join(self, depth: int, prefix: int, left: Child, right: Child) -> Child:
        """Make the node at `prefix` from its two new children, collapsing it when one leaf is all that is left."""
        if left[0] == EMPTY and right[0] != INTERNAL:
            return right if right[0] == EMPTY else self.lift(right, depth + 1, prefix << 1 | 1)
        if right[0] == EMPTY and left[0] == LEAF:
            return self.lift(left, depth + 1, prefix << 1)
        version = self.version
        left_version, right_version = left[1], right[1]
        if left_version is None:
            left_version = version
            self.new_nodes.append((node_key(version, depth + 1, prefix << 1), left[3]))
        if right_version is None:
            right_version = version
            self.new_nodes.append((node_key(version, depth + 1, prefix << 1 | 1), right[3]))
        node = encode_internal(left[0], left_version, left[2], right[0], right_version, right[2])
        self.new_nodes.append((node_key(version, depth, prefix), node))
        return (INTERNAL, version, internal_hash(left[2], right[2]), None)

    def lift(self, leaf: Child, depth: int, prefix: int) -> Child:
        """Return `leaf` (at `depth`, `prefix`) as a floating leaf, to be stored higher up."""
        if leaf[1] is None:
            return leaf
        key = node_key(leaf[1], depth, prefix)
        node = load(self.store, key)
        decode_leaf(node)
        self.stale.append(key)
        return (LEAF, None, leaf[2], node)


def entries(store: NodeReader, root_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    """Yield every (key, value) of the tree whose root key is `root_key`, in path order (sha256 of the key).

    Used to export the state of one version whole. Raises as `read` does.
    """
    if root_key is None:
        return
    _check_root_key(root_key)
    stack = [(load(store, root_key), 0, 0)]
    while stack:
        node, depth, prefix = stack.pop()
        if node[:1] != INTERNAL_TAG:
            yield decode_leaf(node)
            continue
        check_internal(node)
        # Push the right child first so the left one is visited first.
        for bit, kind, version in ((1, node[1] & 15, node[42:50]), (0, node[1] >> 4, node[2:10])):
            if kind != EMPTY:
                child_prefix = (prefix << 1) | bit
                stack.append((load(store, node_key(version, depth + 1, child_prefix)), depth + 1, child_prefix))
