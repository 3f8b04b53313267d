"""Read public funds from a node's API: a programme, its payments, a fiscal year; and amounts in yuan."""

from __future__ import annotations

import re

from civichain.client.api import ApiClient
from civichain.errors import CivicError

_YUAN = re.compile(r"^(\d{1,16})(?:\.(\d{1,2}))?$")


class AmountError(CivicError):
    """An amount that is not yuan with at most two decimals."""


class FundsClient(ApiClient):
    """The `/v1/funds` calls of one node's API (answers as the API gives them, proofs unchecked)."""

    def programme(self, programme: str) -> dict:
        """Return a programme's record and summary (budget, committed, spent, remaining) with its proof."""
        return self._call("GET", f"/v1/funds/programmes/{programme}")

    def payments(self, programme: str, cursor: int | None = None, limit: int = 100) -> dict:
        """Return one page of a programme's payments (in order) and the cursor of the next page."""
        params = {"limit": str(limit), **({"cursor": str(cursor)} if cursor else {})}
        return self._call("GET", f"/v1/funds/programmes/{programme}/payments", params=params)

    def all_payments(self, programme: str) -> list[dict]:
        """Return every payment of a programme, in order, following the pages' cursors."""
        return self.all_pages(lambda cursor: self.payments(programme, cursor), "payments")

    def year(self, year: int, cursor: str | None = None, limit: int = 100) -> dict:
        """Return a fiscal year (threshold, status, totals) and one page of its programmes."""
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        return self._call("GET", f"/v1/funds/years/{year}", params=params)


def fen_of_yuan(text: str) -> int:
    """Return the integer fen of an amount written in yuan ("1250000", "1,250,000.5", "0.01"); no floats.

    Raises AmountError `cli.bad_amount` for anything else (a sign, more than two decimals, letters).
    """
    match = _YUAN.match(text.replace(",", "").strip())
    if match is None:
        raise AmountError("cli.bad_amount", where="amount", got=text,
                             expected="yuan as digits with at most two decimals, e.g. 1250000.50")
    whole, cents = match.groups()
    return int(whole) * 100 + int((cents or "0").ljust(2, "0"))


def yuan(fen: int) -> str:
    """Return integer fen written in yuan with thousands separators: 123456789 -> "1,234,567.89"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
