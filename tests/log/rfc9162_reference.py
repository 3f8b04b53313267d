"""A naive RFC 9162 §2.1 reference for the tests: MTH, PATH, PROOF and SUBPROOF, written from the definitions.

Deliberately literal and slow: lists of entries are sliced exactly as the RFC writes D[0:k] and D[k:n], and no
function here shares code with `civichain.log`. Only MTH is memoised, so comparing every size up to 300 stays fast.
"""

from __future__ import annotations

from functools import lru_cache

from civichain.crypto import sha256


@lru_cache(maxsize=1 << 16)
def mth(d: tuple[bytes, ...]) -> bytes:
    """MTH(D[n]), §2.1.1: the Merkle Tree Hash of the entries `d`."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = largest_power_of_two_smaller_than(n)
    return sha256(b"\x01" + mth(d[0:k]) + mth(d[k:n]))


def path(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n]), §2.1.3.1: the inclusion proof of entry m."""
    n = len(d)
    if n == 1:
        return []
    k = largest_power_of_two_smaller_than(n)
    if m < k:
        return path(m, d[0:k]) + [mth(d[k:n])]
    return path(m - k, d[k:n]) + [mth(d[0:k])]


def proof(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PROOF(m, D[n]), §2.1.4.1: the consistency proof from the first m entries, 0 < m < n."""
    return subproof(m, d, True)


def subproof(m: int, d: tuple[bytes, ...], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = largest_power_of_two_smaller_than(n)
    if m <= k:
        return subproof(m, d[0:k], b) + [mth(d[k:n])]
    return subproof(m - k, d[k:n], False) + [mth(d[0:k])]


def largest_power_of_two_smaller_than(n: int) -> int:
    """Return k, the largest power of two strictly smaller than n >= 2."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash of one entry, MTH({d}) = SHA-256(0x00 || d)."""
    return mth((data,))


class DictNodes:
    """Perfect nodes kept in a plain dict, as the store keeps them in a table; counts the reads."""

    def __init__(self) -> None:
        self.saved: dict[tuple[int, int], bytes] = {}
        self.reads = 0

    def save(self, completed: list[tuple[int, int, bytes]]) -> None:
        for level, index, node in completed:
            assert (level, index) not in self.saved, "a perfect node is completed only once"
            self.saved[level, index] = node

    def perfect(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.saved[level, index]


def flip_bit(value: bytes, bit: int) -> bytes:
    """Return `value` with one bit inverted."""
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def entries(count: int) -> tuple[bytes, ...]:
    """Return `count` distinct entries of varied lengths, the empty entry first."""
    return tuple(b"%d:" % i + bytes(i % 13) if i else b"" for i in range(count))
