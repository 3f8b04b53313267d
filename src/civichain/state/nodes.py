"""Byte layouts of the state tree: node keys, leaf and internal nodes, the hashes that commit to them, and
the one way nodes are read.

A key's path is the 256 bits of sha256(key), most significant bit first. A node sits at a prefix of that path
and is stored under its node key, (version created, prefix), never under its hash: two versions may hold the
same subtree, and pruning one must not delete the other's node. docs/state.md draws every layout.
"""

from __future__ import annotations

from typing import Final, Protocol

from civichain.crypto import SHA256_HASHER as sha256
from civichain.errors import CivicError
from civichain.state.errors import StateError

MAX_KEY_SIZE: Final = 1024
MAX_VALUE_SIZE: Final = 65536
MAX_VERSION: Final = 2**64 - 1
HASH_SIZE: Final = 32
PATH_BITS: Final = 256

EMPTY_HASH: Final = bytes(HASH_SIZE)  # the placeholder of an empty subtree, and the root of an empty tree

# Child kinds, as written in an internal node. A leaf or internal child has a node of its own; an empty one has none.
EMPTY: Final = 0
LEAF: Final = 1
INTERNAL: Final = 2

LEAF_TAG: Final = b"\x00"  # the first byte of every leaf node
INTERNAL_TAG: Final = b"\x01"  # the first byte of every internal node
INTERNAL_SIZE: Final = 82  # tag, kinds, then (version, hash) of the left and of the right child
NO_VERSION: Final = bytes(8)  # written for an empty child, which has no node

# Where an internal node keeps each child's version and hash, and both together.
LEFT_VERSION: Final = slice(2, 10)
LEFT_HASH: Final = slice(10, 42)
LEFT_CHILD: Final = slice(2, 42)
RIGHT_VERSION: Final = slice(42, 50)
RIGHT_HASH: Final = slice(50, 82)
RIGHT_CHILD: Final = slice(42, 82)
KEY_TAIL: Final = slice(8, None)  # what follows the version in a node key: the depth, then the prefix

# Per depth, the bytes that follow the version in a node key, and how to pack the prefix bits after them.
DEPTH_FIELD: Final = tuple(depth.to_bytes(2, "big") for depth in range(PATH_BITS + 1))
PREFIX_PAD: Final = tuple(-depth % 8 for depth in range(PATH_BITS + 1))
PREFIX_SIZE: Final = tuple((depth + 7) // 8 for depth in range(PATH_BITS + 1))

# Per depth, the depth field shifted above the prefix bytes, and the size of both: what follows the version.
TAIL_DEPTH_BITS: Final = tuple(depth << 8 * PREFIX_SIZE[depth] for depth in range(PATH_BITS + 1))
TAIL_SIZE: Final = tuple(2 + PREFIX_SIZE[depth] for depth in range(PATH_BITS + 1))


class NodeReader(Protocol):
    """Where the tree reads its nodes: a dict in tests, SQLite in the node."""

    def node(self, key: bytes) -> bytes:
        """Return the node stored under node key `key`. Raises KeyError when there is none."""
        ...


def load(store: NodeReader, key: bytes) -> bytes:
    """Return the node under `key`. Raises `state.node_missing` when the store has none."""
    try:
        return store.node(key)
    except KeyError:
        raise node_missing(key) from None


def node_missing(key: bytes) -> StateError:
    """Return the error for a node key the store does not hold."""
    return StateError("state.node_missing", where=f"node {key.hex()}", got="no node",
                      expected="a node of a retained version (was this version pruned?)")


def leaf_hash(key_hash: bytes, value_hash: bytes) -> bytes:
    """Return the hash of a leaf: H(0x00 ‖ sha256(key) ‖ sha256(value)).

    The leaf hash does not depend on the leaf's depth, so a leaf that moves up or down keeps its hash.
    """
    return sha256(b"\x00" + key_hash + value_hash).digest()


def internal_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an internal node: H(0x01 ‖ left ‖ right), an empty child counting as EMPTY_HASH."""
    return sha256(b"\x01" + left + right).digest()


def node_key(version: bytes, depth: int, prefix: int) -> bytes:
    """Encode the node key of the node created at `version` (8 bytes, big-endian) at the `depth`-bit `prefix`.

    Layout: version (8 bytes) ‖ depth (2 bytes, big-endian: 0 to 256 needs more than one byte) ‖ the prefix
    bits packed most significant first into ceil(depth / 8) bytes, the unused low bits zero. Keys of one
    version sort together, so a store can scan them by version.
    """
    return version + DEPTH_FIELD[depth] + (prefix << PREFIX_PAD[depth]).to_bytes(PREFIX_SIZE[depth], "big")


def key_tail(depth: int, path: int) -> bytes:
    """Return what follows the version in the node key at `depth` on the 256-bit `path`: depth, then prefix.

    The same bytes as `node_key` writes after the version, cut from the whole path in one step.
    """
    prefix = path >> (PATH_BITS - depth)
    return (prefix << PREFIX_PAD[depth] | TAIL_DEPTH_BITS[depth]).to_bytes(TAIL_SIZE[depth], "big")


def decode_node_key(key: bytes) -> tuple[int, int, int]:
    """Return (version, depth, prefix) of a node key. Raises `state.bad_node_key` for anything else."""
    if not isinstance(key, bytes) or len(key) < 10:
        raise _bad_node_key(key, "at least 10 bytes")
    version, depth = int.from_bytes(key[:8], "big"), int.from_bytes(key[8:10], "big")
    if depth > PATH_BITS or len(key) != 10 + PREFIX_SIZE[depth]:
        raise _bad_node_key(key, "a depth from 0 to 256 followed by ceil(depth / 8) prefix bytes")
    packed = int.from_bytes(key[10:], "big")
    if packed & ((1 << PREFIX_PAD[depth]) - 1):
        raise _bad_node_key(key, "the unused low bits of the prefix set to zero")
    return version, depth, packed >> PREFIX_PAD[depth]


def encode_version(version: int) -> bytes:
    """Return `version` as the 8 big-endian bytes that start its node keys. Raises `state.bad_version`."""
    if type(version) is not int or not 0 <= version <= MAX_VERSION:
        raise StateError("state.bad_version", where="version", got=version, expected="an integer from 0 to 2**64 - 1")
    return version.to_bytes(8, "big")


def encode_leaf(key: bytes, value: bytes) -> bytes:
    """Encode a leaf node: 0x00 ‖ key length (2 bytes, big-endian) ‖ key ‖ value.

    The leaf keeps the whole key and value, so any retained version can be read by walking its tree.
    """
    return LEAF_TAG + len(key).to_bytes(2, "big") + key + value


def decode_leaf(node: bytes) -> tuple[bytes, bytes]:
    """Return (key, value) of a leaf node. Raises `state.malformed_node`."""
    if len(node) < 3 or node[:1] != LEAF_TAG or len(node) < 3 + int.from_bytes(node[1:3], "big"):
        raise StateError("state.malformed_node", where="leaf node", got=node[:8].hex(),
                         expected="0x00, key length, key, value")
    end = 3 + int.from_bytes(node[1:3], "big")
    return node[3:end], node[end:]


def encode_internal(left_kind: int, left_version: bytes, left_hash: bytes,
                    right_kind: int, right_version: bytes, right_hash: bytes) -> bytes:
    """Encode an internal node: 0x01 ‖ kinds ‖ left version ‖ left hash ‖ right version ‖ right hash.

    `kinds` is left_kind << 4 | right_kind, each EMPTY (0), LEAF (1) or INTERNAL (2): a parent knows whether a
    child is a leaf without reading it, which deleting needs to decide whether the tree collapses. An empty
    child is written as 8 zero bytes and EMPTY_HASH.
    """
    return INTERNAL_TAG + bytes((left_kind << 4 | right_kind,)) + left_version + left_hash + right_version + right_hash


def check_internal(node: bytes) -> None:
    """Raise `state.malformed_node` unless `node` has the internal node layout."""
    if len(node) != INTERNAL_SIZE or node[:1] != INTERNAL_TAG or node[1] >> 4 > INTERNAL or node[1] & 15 > INTERNAL:
        raise StateError("state.malformed_node", where="internal node", got=node[:8].hex(),
                         expected=f"{INTERNAL_SIZE} bytes starting 0x01 and two child kinds from 0 to 2")


def check_key(key: object, error: type[CivicError]) -> None:
    """Raise `error` with `state.bad_key_type` or `state.key_too_long` unless `key` is bytes of at most 1 KiB."""
    if type(key) is not bytes:
        raise error("state.bad_key_type", where="key", got=type(key).__name__, expected="bytes")
    if len(key) > MAX_KEY_SIZE:
        raise error("state.key_too_long", where="key", got=f"{len(key)} bytes",
                    expected=f"at most {MAX_KEY_SIZE} bytes")


def check_value(value: object, error: type[CivicError]) -> None:
    """Raise `error` with `state.bad_value_type` or `state.value_too_long` unless `value` is bytes of at most 64 KiB."""
    if type(value) is not bytes:
        raise error("state.bad_value_type", where="value", got=type(value).__name__, expected="bytes")
    if len(value) > MAX_VALUE_SIZE:
        raise error("state.value_too_long", where="value", got=f"{len(value)} bytes",
                    expected=f"at most {MAX_VALUE_SIZE} bytes")


def _bad_node_key(key: object, expected: str) -> StateError:
    got = key.hex() if isinstance(key, bytes) else type(key).__name__
    return StateError("state.bad_node_key", where="node key", got=got, expected=expected)
