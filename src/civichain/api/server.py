"""The node's HTTP API: FastAPI over the node's store (read-only use) and its CometBFT RPC (to submit).

Every answer that comes from state or the log carries its proof and the checkpoint it verifies against.
Bad requests get a 4xx JSON error naming the code, where, what was received and what was expected.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Callable

import httpx
import uvicorn
from fastapi import FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from civichain import __version__
from civichain.api.answers import (ApiError, EventCursor, Height, MAX_HEIGHT, answer_height, event_cursor, hex32,
                                   inclusion_answer, state_answer)
from civichain.api.history import add_history_routes
from civichain.api.identity import add_identity_routes
from civichain.api.land import add_land_routes
from civichain.api.funds import add_funds_routes
from civichain.api.metrics import instrument
from civichain.api.modules import add_module_routes
from civichain.codec import decode, to_plain
from civichain.errors import CivicError
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.execution import nonce_key
from civichain.modules.governance import KINDS, PROPOSAL_PREFIX, PASSED, Proposal, proposal_key
from civichain.modules.membership import VALIDATORS_KEY, ValidatorSet
from civichain.modules.notary import Notarization, document_key
from civichain.modules.registry import AccountRecord, account_key
from civichain.node.config import NodeConfig
from civichain.store import Store, StoreError
from civichain.types import Receipt

MAX_WAIT_S = 60.0


# CometBFT's refusals that say "not now" rather than "not this transaction": the API answers 503 with a
# Retry-After, so a client retries the same bytes later instead of dropping a good transaction.
BUSY_REFUSALS = {
    "mempool is full": "api.mempool_full",                       # too many transactions waiting
    "considered as full": "api.mempool_full",                    # still re-checking after a block, and full
    "endpoint is closed while node is catching up": "api.node_syncing",
}
RETRY_AFTER_S = 2


class SubmitRequest(BaseModel):
    """A signed transaction in its canonical bytes, as hex or base64."""

    tx: str = Field(description="The canonical transaction bytes, hex-encoded (or base64 with encoding=base64).",
                    max_length=4 * 1_048_576)
    encoding: str = Field(default="hex", pattern="^(hex|base64)$")


def create_app(home: Path, config: NodeConfig) -> FastAPI:
    """Return the API application of the node in `home`."""
    # One HTTP client for the node's CometBFT RPC, shared by every request: making a client costs about 50 ms
    # of CPU (its TLS context), which per submission would cap a core at some 20 transactions a second.
    engine = httpx.AsyncClient(timeout=30)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        try:
            yield
        finally:
            await engine.aclose()

    api = FastAPI(title="civichain API", version=__version__, lifespan=lifespan,
                  description="Public records kept together by departments, each answer with its proof.")
    db_path = config.resolve(home, config.storage.path)
    local = threading.local()
    rpc_url = config.rpc_url
    max_body = config.api.max_body_bytes

    instrument(api)

    def reader() -> LedgerReader:
        if getattr(local, "reader", None) is None:
            local.reader = LedgerReader(Store(db_path, readonly=True))
        return local.reader

    add_identity_routes(api, reader)    # before /v1/accounts/{account:path}, which would take .../history

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
        response = _error(status, exc.code, exc.where, exc.got, exc.expected)
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

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
        try:
            reply = (await engine.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
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
            busy = next((code for text, code in BUSY_REFUSALS.items() if text in detail), None)
            if busy is not None:
                raise ApiError(503, busy, where="tx", got=detail[:300], retry_after=RETRY_AFTER_S,
                               expected=f"the same transaction again in {RETRY_AFTER_S} s or more: the node "
                               "cannot take it now (nothing was changed)")
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
    def get_tx(tx_id: str, height: Height = None) -> dict:
        return _tx_answer(reader(), hex32(tx_id, "tx_id"), height)

    @api.get("/v1/blocks/latest", summary="The last committed block")
    def latest_block() -> dict:
        return _block_answer(reader(), reader().latest().height)

    @api.get("/v1/blocks/{height}", summary="A committed block: its app hash, roots, transactions and receipts")
    def get_block(height: Annotated[int, Field(ge=1)]) -> dict:
        return _block_answer(reader(), height)

    @api.get("/v1/checkpoints/latest", summary="The latest checkpoint with the CometBFT signed header proving it")
    async def latest_checkpoint() -> dict:
        return await checkpoint_answer(None)

    @api.get("/v1/checkpoints/{height}",
             summary="The checkpoint of a height with the CometBFT signed header (of the next height) proving it")
    async def get_checkpoint(height: Annotated[int, PathParam(ge=1, le=MAX_HEIGHT)]) -> dict:
        return await checkpoint_answer(height)

    async def checkpoint_answer(wanted: int | None) -> dict:
        r = reader()
        status = await _rpc(engine, rpc_url, "status")
        engine_height = int(status["sync_info"]["latest_block_height"])
        # The header of height H+1 carries the app hash of block H.
        signed = min(r.latest().height, engine_height - 1)
        if signed < 1:
            raise ApiError(404, "ledger.empty", where="checkpoint", got=signed, expected="a committed block")
        if wanted is not None and wanted > signed:
            raise ApiError(404, "api.not_signed_yet", where="height", got=wanted,
                           expected=f"a height whose next header is committed: 1 to {signed}")
        height = signed if wanted is None else wanted
        commit = await _rpc(engine, rpc_url, "commit", height=str(height + 1))
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
    def get_state(key: Annotated[str, Query(min_length=1, max_length=1024)], height: Height = None) -> dict:
        r = reader()
        at, value, proof, root = r.state_value(key.encode(), height)
        return state_answer(key.encode(), at, value, proof, root)

    @api.get("/v1/notary/{digest}", summary="A notarized document by its SHA-256 digest, with proofs")
    def get_document(digest: str, height: Height = None) -> dict:
        r = reader()
        key = document_key(hex32(digest, "digest"))
        at, value, proof, root = r.state_value(key, height)
        if value is None:
            raise NotFound("notary.not_found", where="digest", got=digest, expected="an anchored document digest")
        record = decode(value, Notarization, where="notarization")
        return {"document": to_plain(record), "state": state_answer(key, at, value, proof, root),
                "anchoring_tx": _tx_answer(r, record.tx_id, at)}

    @api.get("/v1/events", summary="Events by module, type and key, oldest first, paginated by cursor")
    def get_events(module: Annotated[str, Query(max_length=32)], type: Annotated[str | None, Query(max_length=64)] = None,
                   key: Annotated[str | None, Query(max_length=4096)] = None,
                   cursor: EventCursor = None, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
        rows = reader().store.events(module, type, key, limit, event_cursor(cursor))
        items = [{"module": m, "type": t, "key": k, "height": h, "position": p, "seq": s} for m, t, k, h, p, s in rows]
        next_cursor = f"{rows[-1][3]}.{rows[-1][4]}.{rows[-1][5]}" if len(rows) == limit else None
        return {"events": items, "next_cursor": next_cursor}

    @api.get("/v1/accounts/{account:path}", summary="An account: organisation, roles, key and next nonce, with proof")
    def get_account(account: Annotated[str, PathParam(max_length=127)], height: Height = None) -> dict:
        r = reader()
        key = account_key(account)
        at, value, proof, root = r.state_value(key, height)
        if value is None:
            raise NotFound("registry.unknown_account", where="account", got=account, expected="a registered account")
        record = decode(value, AccountRecord, where="account")
        nonce_raw = r.store.get(nonce_key(account))     # the latest: what the account's next transaction needs
        return {"account": to_plain(record), "next_nonce": 0 if nonce_raw is None else decode(nonce_raw, int),
                "state": state_answer(key, at, value, proof, root)}

    @api.get("/v1/governance/proposals",
             summary="Governance proposals by id, oldest first, paginated by cursor; each with its state proof")
    def list_proposals(cursor: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
                       limit: Annotated[int, Query(ge=1, le=100)] = 20, height: Height = None) -> dict:
        r = reader()
        height = answer_height(r, height)    # every proposal is read and proved at this one height
        rows = r.store.scan(PROPOSAL_PREFIX, limit, proposal_key(cursor) if cursor else b"")
        proposals = []
        for key, _ in rows:
            at, value, proof, root = r.state_value(key, height)
            if value is not None:     # None: made after `height`; the next page will have it
                proposals.append(_proposal_answer(key, at, value, proof, root))
        next_cursor = int(rows[-1][0].removeprefix(PROPOSAL_PREFIX)) if len(rows) == limit else None
        return {"height": height, "proposals": proposals, "next_cursor": next_cursor}

    @api.get("/v1/governance/proposals/{proposal}", summary="A governance proposal, its ballots and status, with proof")
    def get_proposal(proposal: Annotated[int, PathParam(ge=1, le=2**63 - 1)], height: Height = None) -> dict:
        key = proposal_key(proposal)
        at, value, proof, root = reader().state_value(key, height)
        if value is None:
            raise NotFound("governance.unknown_proposal", where="proposal", got=proposal, expected="the id of a proposal")
        return _proposal_answer(key, at, value, proof, root)

    @api.get("/v1/governance/validators", summary="The validator set the chain records, with proof")
    def get_validators(height: Height = None) -> dict:
        at, value, proof, root = reader().state_value(VALIDATORS_KEY, height)
        validators = ValidatorSet() if value is None else decode(value, ValidatorSet, where="validator set")
        return {"validators": to_plain(validators.validators), "total_power": validators.total_power(),
                "state": state_answer(VALIDATORS_KEY, at, value, proof, root)}

    @api.get("/v1/status", summary="This node's view: last committed height and app hash")
    def get_status() -> dict:
        block = reader().latest()
        return {"chain_id": reader().chain_id, "height": block.height, "app_hash": block.app_hash.hex(),
                "log_size": block.log_size}

    genesis_path = config.resolve(home, config.cometbft.home) / "config" / "genesis.json"

    @api.get("/v1/network", summary="What a new observer node needs to follow this chain: genesis and peers")
    async def get_network() -> dict:
        """The CometBFT genesis document and the peers to dial (`id@host:port`): this node and those it is
        connected to. `civichain join --from <this API>` writes an observer node from it."""
        import json

        try:
            status = (await engine.get(f"{rpc_url}/status")).json()["result"]
            peers = (await engine.get(f"{rpc_url}/net_info")).json()["result"]["peers"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ApiError(503, "api.engine_unreachable", where=rpc_url, got=str(exc)[:200],
                           expected="the node's CometBFT to be running") from None
        own = f"{status['node_info']['id']}@{config.cometbft.p2p_host}:{config.cometbft.p2p_port}"
        others = [f"{p['node_info']['id']}@{p['node_info']['listen_addr'].removeprefix('tcp://')}" for p in peers]
        return {"chain_id": reader().chain_id, "genesis": json.loads(genesis_path.read_text(encoding="utf-8")),
                "peers": [own, *sorted(others)]}

    add_evidence_routes(api, reader)
    add_history_routes(api, reader)
    add_land_routes(api, reader)
    add_funds_routes(api, reader)
    add_module_routes(api)
    return api


def add_evidence_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add GET /v1/evidence: validators' misbehaviour that CometBFT proved and committed in blocks."""

    @api.get("/v1/evidence", summary="Committed evidence of validator misbehaviour (e.g. signing twice), oldest first")
    def get_evidence(cursor: Annotated[str | None, Query(pattern=r"^\d+\.\d+$")] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
        after = tuple(int(p) for p in cursor.split(".")) if cursor else None
        rows = reader().store.evidence(limit, after)
        items = [{"committed_height": height, "position": position, "kind": e.kind,
                  "validator": e.validator.hex().upper(), "power": e.power, "height": e.height, "time_ns": e.time_ns,
                  "total_power": e.total_power} for height, position, e in rows]
        next_cursor = f"{rows[-1][0]}.{rows[-1][1]}" if len(rows) == limit else None
        return {"evidence": items, "next_cursor": next_cursor}


def _tx_answer(r: LedgerReader, tx_id: bytes, height: int | None = None) -> dict:
    """A committed transaction with its receipt and its inclusion proof against the log of the checkpoint of
    `height` (default: the latest). Raises NotFound `ledger.no_such_tx` for one committed after `height`."""
    view = r.tx(tx_id)
    latest = r.latest() if height is None else r.block(height)
    if view.height > latest.height:
        raise NotFound("ledger.no_such_tx", where="tx id", got=f"{tx_id.hex()} at height {latest.height}",
                       expected=f"a transaction committed at or before height {latest.height}")
    answer: dict[str, Any] = {
        "tx_id": tx_id.hex(), "status": "committed" if view.receipt.ok else "failed", "height": view.height,
        "position": view.position, "tx": r.describe_tx(view.raw), "tx_bytes": view.raw.hex(),
        "receipt": to_plain(view.receipt),
    }
    if view.log_index is None:
        answer["status"] = "refused"
        return answer
    answer["inclusion"] = inclusion_answer(r, view.log_index, latest)
    return answer


def _block_answer(r: LedgerReader, height: int) -> dict:
    block = r.block(height)
    receipts = decode(block.receipts, list[Receipt], where="receipts")
    return {"height": block.height, "time_ns": block.time_ns, "block_hash": block.block_hash.hex(),
            "app_hash": block.app_hash.hex(), "checkpoint": to_plain(r.checkpoint(block)),
            "txs": [to_plain(rc) for rc in receipts[:block.tx_count]],
            "end_block": [to_plain(rc) for rc in receipts[block.tx_count:]]}


def _proposal_answer(key: bytes, at: int, value: bytes, proof, root: bytes) -> dict:
    proposal = decode(value, Proposal, where="proposal")
    plain = to_plain(proposal)
    plain["payload"] = to_plain(decode(proposal.payload, KINDS[proposal.kind].schema, where="proposal payload"))
    plain["approvals"], plain["rejections"] = proposal.approvals(), proposal.rejections()
    plain["executes_at"] = proposal.due() if proposal.status == PASSED else None
    return {"proposal": plain, "state": state_answer(key, at, value, proof, root)}


def _decode_bytes(text: str, encoding: str, where: str) -> bytes:
    try:
        return bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise ApiError(400, "api.bad_encoding", where=where, got=text[:40], expected=f"{encoding} bytes") from None


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
    # loop="asyncio" (uvicorn would take uvloop, installed for the app process): the loop's speed does not
    # bound the API, and the standard loop is the better-trodden path for many short connections.
    uvicorn.run(create_app(home, config), host=config.api.host, port=config.api.port, log_level="warning",
                access_log=False, loop="asyncio")
