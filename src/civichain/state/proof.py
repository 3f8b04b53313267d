"""State proofs: that a key holds a value, or is absent, in the state whose root an app hash commits to.

A proof is the path from the root down to where the key's path ends: the sibling hash at each level, and the
leaf found there (for presence the asked key's leaf, for absence another key's leaf on the same prefix) or
nothing (an empty subtree). Siblings that are the empty placeholder are sent as one bit each, so a proof in a
tree of a million keys is about 750 bytes. The checks need no store: give them the proof and the root.
"""

from __future__ import annotations

from typing import Final

import msgspec

from civichain.codec import msgpack_decoder
from civichain.crypto import sha256
from civichain.state.errors import StateError, StateProofError
from civichain.state.nodes import (
    EMPTY_HASH,
    HASH_SIZE,
    PATH_BITS,
    check_key,
    check_value,
    decode_leaf,
    internal_hash,
    leaf_hash,
)
from civichain.state.tree import NodeReader, descend

MAX_PROOF_SIZE: Final = 10240  # the deepest possible proof (256 siblings and a leaf) encodes to 8,814 bytes


class ProofLeaf(msgspec.Struct, frozen=True, forbid_unknown_fields=True, array_like=True):
    """The leaf where a proof's path ends: sha256 of its key and sha256 of its value."""

    key_hash: bytes
    value_hash: bytes


class StateProof(msgspec.Struct, frozen=True, forbid_unknown_fields=True, array_like=True):
    """The path to where a key's path ends in the tree, from the root down.

    `depth` is the number of levels walked. Bit i of `empty_siblings` (most significant bit of byte 0 first,
    ceil(depth / 8) bytes, unused bits zero) is set when the sibling at level i is the empty placeholder;
    `siblings` holds the other sibling hashes, root first. `leaf` is None when the path ends in an empty subtree.
    """

    depth: int
    empty_siblings: bytes
    siblings: tuple[bytes, ...]
    leaf: ProofLeaf | None


def prove(store: NodeReader, root_key: bytes | None, key: bytes) -> StateProof:
    """Return the proof of `key`'s value, or of its absence, in the tree whose root key is `root_key`.

    Raises StateError as `read` does, `state.node_missing` included for a pruned version.
    """
    check_key(key, StateError)
    siblings, leaf = descend(store, root_key, sha256(key))
    empty_siblings = bytearray((len(siblings) + 7) // 8)
    for level, sibling in enumerate(siblings):
        if sibling == EMPTY_HASH:
            empty_siblings[level >> 3] |= 0x80 >> (level & 7)
    kept = tuple(sibling for sibling in siblings if sibling != EMPTY_HASH)
    end = None
    if leaf is not None:
        leaf_key, value = decode_leaf(leaf)
        end = ProofLeaf(sha256(leaf_key), sha256(value))
    return StateProof(len(siblings), bytes(empty_siblings), kept, end)


def verify_state_proof(root_hash: bytes, key: bytes, value: bytes | None, proof: StateProof) -> None:
    """Check that `key` holds `value` (or is absent, when `value` is None) in the state with root `root_hash`.

    Raises StateProofError as `verify_presence` and `verify_absence` do.
    """
    if value is None:
        verify_absence(root_hash, key, proof)
    else:
        verify_presence(root_hash, key, value, proof)


def verify_presence(root_hash: bytes, key: bytes, value: bytes, proof: StateProof) -> None:
    """Check that `key` holds `value` in the state with root `root_hash`.

    Raises StateProofError: `state.bad_root_hash`, `state.bad_key_type`, `state.key_too_long`,
    `state.bad_value_type`, `state.value_too_long`, `state.malformed_proof`, `state.key_absent` (the proof
    ends in an empty subtree), `state.key_mismatch` (it ends at another key's leaf), `state.value_mismatch`,
    `state.root_mismatch`.
    """
    key_hash = _check_request(root_hash, key, proof)
    check_value(value, StateProofError)
    leaf = proof.leaf
    if leaf is None:
        raise StateProofError("state.key_absent", where="proof leaf", got="empty subtree",
                              expected=f"the leaf of key hash {key_hash.hex()}")
    if leaf.key_hash != key_hash:
        raise StateProofError("state.key_mismatch", where="proof leaf key hash", got=leaf.key_hash.hex(),
                              expected=key_hash.hex())
    value_hash = sha256(value)
    if leaf.value_hash != value_hash:
        raise StateProofError("state.value_mismatch", where="proof leaf value hash", got=leaf.value_hash.hex(),
                              expected=value_hash.hex())
    _check_root(root_hash, key_hash, leaf_hash(key_hash, value_hash), proof)


def verify_absence(root_hash: bytes, key: bytes, proof: StateProof) -> None:
    """Check that `key` has no value in the state with root `root_hash`.

    The proof ends in an empty subtree on the key's path, or at the leaf of another key whose path shares the
    prefix walked: either way the key would have to be there. Raises StateProofError: `state.bad_root_hash`,
    `state.bad_key_type`, `state.key_too_long`, `state.malformed_proof`, `state.key_present`,
    `state.key_mismatch` (the leaf is not on the key's path), `state.root_mismatch`.
    """
    key_hash = _check_request(root_hash, key, proof)
    leaf = proof.leaf
    if leaf is None:
        _check_root(root_hash, key_hash, EMPTY_HASH, proof)
        return
    if leaf.key_hash == key_hash:
        raise StateProofError("state.key_present", where="proof leaf key hash", got=leaf.key_hash.hex(),
                              expected="another key's hash, or an empty subtree")
    shift = PATH_BITS - proof.depth
    if int.from_bytes(leaf.key_hash, "big") >> shift != int.from_bytes(key_hash, "big") >> shift:
        raise StateProofError("state.key_mismatch", where="proof leaf key hash", got=leaf.key_hash.hex(),
                              expected=f"the first {proof.depth} bits of {key_hash.hex()}")
    _check_root(root_hash, key_hash, leaf_hash(leaf.key_hash, leaf.value_hash), proof)


def encode_state_proof(proof: StateProof) -> bytes:
    """Encode `proof` as MessagePack, its one byte form. Raises `state.malformed_proof`."""
    _check_shape(proof)
    return _ENCODER.encode(proof)


def decode_state_proof(data: bytes) -> StateProof:
    """Decode a proof from its one byte form.

    Anything else (wrong types, more than MAX_PROOF_SIZE bytes, another encoding of the same proof, a proof
    of impossible shape) raises StateProofError `state.malformed_proof`, and nothing else is ever raised.
    """
    if type(data) is not bytes or len(data) > MAX_PROOF_SIZE:
        got = f"{len(data)} bytes" if isinstance(data, bytes) else type(data).__name__
        raise _malformed("proof bytes", got, f"bytes, at most {MAX_PROOF_SIZE}")
    try:
        proof = _DECODER.decode(data)
    except msgspec.MsgspecError as exc:
        raise _malformed("proof bytes", str(exc), "a MessagePack state proof") from exc
    _check_shape(proof)
    if _ENCODER.encode(proof) != data:
        raise _malformed("proof bytes", data.hex(), "the one canonical encoding of the proof")
    return proof


_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgpack_decoder(StateProof, strict=False)


def _check_request(root_hash: object, key: object, proof: object) -> bytes:
    """Check the arguments every verification shares; return sha256(key)."""
    if type(root_hash) is not bytes or len(root_hash) != HASH_SIZE:
        got = f"{len(root_hash)} bytes" if isinstance(root_hash, bytes) else type(root_hash).__name__
        raise StateProofError("state.bad_root_hash", where="root hash", got=got, expected=f"{HASH_SIZE} bytes")
    check_key(key, StateProofError)
    _check_shape(proof)
    return sha256(key)


def _check_root(root_hash: bytes, key_hash: bytes, end_hash: bytes, proof: StateProof) -> None:
    """Hash from the end of the path up to the root, and compare with `root_hash`."""
    depth, siblings = proof.depth, proof.siblings
    path = int.from_bytes(key_hash, "big") >> (PATH_BITS - depth)
    empty = int.from_bytes(proof.empty_siblings, "big") >> (-depth % 8)
    node, next_sibling = end_hash, len(siblings) - 1
    for _ in range(depth):  # level depth - 1 first: bit 0 of `path` and of `empty`
        if empty & 1:
            sibling = EMPTY_HASH
        else:
            sibling, next_sibling = siblings[next_sibling], next_sibling - 1
        node = internal_hash(sibling, node) if path & 1 else internal_hash(node, sibling)
        path, empty = path >> 1, empty >> 1
    if node != root_hash:
        raise StateProofError("state.root_mismatch", where="root hash", got=node.hex(), expected=root_hash.hex())


def _check_shape(proof: object) -> None:
    """Raise `state.malformed_proof` unless `proof` could have come from `prove`."""
    if type(proof) is not StateProof:
        raise _malformed("proof", type(proof).__name__, "a StateProof")
    depth, empty_siblings, siblings, leaf = proof.depth, proof.empty_siblings, proof.siblings, proof.leaf
    if type(depth) is not int or not 0 <= depth <= PATH_BITS:
        raise _malformed("proof depth", depth, f"an integer from 0 to {PATH_BITS}")
    if type(empty_siblings) is not bytes or len(empty_siblings) != (depth + 7) // 8:
        raise _malformed("proof empty_siblings", empty_siblings, f"{(depth + 7) // 8} bytes for depth {depth}")
    empty = int.from_bytes(empty_siblings, "big")
    if empty & ((1 << (-depth % 8)) - 1):
        raise _malformed("proof empty_siblings", empty_siblings.hex(), "the bits past the depth set to zero")
    if depth and (empty >> (-depth % 8)) & 1:
        raise _malformed("proof empty_siblings", empty_siblings.hex(),
                         "a non-empty last sibling: a path that ends beside an empty subtree is not the shortest")
    if type(siblings) is not tuple or len(siblings) != depth - empty.bit_count():
        got = len(siblings) if isinstance(siblings, tuple) else type(siblings).__name__
        raise _malformed("proof siblings", got, f"a tuple of {depth - empty.bit_count()} hashes")
    for sibling in siblings:
        if type(sibling) is not bytes or len(sibling) != HASH_SIZE or sibling == EMPTY_HASH:
            raise _malformed("proof sibling", sibling, f"{HASH_SIZE} bytes other than the empty placeholder")
    if leaf is not None and not (type(leaf) is ProofLeaf and _is_hash(leaf.key_hash) and _is_hash(leaf.value_hash)):
        raise _malformed("proof leaf", leaf, f"None, or a ProofLeaf of two {HASH_SIZE}-byte hashes")


def _is_hash(value: object) -> bool:
    return type(value) is bytes and len(value) == HASH_SIZE


def _malformed(where: str, got: object, expected: str) -> StateProofError:
    return StateProofError("state.malformed_proof", where=where, got=got, expected=expected)
