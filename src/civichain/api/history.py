"""The history of a subject (a parcel, a programme, an account, a DID, a document): every event a module
recorded under its key, oldest first, each with the transaction that caused it and that transaction's
inclusion proof against the latest checkpoint. Paginated by cursor."""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import FastAPI, Query

from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader
from civichain.types import Receipt


def add_history_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add GET /v1/history/{module}/{key}."""

    @api.get("/v1/history/{module}/{key:path}",
             summary="A subject's whole history in one module, oldest first, each entry with its transaction's "
                     "inclusion proof; paginated by cursor")
    def get_history(module: str, key: str,
                    cursor: Annotated[str | None, Query(pattern=r"^\d+\.\d+\.\d+$")] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
        r = reader()
        after = tuple(int(p) for p in cursor.split(".")) if cursor else None
        rows = r.store.history(module, key, limit, after)
        latest = r.latest()
        blocks: dict[int, tuple] = {}
        entries = []
        for _, kind, _, height, position, seq in rows:
            if height not in blocks:
                block = r.block(height)
                blocks[height] = (block, decode(block.receipts, list[Receipt], where=f"block {height} receipts"))
            block, receipts = blocks[height]
            receipt = receipts[position]
            entry = {"type": kind, "height": height, "time_ns": block.time_ns, "position": position, "seq": seq,
                     "event": to_plain(receipt.events[seq]) if seq < len(receipt.events) else None}
            if position < block.tx_count:
                entry["tx_id"] = receipt.tx_id.hex()
                if receipt.log_index is not None:
                    entry["inclusion"] = {
                        "log_index": receipt.log_index, "log_size": latest.log_size,
                        "checkpoint_height": latest.height, "log_root": latest.log_root.hex(),
                        "proof": [h.hex() for h in r.inclusion(receipt.log_index, latest.log_size)]}
            else:
                entry["end_block"] = receipt.where   # a task of the block itself (e.g. a governance execution)
            entries.append(entry)
        next_cursor = f"{rows[-1][3]}.{rows[-1][4]}.{rows[-1][5]}" if len(rows) == limit else None
        return {"module": module, "key": key, "entries": entries, "next_cursor": next_cursor}
