"""The funds endpoints: a programme's budget, commitments and payments, a fiscal year, each appropriation,
allocation, commitment and disbursement by id, each with proofs; and a programme's history.

Every record comes with its state proof at one height (`?height=`, default the latest committed when the
request was read), so a client checks each answer against a checkpoint's state root
(`client.proofs.check_state_at`). Amounts are integer fen. Lists are paginated by cursor: payments by their
sequence number in the programme, a year's programmes by id, a programme's history by event.
"""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import FastAPI, Path as PathParam, Query

from civichain.api.answers import EventCursor, Height, answer_height, record_answer, state_answer
from civichain.api.history import HistoryLimit, history_answer
from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules.funds import NAME
from civichain.modules.funds_records import (
    MAX_YEAR,
    MIN_YEAR,
    REF_PATTERN,
    Allocation,
    Appropriation,
    Commitment,
    Disbursement,
    FiscalYear,
    Programme,
    allocation_key,
    appropriation_key,
    commitment_key,
    disbursement_key,
    payment_key,
    payments_prefix,
    programme_key,
    year_key,
    year_programmes_prefix,
)

Ref = Annotated[str, PathParam(pattern=REF_PATTERN, description="A record id: lower-case letters, digits, . _ -")]
YearNumber = Annotated[int, PathParam(ge=MIN_YEAR, le=MAX_YEAR)]
Limit = Annotated[int, Query(ge=1, le=100)]


def add_funds_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add the /v1/funds routes: programmes, their payments and history, years, and each record by id."""

    @api.get("/v1/funds/programmes/{programme}",
             summary="A programme: its department, budget, committed, spent and remaining, with proof")
    def get_programme(programme: Ref, height: Height = None) -> dict:
        return proved_programme(reader(), programme, height)

    @api.get("/v1/funds/programmes/{programme}/payments",
             summary="A programme's payments in order, each with the chain it traces to and its proof")
    def get_payments(programme: Ref, cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
                     limit: Limit = 50, height: Height = None) -> dict:
        r = reader()
        at = answer_height(r, height)    # the programme and every payment are proved at this one height
        answer = proved_programme(r, programme, at)
        rows = r.store.scan(payments_prefix(programme), limit, payment_key(programme, cursor) if cursor else b"")
        payments = []
        for _, disbursement in rows:
            key = disbursement_key(disbursement.decode())
            p_at, value, proof, root = r.state_value(key, at)
            if value is not None:     # None: paid after `at`; a page read at a later height has it
                payments.append({"payment": to_plain(decode(value, Disbursement, where="disbursement")),
                                 "state": state_answer(key, p_at, value, proof, root)})
        next_cursor = int(rows[-1][0].rsplit(b"/", 1)[1]) if len(rows) == limit else None
        return {"height": at, "programme": answer, "payments": payments, "next_cursor": next_cursor}

    @api.get("/v1/funds/programmes/{programme}/history",
             summary="A programme's history: created, allocated, committed, paid, ... in order, each with its "
                     "transaction and inclusion proof, paginated by cursor")
    def get_programme_history(programme: Ref, cursor: EventCursor = None, limit: HistoryLimit = 100,
                              height: Height = None) -> dict:
        r = reader()
        if r.store.get(programme_key(programme)) is None:
            raise NotFound("funds.unknown_programme", where="programme", got=programme,
                           expected="the id of a programme")
        return history_answer(r, NAME, programme, cursor, limit, height)

    @api.get("/v1/funds/years/{year}",
             summary="A fiscal year: threshold, status and totals, and its programmes by id, each with proof")
    def get_year(year: YearNumber, cursor: Annotated[str | None, Query(pattern=REF_PATTERN)] = None,
                 limit: Limit = 50, height: Height = None) -> dict:
        r = reader()
        at = answer_height(r, height)
        key = year_key(year)
        y_at, value, proof, root = r.state_value(key, at)
        if value is None:
            raise NotFound("funds.unknown_year", where="year", got=year, expected="a fiscal year opened on the chain")
        prefix = year_programmes_prefix(year)
        rows = r.store.scan(prefix, limit, prefix + cursor.encode() if cursor else b"")
        programmes = []
        for index_key, _ in rows:
            key_of = programme_key(index_key.removeprefix(prefix).decode())
            p_at, p_value, p_proof, p_root = r.state_value(key_of, at)
            if p_value is not None:
                programmes.append(programme_answer(key_of, p_at, p_value, p_proof, p_root))
        return {"year": to_plain(decode(value, FiscalYear, where="fiscal year")),
                "state": state_answer(key, y_at, value, proof, root), "programmes": programmes,
                "next_cursor": rows[-1][0].removeprefix(prefix).decode() if len(rows) == limit else None}

    @api.get("/v1/funds/appropriations/{appropriation}", summary="An appropriation with its state proof")
    def get_appropriation(appropriation: Ref, height: Height = None) -> dict:
        return record_answer(reader(), appropriation_key(appropriation), Appropriation, height,
                             code="funds.unknown_appropriation", where="appropriation", got=appropriation,
                             expected="the id of an appropriation")

    @api.get("/v1/funds/allocations/{allocation}", summary="An allocation with its state proof")
    def get_allocation(allocation: Ref, height: Height = None) -> dict:
        return record_answer(reader(), allocation_key(allocation), Allocation, height,
                             code="funds.unknown_allocation", where="allocation", got=allocation,
                             expected="the id of an allocation")

    @api.get("/v1/funds/commitments/{commitment}", summary="A commitment (contract) with its state proof")
    def get_commitment(commitment: Ref, height: Height = None) -> dict:
        return record_answer(reader(), commitment_key(commitment), Commitment, height,
                             code="funds.unknown_commitment", where="commitment", got=commitment,
                             expected="the id of a commitment")

    @api.get("/v1/funds/disbursements/{disbursement}",
             summary="A disbursement (payment), with the chain it traces to and its state proof")
    def get_disbursement(disbursement: Ref, height: Height = None) -> dict:
        return record_answer(reader(), disbursement_key(disbursement), Disbursement, height,
                             code="funds.unknown_disbursement", where="disbursement", got=disbursement,
                             expected="the id of a disbursement")


def programme_answer(key: bytes, at: int, value: bytes, proof, root: bytes) -> dict:
    """Return a programme's answer: its record, its summary (budget, committed, spent, remaining, unpaid,
    payments) and its state proof."""
    programme = decode(value, Programme, where="programme")
    return {"programme": to_plain(programme), "summary": programme_summary(programme),
            "state": state_answer(key, at, value, proof, root)}


def programme_summary(programme: Programme) -> dict:
    """Return what a programme shows: budget, committed, spent, remaining and unpaid fen, and its payments."""
    return {"budget_fen": programme.budget_fen, "committed_fen": programme.committed_fen,
            "spent_fen": programme.spent_fen, "remaining_fen": programme.remaining_fen,
            "unpaid_fen": programme.unpaid_fen, "payments": programme.payments}


def proved_programme(r: LedgerReader, programme: str, height: int | None = None) -> dict:
    """Return a programme's answer at `height` (default: the latest). Raises NotFound `funds.unknown_programme`."""
    key = programme_key(programme)
    at, value, proof, root = r.state_value(key, height)
    if value is None:
        raise NotFound("funds.unknown_programme", where="programme", got=programme, expected="the id of a programme")
    return programme_answer(key, at, value, proof, root)
