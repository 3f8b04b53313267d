"""What the API's answers have in common: a refusal with its facts, a record with its state proof at one
retained height, and the parameters that name a height, a 32-byte id or a page of events.

A client that verified the checkpoint of height H (GET /v1/checkpoints/{H}) asks with `?height=H` and checks
each `state` against that checkpoint's state root (`civichain.client.proofs.check_state_at`).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import Query

from civichain.codec import decode, to_plain
from civichain.errors import CivicError
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.store import BlockRecord

MAX_HEIGHT = 2**63 - 1
Height = Annotated[int | None, Query(ge=1, le=MAX_HEIGHT, description="A retained height (default: the latest); "
                                     "a client passes the height of the checkpoint it verified.")]
# (height, position, seq) of the last event of the previous page; bounded so that SQLite's 64-bit integers hold it.
EventCursor = Annotated[str | None, Query(pattern=r"^\d{1,18}\.\d{1,9}\.\d{1,9}$",
                                          description="next_cursor of the previous page")]


class ApiError(CivicError):
    """A request the API refuses (with `retry_after` s, a refusal for now: the same request may pass later)."""

    def __init__(self, status: int, code: str, *, where: str, got: object, expected: str,
                 retry_after: int | None = None) -> None:
        super().__init__(code, where=where, got=got, expected=expected)
        self.status = status
        self.retry_after = retry_after


def state_answer(key: bytes, at: int, value: bytes | None, proof, root: bytes) -> dict:
    """Return the API's form of a state read: key, height, state root, proof, and the value (hex) or None."""
    return {"key": key.decode(), "height": at, "state_root": root.hex(), "proof": to_plain(proof),
            "value": None if value is None else value.hex()}


def inclusion_answer(r: LedgerReader, log_index: int, checkpoint: BlockRecord) -> dict:
    """Return the API's form of an inclusion proof (RFC 9162 §2.1.3) of log entry `log_index` in the log of the
    checkpoint after block `checkpoint`: index, log size and root, the checkpoint's height, and the proof."""
    return {"log_index": log_index, "log_size": checkpoint.log_size, "checkpoint_height": checkpoint.height,
            "log_root": checkpoint.log_root.hex(),
            "proof": [h.hex() for h in r.inclusion(log_index, checkpoint.log_size)]}


def answer_height(r: LedgerReader, height: int | None) -> int:
    """Return `height`, or the latest committed height. Raises `ledger.no_such_block`, `ledger.empty`."""
    return r.latest().height if height is None else r.block(height).height


def proved(r: LedgerReader, key: bytes, height: int, kind: type[msgspec.Struct]) -> tuple[msgspec.Struct, dict] | None:
    """Return the record under `key` at `height` and its answer {"record", "state"}, or None when absent."""
    at, value, proof, root = r.state_value(key, height)
    if value is None:
        return None
    record = decode(value, kind, where=key.decode())
    return record, {"record": to_plain(record), "state": state_answer(key, at, value, proof, root)}


def record_answer(r: LedgerReader, key: bytes, kind: type[msgspec.Struct], height: int | None, *, code: str,
                  where: str, got: object, expected: str) -> dict:
    """Return {"record", "state"} of the record under `key` at `height` (default: the latest).

    Raises NotFound `code` (with `where`, `got`, `expected`) when there is none at that height.
    """
    found = proved(r, key, answer_height(r, height), kind)
    if found is None:
        raise NotFound(code, where=where, got=got, expected=expected)
    return found[1]


def event_cursor(cursor: str | None) -> tuple[int, int, int] | None:
    """Return the (height, position, seq) of an EventCursor, or None."""
    if cursor is None:
        return None
    height, position, seq = (int(part) for part in cursor.split("."))
    return height, position, seq


def hex32(text: str, where: str) -> bytes:
    """Return the 32 bytes written as 64 hex digits in `text`. Raises ApiError 400 `api.bad_id`."""
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise ApiError(400, "api.bad_id", where=where, got=text[:80], expected="64 hexadecimal digits")
    return value
