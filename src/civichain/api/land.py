"""The land registry's routes: a parcel with its title and encumbrances, each with its state proof, and the
parcel's history, event by event, each with the transaction that made it.

Every record of one answer is read and proved at the same height, so the answer is one consistent picture
that a client checks against one state root (client/land.py `check_parcel_answer`).
"""

from __future__ import annotations

from typing import Annotated, Callable

import msgspec
from fastapi import FastAPI, Path as PathParam, Query

from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules.land import (EVENT_TYPES, NAME, PARCEL_ID_PATTERN, Encumbrance, Parcel, Title,
                                    encumbrance_key, parcel_key, title_key)
from civichain.types import Receipt

ParcelPath = Annotated[str, PathParam(pattern=PARCEL_ID_PATTERN, description="The parcel id, e.g. 110101-001-0042.")]
NumberPath = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


def add_land_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add the /v1/land routes to the API."""

    @api.get("/v1/land/parcels/{parcel}",
             summary="A parcel with its current title and unreleased encumbrances, each with its state proof")
    def get_parcel(parcel: ParcelPath) -> dict:
        r = reader()
        height = r.latest().height
        found = _proved(r, parcel_key(parcel), height, Parcel)
        if found is None:
            raise NotFound("land.unknown_parcel", where="parcel", got=parcel, expected="a registered parcel id")
        record, answer = found
        title = _proved(r, title_key(record.title), height, Title)[1] if record.title else None
        encumbrances = [_proved(r, encumbrance_key(n), height, Encumbrance)[1] for n in record.encumbrances]
        return {"height": height, "parcel": answer, "title": title, "encumbrances": encumbrances}

    @api.get("/v1/land/parcels/{parcel}/history",
             summary="A parcel's history: its events in order, each with its transaction id, paginated by cursor")
    def get_history(parcel: ParcelPath, cursor: Annotated[str | None, Query(pattern=r"^\d+\.\d+\.\d+$")] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
        r = reader()
        if r.store.get(parcel_key(parcel)) is None:
            raise NotFound("land.unknown_parcel", where="parcel", got=parcel, expected="a registered parcel id")
        after = tuple(int(p) for p in cursor.split(".")) if cursor else None
        rows, more = parcel_history(r, parcel, after, limit)
        events = _history_items(r, rows)
        next_cursor = f"{rows[-1][3]}.{rows[-1][4]}.{rows[-1][5]}" if more else None
        return {"parcel": parcel, "events": events, "next_cursor": next_cursor}

    @api.get("/v1/land/titles/{number}", summary="A title (current or ended) with its state proof")
    def get_title(number: NumberPath) -> dict:
        r = reader()
        found = _proved(r, title_key(number), r.latest().height, Title)
        if found is None:
            raise NotFound("land.unknown_title", where="number", got=number, expected="the number of an issued title")
        return found[1]

    @api.get("/v1/land/encumbrances/{number}", summary="An encumbrance (unreleased or released) with its state proof")
    def get_encumbrance(number: NumberPath) -> dict:
        r = reader()
        found = _proved(r, encumbrance_key(number), r.latest().height, Encumbrance)
        if found is None:
            raise NotFound("land.unknown_encumbrance", where="number", got=number,
                           expected="the number of an encumbrance")
        return found[1]


def parcel_history(r: LedgerReader, parcel: str, after: tuple[int, ...] | None,
                   limit: int) -> tuple[list[tuple], bool]:
    """Return up to `limit` event rows of `parcel` after the cursor, in chain order, and whether more follow.

    The store indexes events by (module, type, key, position in the chain): one indexed read per event type,
    merged, instead of a scan of every land event.
    """
    rows = [row for kind in EVENT_TYPES for row in r.store.events(NAME, kind, parcel, limit + 1, after)]
    rows.sort(key=lambda row: (row[3], row[4], row[5]))
    return rows[:limit], len(rows) > limit


def _history_items(r: LedgerReader, rows: list[tuple]) -> list[dict]:
    blocks: dict[int, tuple[int, list[Receipt]]] = {}
    items = []
    for _, kind, _, height, position, seq in rows:
        if height not in blocks:
            block = r.block(height)
            blocks[height] = (block.time_ns, decode(block.receipts, list[Receipt], where=f"block {height} receipts"))
        time_ns, receipts = blocks[height]
        receipt = receipts[position]
        attributes = {a.key: a.value for a in receipt.events[seq].attributes}
        items.append({"type": kind, "height": height, "position": position, "seq": seq, "time_ns": time_ns,
                      "tx_id": receipt.tx_id.hex(), "attributes": attributes})
    return items


def _proved(r: LedgerReader, key: bytes, height: int, kind: type[msgspec.Struct]) -> tuple[msgspec.Struct, dict] | None:
    """Return the record under `key` at `height` and its answer {"record", "state" (value and proof)}, or None."""
    at, value, proof, root = r.state_value(key, height)
    if value is None:
        return None
    record = decode(value, kind, where=key.decode())
    state = {"key": key.decode(), "height": at, "state_root": root.hex(), "proof": to_plain(proof),
             "value": value.hex()}
    return record, {"record": to_plain(record), "state": state}
