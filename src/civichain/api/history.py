"""The history of a subject (a parcel, a programme, an account, a DID, a document): every event a module
recorded under its key, oldest first, each with the transaction that caused it and that transaction's RFC 9162
inclusion proof. Paginated by cursor.

Every history route answers through `history_answer`, so every page has one shape:

```
{"module", "key",
 "checkpoint": {chain_id, height, log_size, log_root, state_root, receipts_root, time_ns},
 "entries": [{"type", "height", "time_ns", "position", "seq", "attributes", "tx_id",
              "tx": {"bytes": base64, "decoded": {...}},
              "inclusion": {"log_index", "log_size", "checkpoint_height", "log_root", "proof": [hex, ...]}}],
 "next_cursor"}
```

`inclusion` has the form of a transaction answer's (GET /v1/txs/{id}). Every inclusion proof of a page is
against the log (size and root) of the page's one checkpoint: that of
`?height=` (a client passes the height of the checkpoint it verified), default the latest. Events after that
height are not part of that view. An event of a block's own task (a governance execution) has no transaction:
its `tx` and `inclusion` are null and `end_block` names the task.
"""

from __future__ import annotations

import base64
from typing import Annotated, Callable

from fastapi import FastAPI, Path as PathParam, Query

from civichain.api.answers import EventCursor, Height, event_cursor, inclusion_answer
from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules import ALL_MODULES
from civichain.store import BlockRecord
from civichain.types import Receipt

HistoryLimit = Annotated[int, Query(ge=1, le=500, description="Entries per page.")]


def add_history_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add GET /v1/history/{module}/{key}."""

    @api.get("/v1/history/{module}/{key:path}",
             summary="A subject's whole history in one module, oldest first, each entry with its transaction and "
                     "the transaction's inclusion proof against one checkpoint; paginated by cursor")
    def get_history(module: Annotated[str, PathParam(max_length=32)],
                    key: Annotated[str, PathParam(min_length=1, max_length=4096)],
                    cursor: EventCursor = None, limit: HistoryLimit = 100, height: Height = None) -> dict:
        if module not in ALL_MODULES:
            raise NotFound("api.unknown_module", where="module", got=module,
                           expected=f"one of {', '.join(sorted(ALL_MODULES))}")
        return history_answer(reader(), module, key, cursor, limit, height)


def history_answer(r: LedgerReader, module: str, key: str, cursor: str | None, limit: int,
                   height: int | None) -> dict:
    """Return one page of the events of `module` keyed `key` after `cursor`, each with its transaction and
    inclusion proof against the log of the checkpoint at `height` (default: the latest).

    Raises NotFound `ledger.no_such_block` for a height not committed. Follows RFC 9162 §2.1.3 for the proofs.
    """
    block = r.latest() if height is None else r.block(height)
    rows = r.store.history(module, key, limit + 1, event_cursor(cursor))
    within = [row for row in rows if row[3] <= block.height]    # later events are not in this checkpoint's view
    page = within[:limit]
    return {"module": module, "key": key, "checkpoint": to_plain(r.checkpoint(block)),
            "entries": _entries(r, page, block),
            "next_cursor": f"{page[-1][3]}.{page[-1][4]}.{page[-1][5]}" if len(within) > limit else None}


def _entries(r: LedgerReader, rows: list[tuple], checkpoint: BlockRecord) -> list[dict]:
    blocks: dict[int, tuple[BlockRecord, list[bytes], list[Receipt]]] = {}
    entries = []
    for _, kind, _, height, position, seq in rows:
        if height not in blocks:
            block = r.block(height)
            blocks[height] = (block, decode(block.txs, list[bytes], where=f"block {height} txs"),
                              decode(block.receipts, list[Receipt], where=f"block {height} receipts"))
        block, txs, receipts = blocks[height]
        receipt = receipts[position]
        entry = {"type": kind, "height": height, "time_ns": block.time_ns, "position": position, "seq": seq,
                 "attributes": {a.key: a.value for a in receipt.events[seq].attributes}}
        if position < block.tx_count and receipt.log_index is not None:
            raw = txs[position]
            entry.update(tx_id=receipt.tx_id.hex(),
                         tx={"bytes": base64.b64encode(raw).decode(), "decoded": r.describe_tx(raw)},
                         inclusion=inclusion_answer(r, receipt.log_index, checkpoint))
        else:
            entry.update(tx_id=None, tx=None, inclusion=None, end_block=receipt.where)
        entries.append(entry)
    return entries
