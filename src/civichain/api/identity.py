"""The identity routes of the HTTP API: DID resolution at any retained height, DID and account histories,
credential issuers and revocation status lists. Every answer read from state carries its proof.

A verifier of a credential resolves the issuer's DID at the height it trusts, checks the issuer registration
and reads the status list at that same height; each `state` object verifies with
`civichain.client.proofs.check_state_answer` against the state root of a checkpoint.
"""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import FastAPI, Path as PathParam, Query

from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules.credentials import (
    IssuerRecord,
    StatusList,
    is_revoked,
    issuer_key,
    status_key,
)
from civichain.modules.did import DID_PATTERN, DidDocument, document_key
from civichain.types import Receipt

ISSUER_PREFIX = b"identity/issuer/"
ISSUER_CURSOR = r"^[a-z0-9][a-z0-9-]{0,62}/[a-z][a-z0-9_]{0,63}$"      # organisation/credential type
DidParam = Annotated[str, PathParam(pattern=DID_PATTERN, description="A DID: did:civic: and 32 hex digits.")]
OrgParam = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
TypeParam = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Cursor = Annotated[str | None, Query(pattern=r"^\d+\.\d+\.\d+$", description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500)]
Height = Annotated[int | None, Query(ge=1, description="A retained height (default: the latest)")]
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_MULTICODEC = b"\xed\x01"
W3C_PURPOSES = {"authentication": "authentication", "assertion_method": "assertionMethod",
                "capability_invocation": "capabilityInvocation"}


def add_identity_routes(api: FastAPI, reader: Callable[[], LedgerReader]) -> None:
    """Add the /v1/identity routes and GET /v1/accounts/{organisation}/{name}/history.

    Registered before GET /v1/accounts/{account:path}, which would otherwise take `.../history` for an id.
    """

    @api.get("/v1/identity/dids/{did}", summary="Resolve a DID at a retained height: its document, with proof")
    def resolve_did(did: DidParam, height: Height = None) -> dict:
        key = document_key(did)
        at, value, proof, root = reader().state_value(key, height)
        if value is None:
            raise NotFound("identity.unknown_did", where="did", got=f"{did} at height {at}",
                           expected="a DID created at or before that height")
        document = decode(value, DidDocument, where="DID document")
        return {"did": did, "height": at, "document": to_plain(document), "did_document": w3c_document(document),
                "did_document_metadata": {"created": document.created_at, "updated": document.updated_at,
                                          "version_id": str(document.version), "deactivated": not document.active,
                                          "registered_by": document.registered_by},
                "state": _state_answer(key, at, value, proof, root)}

    @api.get("/v1/identity/dids/{did}/history", summary="A DID's changes, oldest first, paginated by cursor")
    def did_history(did: DidParam, cursor: Cursor = None, limit: Limit = 100) -> dict:
        return _history(reader(), "identity", did, cursor, limit)

    @api.get("/v1/accounts/{organisation}/{name}/history",
             summary="An account's changes (added, suspended, reinstated, key rotated), oldest first, by cursor")
    def account_history(organisation: OrgParam, name: Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")],
                        cursor: Cursor = None, limit: Limit = 100) -> dict:
        return _history(reader(), "registry", f"{organisation}/{name}", cursor, limit)

    @api.get("/v1/identity/issuers",
             summary="Credential issuers (organisation, credential type, DID), by key, each with its state proof")
    def list_issuers(cursor: Annotated[str | None, Query(pattern=ISSUER_CURSOR)] = None,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict:
        r = reader()
        height = r.latest().height       # every registration is read and proved at this one height
        rows = r.store.scan(ISSUER_PREFIX, limit, ISSUER_PREFIX + cursor.encode() if cursor else b"")
        issuers = []
        for key, _ in rows:
            at, value, proof, root = r.state_value(key, height)
            if value is not None:        # None: registered after `height`; the next page has it
                issuers.append({"issuer": to_plain(decode(value, IssuerRecord, where="issuer")),
                                "state": _state_answer(key, at, value, proof, root)})
        next_cursor = rows[-1][0].removeprefix(ISSUER_PREFIX).decode() if len(rows) == limit else None
        return {"height": height, "issuers": issuers, "next_cursor": next_cursor}

    @api.get("/v1/identity/status-lists/{organisation}/{credential_type}",
             summary="An issuer's revocation status list and its registration at one height, both with proofs")
    def status_list(organisation: OrgParam, credential_type: TypeParam, height: Height = None,
                    index: Annotated[int | None, Query(ge=0, le=131_071, description="A credential's index")] = None
                    ) -> dict:
        r = reader()
        ikey = issuer_key(organisation, credential_type)
        at, issuer_value, issuer_proof, root = r.state_value(ikey, height)
        if issuer_value is None:
            raise NotFound("identity.unknown_issuer", where="issuer", got=f"{organisation}/{credential_type} at {at}",
                           expected="an organisation registered to issue that credential type")
        skey = status_key(organisation, credential_type)
        _, value, proof, _ = r.state_value(skey, at)
        listed = None if value is None else decode(value, StatusList, where="status list")
        answer = {"height": at, "issuer": to_plain(decode(issuer_value, IssuerRecord, where="issuer")),
                  "issuer_state": _state_answer(ikey, at, issuer_value, issuer_proof, root),
                  "status_list": None if listed is None else to_plain(listed),
                  "state": _state_answer(skey, at, value, proof, root),
                  "note": "an absent list (status_list null, its absence proved) means no credential is revoked"}
        if index is not None:
            answer["index"], answer["revoked"] = index, listed is not None and is_revoked(listed.bits, index)
        return answer


def w3c_document(document: DidDocument) -> dict:
    """Return a DID document in the W3C DID Core JSON form (keys as Ed25519VerificationKey2020, multibase)."""
    did = document.id
    plain: dict = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
                   "id": did, "controller": [did, *document.controllers]}
    plain["verificationMethod"] = [{"id": f"{did}#{k.id}", "type": "Ed25519VerificationKey2020", "controller": did,
                                    "publicKeyMultibase": "z" + base58btc(ED25519_MULTICODEC + k.public_key)}
                                   for k in document.keys]
    for purpose, name in W3C_PURPOSES.items():
        plain[name] = [f"{did}#{k.id}" for k in document.keys if purpose in k.purposes]
    plain["service"] = [{"id": f"{did}#{s.id}", "type": s.type, "serviceEndpoint": s.endpoint}
                        for s in document.services]
    return plain


def base58btc(data: bytes) -> str:
    """Return `data` in base58 with the Bitcoin alphabet (multibase 'z'); each leading zero byte is a '1'."""
    number, digits = int.from_bytes(data, "big"), []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58[digit])
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + "".join(reversed(digits))


def _history(r: LedgerReader, module: str, key: str, cursor: str | None, limit: int) -> dict:
    """Return the events of `module` keyed `key`, with their attributes, from the receipts that carry them."""
    after = tuple(int(p) for p in cursor.split(".")) if cursor else None
    rows = r.store.events(module, None, key, limit, after)
    receipts: dict[int, list[Receipt]] = {}
    items = []
    for _, kind, _, height, position, seq in rows:
        if height not in receipts:
            receipts[height] = decode(r.block(height).receipts, list[Receipt], where=f"receipts of block {height}")
        receipt = receipts[height][position]
        event = receipt.events[seq]
        items.append({"type": kind, "height": height, "position": position, "seq": seq,
                      "tx_id": receipt.tx_id.hex() or None,
                      "attributes": {a.key: a.value for a in event.attributes}})
    next_cursor = f"{rows[-1][3]}.{rows[-1][4]}.{rows[-1][5]}" if len(rows) == limit else None
    return {"key": key, "events": items, "next_cursor": next_cursor}


def _state_answer(key: bytes, at: int, value: bytes | None, proof, root: bytes) -> dict:
    # The same shape as every other state answer of the API (server.py), which check_state_answer verifies.
    return {"key": key.decode(), "height": at, "state_root": root.hex(), "proof": to_plain(proof),
            "value": None if value is None else value.hex()}
