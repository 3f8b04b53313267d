"""The node's HTTP API: FastAPI over the node's store (read-only use) and its CometBFT RPC (to submit).

Every answer that comes from state or the log carries its proof and the checkpoint it verifies against.
Bad requests get a 4xx JSON error naming the code, where, what was received and what was expected.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from civichain import __version__
from civichain.codec import decode, to_plain
from civichain.errors import CivicError
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.execution import nonce_key
from civichain.modules.notary import Notarization, document_key
from civichain.modules.registry import AccountRecord, account_key
from civichain.node.config import NodeConfig
from civichain.store import Store, StoreError
from civichain.types import Receipt

MAX_WAIT_S = 60.0


class ApiError(CivicError):
    """A request the API refuses."""

    def __init__(self, status: int, code: str, *, where: str, got: object, expected: str) -> None:
        super().__init__(code, where=where, got=got, expected=expected)
        self.status = status


class SubmitRequest(BaseModel):
    """A signed transaction in its canonical bytes, as hex or base64."""

    tx: str = Field(description="The canonical transaction bytes, hex-encoded (or base64 with encoding=base64).",
                    max_length=4 * 1_048_576)
    encoding: str = Field(default="hex", pattern="^(hex|base64)$")


def create_app(home: Path, config: NodeConfig) -> FastAPI:
    """Return the API application of the node in `home`."""
    api = FastAPI(title="civichain API", version=__version__,
                  description="Public records kept together by departments, each answer with its proof.")
    db_path = config.resolve(home, config.storage.path)
    local = threading.local()
    rpc_url = config.rpc_url
    max_body = config.api.max_body_bytes

    def reader() -> LedgerReader:
        if getattr(local, "reader", None) is None:
            local.reader = LedgerReader(Store(db_path, readonly=True))
        return local.reader

    @api.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return _error(413, "api.body_too_large", "request body", f"{length} bytes", f"at most {max_body} bytes")
        return await call_next(request)

    @api.exception_handler(CivicError)
    async def civic_error(request: Request, exc: CivicError):
        status = getattr(exc, "status", 404 if isinstance(exc, NotFound) else 400)
        if isinstance(exc, StoreError):
            status = 503
        return _error(status, exc.code, exc.where, exc.got, exc.expected)

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return _error(422, "api.bad_request", where, first.get("input"), first["msg"])

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, "api.http_error", request.url.path, exc.detail, "a documented /v1 route")

    @api.post("/v1/txs", summary="Submit a signed transaction (optionally wait for its commit)")
    async def submit(body: SubmitRequest, wait: bool = False,
                     timeout: Annotated[float, Query(gt=0, le=MAX_WAIT_S)] = 20.0) -> JSONResponse:
        raw = _decode_bytes(body.tx, body.encoding, "tx")
        async with httpx.AsyncClient(timeout=30) as http:
            try:
                reply = (await http.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
                                                        "params": {"tx": base64.b64encode(raw).decode()}})).json()
            except (httpx.HTTPError, ValueError) as exc:
                raise ApiError(503, "api.engine_unreachable", where=rpc_url, got=str(exc)[:200],
                               expected="the node's CometBFT to be running") from None
        tx_id = reader().suite.hash(raw).hex()
        if "error" in reply:
            detail = str(reply["error"].get("data"))
            if "already exists in cache" in detail:
                # Submitted before: answer with what became of it, so a client that lost a reply can retry.
                try:
                    return JSONResponse(_tx_answer(reader(), bytes.fromhex(tx_id)))
                except NotFound:
                    return JSONResponse({"tx_id": tx_id, "status": "pending"}, status_code=202)
            raise ApiError(400, "api.engine_refused", where="tx", got=detail[:300],
                           expected="a transaction CometBFT accepts")
        result = reply["result"]
        if result["code"] != 0:
            code, _, detail = result["log"].partition(": ")
            return _error(422, code, "tx", detail, "a transaction that passes admission")
        if not wait:
            return JSONResponse({"tx_id": tx_id, "status": "pending"}, status_code=202)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return JSONResponse(_tx_answer(reader(), bytes.fromhex(tx_id)))
            except NotFound:
                await asyncio.sleep(0.05)
        return JSONResponse({"tx_id": tx_id, "status": "pending"}, status_code=202)

    @api.get("/v1/txs/{tx_id}", summary="A transaction with its status, receipt and inclusion proof")
    def get_tx(tx_id: str) -> dict:
        return _tx_answer(reader(), _hex32(tx_id, "tx_id"))

    @api.get("/v1/blocks/latest", summary="The last committed block")
    def latest_block() -> dict:
        return _block_answer(reader(), reader().latest().height)

    @api.get("/v1/blocks/{height}", summary="A committed block: its app hash, roots, transactions and receipts")
    def get_block(height: Annotated[int, Field(ge=1)]) -> dict:
        return _block_answer(reader(), height)

    @api.get("/v1/checkpoints/latest", summary="The latest checkpoint with the CometBFT signed header proving it")
    async def latest_checkpoint() -> dict:
        r = reader()
        async with httpx.AsyncClient(timeout=10) as http:
            status = await _rpc(http, rpc_url, "status")
            engine_height = int(status["sync_info"]["latest_block_height"])
            # The header of height H+1 carries the app hash of block H.
            height = min(r.latest().height, engine_height - 1)
            if height < 1:
                raise ApiError(404, "ledger.empty", where="checkpoint", got=height, expected="a committed block")
            commit = await _rpc(http, rpc_url, "commit", height=str(height + 1))
        block = r.block(height)
        checkpoint = r.checkpoint(block)
        return {"checkpoint": to_plain(checkpoint), "app_hash": block.app_hash.hex(),
                "signed_header": commit["signed_header"],
                "note": "app_hash of the checkpoint's height is in the header of the next height"}

    @api.get("/v1/log/consistency", summary="A consistency proof between two log sizes")
    def log_consistency(old: Annotated[int, Query(ge=0)], new: Annotated[int, Query(ge=0)]) -> dict:
        r = reader()
        size = r.latest().log_size
        if not old <= new <= size:
            raise ApiError(400, "log.size_out_of_range", where="old, new", got=f"{old}, {new}",
                           expected=f"0 <= old <= new <= {size}")
        return {"old_size": old, "new_size": new, "proof": [h.hex() for h in r.consistency(old, new)]}

    @api.get("/v1/state", summary="A state value (or its absence) with its proof, at a retained height")
    def get_state(key: Annotated[str, Query(min_length=1, max_length=1024)],
                  height: Annotated[int | None, Query(ge=0)] = None) -> dict:
        r = reader()
        at, value, proof, root = r.state_value(key.encode(), height)
        return {"key": key, "height": at, "value": None if value is None else value.hex(), "state_root": root.hex(),
                "proof": to_plain(proof)}

    @api.get("/v1/notary/{digest}", summary="A notarized document by its SHA-256 digest, with proofs")
    def get_document(digest: str) -> dict:
        r = reader()
        digest_bytes = _hex32(digest, "digest")
        at, value, proof, root = r.state_value(document_key(digest_bytes))
        if value is None:
            raise NotFound("notary.not_found", where="digest", got=digest, expected="an anchored document digest")
        record = decode(value, Notarization, where="notarization")
        return {"document": to_plain(record), "state": {"height": at, "state_root": root.hex(), "proof": to_plain(proof),
                                                         "value": value.hex()},
                "anchoring_tx": _tx_answer(r, record.tx_id)}

    @api.get("/v1/events", summary="Events by module, type and key, oldest first, paginated by cursor")
    def get_events(module: Annotated[str, Query(max_length=32)], type: Annotated[str | None, Query(max_length=64)] = None,
                   key: Annotated[str | None, Query(max_length=4096)] = None,
                   cursor: Annotated[str | None, Query(pattern=r"^\d+\.\d+\.\d+$")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
        after = tuple(int(p) for p in cursor.split(".")) if cursor else None
        rows = reader().store.events(module, type, key, limit, after)
        items = [{"module": m, "type": t, "key": k, "height": h, "position": p, "seq": s} for m, t, k, h, p, s in rows]
        next_cursor = f"{rows[-1][3]}.{rows[-1][4]}.{rows[-1][5]}" if len(rows) == limit else None
        return {"events": items, "next_cursor": next_cursor}

    @api.get("/v1/accounts/{account:path}", summary="An account: organisation, roles, key and next nonce, with proof")
    def get_account(account: str) -> dict:
        r = reader()
        at, value, proof, root = r.state_value(account_key(account))
        if value is None:
            raise NotFound("registry.unknown_account", where="account", got=account, expected="a registered account")
        record = decode(value, AccountRecord, where="account")
        nonce_raw = r.store.get(nonce_key(account))
        return {"account": to_plain(record), "next_nonce": 0 if nonce_raw is None else decode(nonce_raw, int),
                "state": {"height": at, "state_root": root.hex(), "proof": to_plain(proof), "value": value.hex()}}

    @api.get("/v1/status", summary="This node's view: last committed height and app hash")
    def get_status() -> dict:
        block = reader().latest()
        return {"chain_id": reader().chain_id, "height": block.height, "app_hash": block.app_hash.hex(),
                "log_size": block.log_size}

    return api


def _tx_answer(r: LedgerReader, tx_id: bytes) -> dict:
    view = r.tx(tx_id)
    latest = r.latest()
    answer: dict[str, Any] = {
        "tx_id": tx_id.hex(), "status": "committed" if view.receipt.ok else "failed", "height": view.height,
        "position": view.position, "tx": r.describe_tx(view.raw), "tx_bytes": view.raw.hex(),
        "receipt": to_plain(view.receipt),
    }
    if view.log_index is None:
        answer["status"] = "refused"
        return answer
    answer["inclusion"] = {
        "log_index": view.log_index, "log_size": latest.log_size, "checkpoint_height": latest.height,
        "log_root": latest.log_root.hex(),
        "proof": [h.hex() for h in r.inclusion(view.log_index, latest.log_size)],
    }
    return answer


def _block_answer(r: LedgerReader, height: int) -> dict:
    block = r.block(height)
    receipts = decode(block.receipts, list[Receipt], where="receipts")
    return {"height": block.height, "time_ns": block.time_ns, "block_hash": block.block_hash.hex(),
            "app_hash": block.app_hash.hex(), "checkpoint": to_plain(r.checkpoint(block)),
            "txs": [to_plain(rc) for rc in receipts]}


def _decode_bytes(text: str, encoding: str, where: str) -> bytes:
    try:
        return bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise ApiError(400, "api.bad_encoding", where=where, got=text[:40], expected=f"{encoding} bytes") from None


def _hex32(text: str, where: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise ApiError(400, "api.bad_id", where=where, got=text[:80], expected="64 hexadecimal digits")
    return value


def _error(status: int, code: str, where: str, got: object, expected: str) -> JSONResponse:
    got_text = got if isinstance(got, str) else repr(got)
    return JSONResponse({"error": {"code": code, "where": where, "got": got_text[:300], "expected": expected}},
                        status_code=status)


async def _rpc(http: httpx.AsyncClient, url: str, method: str, **params: str) -> dict:
    try:
        reply = (await http.get(f"{url}/{method}", params=params)).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ApiError(503, "api.engine_unreachable", where=url, got=str(exc)[:200],
                       expected="the node's CometBFT to be running") from None
    if "error" in reply:
        raise ApiError(503, "api.engine_error", where=method, got=str(reply["error"])[:200], expected="a result")
    return reply["result"]


def run_api(home: Path, config: NodeConfig) -> None:
    """Serve the API until SIGTERM."""
    uvicorn.run(create_app(home, config), host=config.api.host, port=config.api.port, log_level="warning",
                access_log=False)
