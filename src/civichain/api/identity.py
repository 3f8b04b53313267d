"""The identity routes of the HTTP API: DID resolution at any retained height, the DID a public key belongs to,
DID and account histories (each entry with its transaction's inclusion proof), credential issuers, schemas and
revocation status lists. Every answer read from state carries its proof.

A verifier of a credential resolves the issuer's DID at the height it trusts, checks the issuer registration
and reads the status list at that same height; each `state` object verifies with
`civichain.client.proofs.check_state_at` against the state root of that height's checkpoint.
"""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import FastAPI, Path as PathParam, Query

from civichain.api.answers import EventCursor, Height, answer_height, hex32, record_answer, state_answer
from civichain.api.history import HistoryLimit, history_answer
from civichain.codec import decode, to_plain
from civichain.ledger.reads import LedgerReader, NotFound
from civichain.modules.credentials import (
    IssuerRecord,
    SchemaRecord,
    StatusList,
    is_revoked,
    issuer_key,
    schema_key,
    status_key,
)
from civichain.modules.did import DID_PATTERN, NAME, DidDocument, KeyBinding, binding_key, document_key
from civichain.modules.membership import account_key
from civichain.modules.registry import NAME as REGISTRY

ISSUER_PREFIX = b"identity/issuer/"
ISSUER_CURSOR = r"^[a-z0-9][a-z0-9-]{0,62}/[a-z][a-z0-9_]{0,63}$"      # organisation/credential type
DidParam = Annotated[str, PathParam(pattern=DID_PATTERN, description="A DID: did:civic: and 32 hex digits.")]
OrgParam = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
TypeParam = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
HexParam = Annotated[str, PathParam(max_length=64, description="64 hexadecimal digits")]
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
        at, value, proof, root = reader().state_value(key, height)  # the latest when `height` is None
        if value is None:
            raise NotFound("identity.unknown_did", where="did", got=f"{did} at height {at}",
                           expected="a DID created at or before that height")
        document = decode(value, DidDocument, where="DID document")
        return {"did": did, "height": at, "document": to_plain(document), "did_document": w3c_document(document),
                "did_document_metadata": {"created": document.created_at, "updated": document.updated_at,
                                          "version_id": str(document.version), "deactivated": not document.active,
                                          "registered_by": document.registered_by},
                "state": state_answer(key, at, value, proof, root)}

    @api.get("/v1/identity/dids/{did}/history",
             summary="A DID's changes, oldest first, each with its transaction and inclusion proof, by cursor")
    def did_history(did: DidParam, cursor: EventCursor = None, limit: HistoryLimit = 100,
                    height: Height = None) -> dict:
        r = reader()
        if r.store.get(document_key(did)) is None:
            raise NotFound("identity.unknown_did", where="did", got=did, expected="a DID created on the chain")
        return history_answer(r, NAME, did, cursor, limit, height)

    @api.get("/v1/identity/keys/{public_key}",
             summary="The DID a public key belongs to (or belonged to, until `retired_at`), with its state proof")
    def key_binding(public_key: HexParam, height: Height = None) -> dict:
        key = hex32(public_key, "public_key")
        return record_answer(reader(), binding_key(key), KeyBinding, height, code="identity.unknown_key",
                             where="public_key", got=public_key, expected="a public key bound to a DID")

    @api.get("/v1/identity/schemas/{digest}", summary="A credential schema by the SHA-256 of its text, with proof")
    def get_schema(digest: HexParam, height: Height = None) -> dict:
        return record_answer(reader(), schema_key(hex32(digest, "digest")), SchemaRecord, height,
                             code="identity.unknown_schema", where="digest", got=digest,
                             expected="the digest of a registered credential schema")

    @api.get("/v1/accounts/{organisation}/{name}/history",
             summary="An account's changes (added, suspended, reinstated, key rotated), oldest first, each with "
                     "its transaction and inclusion proof, by cursor")
    def account_history(organisation: OrgParam, name: Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")],
                        cursor: EventCursor = None, limit: HistoryLimit = 100, height: Height = None) -> dict:
        r = reader()
        account = f"{organisation}/{name}"
        if r.store.get(account_key(account)) is None:
            raise NotFound("registry.unknown_account", where="account", got=account,
                           expected="a registered account")
        return history_answer(r, REGISTRY, account, cursor, limit, height)

    @api.get("/v1/identity/issuers",
             summary="Credential issuers (organisation, credential type, DID), by key, each with its state proof")
    def list_issuers(cursor: Annotated[str | None, Query(pattern=ISSUER_CURSOR)] = None,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50, height: Height = None) -> dict:
        r = reader()
        at = answer_height(r, height)    # every registration is read and proved at this one height
        rows = r.store.scan(ISSUER_PREFIX, limit, ISSUER_PREFIX + cursor.encode() if cursor else b"")
        issuers = []
        for key, _ in rows:
            i_at, value, proof, root = r.state_value(key, at)
            if value is not None:        # None: registered after `at`; a page read at a later height has it
                issuers.append({"issuer": to_plain(decode(value, IssuerRecord, where="issuer")),
                                "state": state_answer(key, i_at, value, proof, root)})
        next_cursor = rows[-1][0].removeprefix(ISSUER_PREFIX).decode() if len(rows) == limit else None
        return {"height": at, "issuers": issuers, "next_cursor": next_cursor}

    @api.get("/v1/identity/issuers/{organisation}/{credential_type}",
             summary="One credential issuer registration (active or withdrawn), with its state proof")
    def get_issuer(organisation: OrgParam, credential_type: TypeParam, height: Height = None) -> dict:
        return record_answer(reader(), issuer_key(organisation, credential_type), IssuerRecord, height,
                             code="identity.unknown_issuer", where="issuer", got=f"{organisation}/{credential_type}",
                             expected="an organisation registered to issue that credential type")

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
                  "issuer_state": state_answer(ikey, at, issuer_value, issuer_proof, root),
                  "status_list": None if listed is None else to_plain(listed),
                  "state": state_answer(skey, at, value, proof, root),
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
