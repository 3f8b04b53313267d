"""The land registry's routes: a parcel with its title and encumbrances, each with its state proof, and the
parcel's history, event by event, each with the transaction that made it and its inclusion proof.

Every record of one answer is read and proved at the same height (`?height=`, default the latest), so the
answer is one consistent picture that a client checks against one state root (client/land.py
`check_parcel_answer`).
"""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import FastAPI, Path as PathParam

from civichain.api.answers import EventCursor, Height, answer_height, proved, record_answer
from civichain.api.history import HistoryLimit, history_answer
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules.land import (NAME, PARCEL_ID_PATTERN, Encumbrance, Parcel, Title, encumbrance_key,
                                    parcel_key, title_key)

ParcelPath = Annotated[str, PathParam(pattern=PARCEL_ID_PATTERN, description="The parcel id, e.g. 110101-001-0042.")]
NumberPath = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


def add_land_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add the /v1/land routes to the API."""

    @api.get("/v1/land/parcels/{parcel}",
             summary="A parcel with its current title and unreleased encumbrances, each with its state proof")
    def get_parcel(parcel: ParcelPath, height: Height = None) -> dict:
        r = reader()
        at = answer_height(r, height)
        found = proved(r, parcel_key(parcel), at, Parcel)
        if found is None:
            raise NotFound("land.unknown_parcel", where="parcel", got=f"{parcel} at height {at}",
                           expected="a registered parcel id")
        record, answer = found
        title = proved(r, title_key(record.title), at, Title)[1] if record.title else None
        encumbrances = [proved(r, encumbrance_key(n), at, Encumbrance)[1] for n in record.encumbrances]
        return {"height": at, "parcel": answer, "title": title, "encumbrances": encumbrances}

    @api.get("/v1/land/parcels/{parcel}/history",
             summary="A parcel's history: its events in order, each with its transaction and inclusion proof, "
                     "paginated by cursor")
    def get_history(parcel: ParcelPath, cursor: EventCursor = None, limit: HistoryLimit = 100,
                    height: Height = None) -> dict:
        r = reader()
        if r.store.get(parcel_key(parcel)) is None:
            raise NotFound("land.unknown_parcel", where="parcel", got=parcel, expected="a registered parcel id")
        return history_answer(r, NAME, parcel, cursor, limit, height)

    @api.get("/v1/land/titles/{number}", summary="A title (current or ended) with its state proof")
    def get_title(number: NumberPath, height: Height = None) -> dict:
        return record_answer(reader(), title_key(number), Title, height, code="land.unknown_title", where="number",
                             got=number, expected="the number of an issued title")

    @api.get("/v1/land/encumbrances/{number}", summary="An encumbrance (unreleased or released) with its state proof")
    def get_encumbrance(number: NumberPath, height: Height = None) -> dict:
        return record_answer(reader(), encumbrance_key(number), Encumbrance, height, code="land.unknown_encumbrance",
                             where="number", got=number, expected="the number of an encumbrance")
