"""A bounded cache for hot paths: two generations of plain dicts instead of an LRU list.

A hit costs one or two dict lookups (no reordering on every read, as an OrderedDict LRU does). When the
young generation is full, it becomes the old one and the previous old one is dropped, so at most
2 × `capacity` entries are held and recently used entries survive: a hit in the old generation moves the
entry to the young one.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
_MISSING = object()


class TwoGenerationCache(Generic[K, V]):
    """A bounded mapping that keeps what was used recently."""

    __slots__ = ("_young", "_old", "_capacity")

    def __init__(self, capacity: int) -> None:
        self._young: dict = {}
        self._old: dict = {}
        self._capacity = capacity

    def get(self, key: K, default=None):
        """Return the cached value of `key`, or `default`."""
        value = self._young.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._old.get(key, _MISSING)
        if value is _MISSING:
            return default
        self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        """Cache `value` under `key`."""
        young = self._young
        young[key] = value
        if len(young) >= self._capacity:
            self._old, self._young = young, {}

    def pop(self, key: K) -> None:
        """Forget `key`."""
        self._young.pop(key, None)
        self._old.pop(key, None)

    def __len__(self) -> int:
        return len(self._young) + len(self._old)
