"""The base error of civichain: a stable code, and what was wrong, where, and what was expected."""

from __future__ import annotations


class CivicError(Exception):
    """Base for errors expected in normal operation; `code` is stable across releases."""

    def __init__(self, code: str, *, where: str, got: object, expected: str) -> None:
        super().__init__(f"{code}: {where} is {got!r}, expected {expected}")
        self.code, self.where, self.got, self.expected = code, where, got, expected

    def facts(self) -> dict[str, str]:
        """Return the error as plain fields for receipts, JSON answers and logs."""
        return {"code": self.code, "where": self.where, "got": _short(self.got), "expected": self.expected}


def _short(value: object, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
