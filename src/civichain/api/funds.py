"""The funds endpoints: a programme's budget, commitments and payments, and a fiscal year, each with proofs.

Every record comes with its state proof at one height (the latest committed when the request was read), so a
client checks each answer against a checkpoint's state root (`client.proofs.check_state_answer`). Amounts are
integer fen. Lists are paginated by cursor: payments by their sequence number in the programme, a year's
programmes by id.
"""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import FastAPI, Path as PathParam, Query

from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules.funds_records import (
    MAX_YEAR,
    MIN_YEAR,
    REF_PATTERN,
    Disbursement,
    FiscalYear,
    Programme,
    disbursement_key,
    payment_key,
    payments_prefix,
    programme_key,
    year_key,
    year_programmes_prefix,
)

ProgrammeId = Annotated[str, PathParam(pattern=REF_PATTERN)]
YearNumber = Annotated[int, PathParam(ge=MIN_YEAR, le=MAX_YEAR)]
Limit = Annotated[int, Query(ge=1, le=100)]


def add_funds_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add GET /v1/funds/programmes/{id}, /v1/funds/programmes/{id}/payments and /v1/funds/years/{year}."""
    from civichain.api.server import _state_answer   # here, not at the top: server imports this module

    def programme_answer(key: bytes, at: int, value: bytes, proof, root: bytes) -> dict:
        programme = decode(value, Programme, where="programme")
        summary = {"budget_fen": programme.budget_fen, "committed_fen": programme.committed_fen,
                   "spent_fen": programme.spent_fen, "remaining_fen": programme.remaining_fen,
                   "unpaid_fen": programme.unpaid_fen, "payments": programme.payments}
        return {"programme": to_plain(programme), "summary": summary,
                "state": _state_answer(key, at, value, proof, root)}

    def proved_programme(r: LedgerReader, programme: str, height: int | None = None) -> dict:
        key = programme_key(programme)
        at, value, proof, root = r.state_value(key, height)
        if value is None:
            raise NotFound("funds.unknown_programme", where="programme", got=programme,
                           expected="the id of a programme")
        return programme_answer(key, at, value, proof, root)

    @api.get("/v1/funds/programmes/{programme}",
             summary="A programme: its department, budget, committed, spent and remaining, with proof")
    def get_programme(programme: ProgrammeId) -> dict:
        return proved_programme(reader(), programme)

    @api.get("/v1/funds/programmes/{programme}/payments",
             summary="A programme's payments in order, each with the chain it traces to and its proof")
    def get_payments(programme: ProgrammeId, cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
                     limit: Limit = 50) -> dict:
        r = reader()
        height = r.latest().height    # the programme and every payment are proved at this one height
        answer = proved_programme(r, programme, height)
        rows = r.store.scan(payments_prefix(programme), limit, payment_key(programme, cursor) if cursor else b"")
        payments = []
        for _, disbursement in rows:
            key = disbursement_key(disbursement.decode())
            at, value, proof, root = r.state_value(key, height)
            if value is not None:     # None: paid after `height`; the next page will have it
                payments.append({"payment": to_plain(decode(value, Disbursement, where="disbursement")),
                                 "state": _state_answer(key, at, value, proof, root)})
        next_cursor = int(rows[-1][0].rsplit(b"/", 1)[1]) if len(rows) == limit else None
        return {"height": height, "programme": answer, "payments": payments, "next_cursor": next_cursor}

    @api.get("/v1/funds/years/{year}",
             summary="A fiscal year: threshold, status and totals, and its programmes by id, each with proof")
    def get_year(year: YearNumber, cursor: Annotated[str | None, Query(pattern=REF_PATTERN)] = None,
                 limit: Limit = 50) -> dict:
        r = reader()
        height = r.latest().height
        key = year_key(year)
        at, value, proof, root = r.state_value(key, height)
        if value is None:
            raise NotFound("funds.unknown_year", where="year", got=year, expected="a fiscal year opened on the chain")
        prefix = year_programmes_prefix(year)
        rows = r.store.scan(prefix, limit, prefix + cursor.encode() if cursor else b"")
        programmes = []
        for index_key, _ in rows:
            key_of = programme_key(index_key.removeprefix(prefix).decode())
            p_at, p_value, p_proof, p_root = r.state_value(key_of, height)
            if p_value is not None:
                programmes.append(programme_answer(key_of, p_at, p_value, p_proof, p_root))
        return {"year": to_plain(decode(value, FiscalYear, where="fiscal year")),
                "state": _state_answer(key, at, value, proof, root), "programmes": programmes,
                "next_cursor": rows[-1][0].removeprefix(prefix).decode() if len(rows) == limit else None}
