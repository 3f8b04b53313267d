"""Apply a block's changes to the state tree, and read a value at any retained version.

The tree is a binary sparse Merkle tree over the 256-bit paths sha256(key), with leaf shortcuts: a node at
prefix p is internal when two or more keys share p, a leaf when exactly one does (and its parent is internal),
and empty when none does. The tree is therefore a function of the set of (key, value) pairs alone, whatever
the order or history that produced it. `apply` reads through a `NodeReader` and writes nothing: it returns the
new nodes and the node keys they replace, and the caller saves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Iterator

from civichain.crypto import sha256
from civichain.state.errors import StateError
from civichain.state.nodes import (
    EMPTY,
    EMPTY_HASH,
    INTERNAL,
    INTERNAL_TAG,
    LEAF,
    LEAF_TAG,
    PATH_BITS,
    NodeReader,
    check_internal,
    check_key,
    decode_leaf,
    decode_node_key,
    encode_version,
    internal_hash,
    leaf_hash,
    load,
    node_key,
)
from civichain.state.update import EMPTY_CHILD, Child, Walk, sorted_changes


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
    walk = Walk(store, version, sorted_changes(changes))
    result = walk.run(root)
    if result is None:
        return TreeUpdate(new_version, root[2], base_root, [], [])
    if result[0] == EMPTY:
        return TreeUpdate(new_version, EMPTY_HASH, None, walk.new_nodes, walk.stale)
    if result[1] is None:  # a leaf that floated up to the root, or the first key of an empty tree
        root_key = node_key(version, 0, 0)
        walk.new_nodes.append((root_key, result[3]))
    else:
        root_key = node_key(result[1], 0, 0)
    return TreeUpdate(new_version, result[2], root_key, walk.new_nodes, walk.stale)


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
