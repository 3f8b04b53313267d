"""How the log hashes: RFC 9162 §2.1.1 domain separation over a pluggable hash function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from civichain.crypto import sha256
from civichain.log.errors import ProofError

# RFC 9162 §2.1.1: a leaf hash and an interior node hash can never be confused, so no leaf can pose as a subtree.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


@dataclass(frozen=True, slots=True)
class TreeHasher:
    """Hash leaves, interior nodes and the empty tree as RFC 9162 §2.1.1 does, with any hash function.

    `hash` must return digests of one fixed length, `digest_size`, which is measured once here.
    """

    hash: Callable[[bytes], bytes]
    digest_size: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest_size", len(self.hash(b"")))

    def leaf(self, data: bytes) -> bytes:
        """Return the leaf hash HASH(0x00 || data) of one log entry."""
        return self.hash(LEAF_PREFIX + data)

    def node(self, left: bytes, right: bytes) -> bytes:
        """Return the interior node hash HASH(0x01 || left || right)."""
        return self.hash(NODE_PREFIX + left + right)

    def empty_root(self) -> bytes:
        """Return the root of the empty log, HASH() of no bytes."""
        return self.hash(b"")


SHA256_TREE = TreeHasher(sha256)


def require_digest(value: object, where: str, hasher: TreeHasher) -> None:
    """Raise `log.bad_hash_length` unless `value` is a digest of `hasher`'s length."""
    if not isinstance(value, bytes) or len(value) != hasher.digest_size:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise ProofError("log.bad_hash_length", where=where, got=got, expected=f"{hasher.digest_size} bytes")


def require_digests(values: Sequence[object], where: str, hasher: TreeHasher) -> None:
    """Raise `log.bad_hash_length` naming the first element of `values` that is not a digest."""
    size = hasher.digest_size
    for position, value in enumerate(values):
        # The fast test first: verification runs this on every proof element.
        if type(value) is not bytes or len(value) != size:
            require_digest(value, f"{where}[{position}]", hasher)
