"""Buffered writes over a state reader: a block's changes, and inside it each transaction's."""

from __future__ import annotations

from typing import Protocol

_DELETED = None


class StateReader(Protocol):
    """Committed state, read by key."""

    def get(self, key: bytes) -> bytes | None: ...


class Overlay:
    """Reads through to `base`; writes stay here until `merge_into_parent` (a transaction that succeeded).

    A `None` entry in `writes` is a deletion. Nothing is written below until the block is committed.
    """

    __slots__ = ("base", "writes", "_parent")

    def __init__(self, base: StateReader, parent: "Overlay | None" = None) -> None:
        self.base = base
        self.writes: dict[bytes, bytes | None] = {}
        self._parent = parent

    def get(self, key: bytes) -> bytes | None:
        """Return the value of `key` as this overlay sees it."""
        if key in self.writes:
            return self.writes[key]
        return self.base.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        """Buffer a write."""
        self.writes[key] = bytes(value)

    def delete(self, key: bytes) -> None:
        """Buffer a deletion."""
        self.writes[key] = _DELETED

    def child(self) -> "Overlay":
        """Return an overlay over this one whose writes can be merged back or dropped."""
        return Overlay(self, parent=self)

    def merge_into_parent(self) -> None:
        """Make this overlay's writes part of its parent's."""
        assert self._parent is not None, "only a child overlay merges"
        self._parent.writes.update(self.writes)
