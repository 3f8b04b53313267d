"""Identity: decentralised identifiers (`did:civic:...`) with their documents, credential issuers, schemas and
revocation status lists. Only keys, identifiers, digests and bits go on chain: never personal data.

The module's records are in `did.py` (identifiers, documents, key bindings) and its issuer registry, schemas
and status lists in `credentials.py`; this file holds the DID actions and puts the module together.

Who may do what:

* `create_did`: an `admin` or `identity_officer` of any organisation submits it (a policy, checked before the
  action runs) with a signature by the new DID's first key, which the DID is derived from (see did.py).
* `add_key`, `rotate_key`, `remove_key`, `add_service`, `remove_service`, `deactivate_did`: any active
  account may submit them (a department relays them for a citizen), but each carries a signature by a
  `capability_invocation` key of the DID or of one of its controllers over the change and the document
  version it applies to; that signature is the authority, not the sending account. A key added or rotated in
  also signs the change (`key_proof`): nobody binds a key they do not hold.
* issuers, schemas and status lists: see credentials.py.

Each change counts the document's version up by one and emits an event keyed by the DID, so the DID's
history is the list of its events; the document at any retained height is read from the versioned state
with its proof (`GET /v1/identity/dids/{did}?height=`). See docs/modules/identity.md.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.modules import credentials
from civichain.modules.base import Action, Args, Context, Module, ModuleError
from civichain.modules.did import (
    CAPABILITY,
    FIRST_KEY_ID,
    KEY_SCHEME,
    MAX_CONTROLLERS,
    MAX_KEYS,
    MAX_SERVICES,
    NAME,
    PURPOSES,
    Did,
    DidDocument,
    DidUrl,
    KeyBinding,
    KeyId,
    PublicKey,
    Purpose,
    Service,
    Signature,
    VerificationMethod,
    did_of,
    load_binding,
    load_document,
    operation_bytes,
    save_binding,
    save_document,
    split_did_url,
)
from civichain.modules.policy import Party, Policy, either

IDENTITY_OFFICER = "identity_officer"
# The codes this module's actions give (credentials.py's and did.py's included), in their ABCI numbering order
# (700, 701, ...): append only.
ERROR_CODES = (
    "identity.did_exists", "identity.key_in_use", "identity.bad_controllers", "identity.unknown_did",
    "identity.did_deactivated", "identity.service_exists", "identity.bad_proof", "identity.key_exists",
    "identity.too_many_keys", "identity.bad_purposes", "identity.unknown_key", "identity.last_key",
    "identity.too_many_services", "identity.unknown_service", "identity.stale_version", "identity.not_controller",
    "identity.not_capability_key", "identity.bad_key_proof", "identity.unknown_organisation",
    "identity.organisation_suspended", "identity.issuer_exists", "identity.foreign_did", "identity.unknown_issuer",
    "identity.issuer_withdrawn", "identity.not_issuer", "identity.schema_exists", "identity.bad_indices",
    "identity.already_revoked", "identity.not_revoked",
)
REGISTRAR = Policy(performer=either(Party(role="admin"), Party(role=IDENTITY_OFFICER)))


# --- arguments --------------------------------------------------------------------------------------------

class CreateDid(Args, kw_only=True):
    """Arguments of `identity.create_did`: the first key (which names the DID) and its signature of the request."""

    controllers: Annotated[tuple[Did, ...], msgspec.Meta(max_length=MAX_CONTROLLERS)] = ()
    proof: Signature
    public_key: PublicKey
    services: Annotated[tuple[Service, ...], msgspec.Meta(max_length=MAX_SERVICES)] = ()


class AddKey(Args, kw_only=True):
    """Arguments of `identity.add_key`."""

    did: Did
    key_id: KeyId
    key_proof: Signature
    proof: Signature
    public_key: PublicKey
    purposes: Annotated[tuple[Purpose, ...], msgspec.Meta(min_length=1, max_length=3)]
    signer: DidUrl
    version: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class RotateKey(Args, kw_only=True):
    """Arguments of `identity.rotate_key`: the key `key_id` gets a new public key, with the same purposes."""

    did: Did
    key_id: KeyId
    key_proof: Signature
    proof: Signature
    public_key: PublicKey
    signer: DidUrl
    version: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class RemoveKey(Args, kw_only=True):
    """Arguments of `identity.remove_key`."""

    did: Did
    key_id: KeyId
    proof: Signature
    signer: DidUrl
    version: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class AddService(Args, kw_only=True):
    """Arguments of `identity.add_service`."""

    did: Did
    proof: Signature
    service: Service
    signer: DidUrl
    version: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class RemoveService(Args, kw_only=True):
    """Arguments of `identity.remove_service`."""

    did: Did
    proof: Signature
    service_id: KeyId
    signer: DidUrl
    version: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class DeactivateDid(Args, kw_only=True):
    """Arguments of `identity.deactivate_did` (final)."""

    did: Did
    proof: Signature
    signer: DidUrl
    version: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


# --- creating a DID ---------------------------------------------------------------------------------------

def apply_create_did(ctx: Context, args: CreateDid) -> None:
    """Create the DID of `args.public_key`, its first key `key-1` serving every purpose.

    Raises identity.did_exists, identity.key_in_use, identity.bad_controllers, identity.unknown_did,
    identity.did_deactivated (a controller), identity.service_exists (a service id twice), identity.bad_proof.
    """
    did = did_of(args.public_key)
    if load_document(ctx.state, did) is not None:
        raise ModuleError("identity.did_exists", where="args.public_key", got=did,
                          expected="a key that has not created a DID yet (one DID per first key)")
    _check_key_unbound(ctx, args.public_key, "args.public_key")
    _check_controllers(ctx, did, args.controllers)
    _check_services(args.services)
    if not KEY_SCHEME.verify(args.public_key, operation_bytes(ctx.block.chain_id, "create_did", args), args.proof):
        raise ModuleError("identity.bad_proof", where="args.proof", got=args.proof.hex()[:32] + "…",
                          expected="a signature by args.public_key over the request (identity.operation_bytes)")
    height = ctx.block.height
    first = VerificationMethod(FIRST_KEY_ID, args.public_key, PURPOSES, height)
    document = DidDocument(did, args.controllers, (first,), args.services, ctx.sender.organisation, height, height, 1)
    save_document(ctx.state, document)
    save_binding(ctx.state, args.public_key, KeyBinding(did, FIRST_KEY_ID, height))
    ctx.emit(NAME, "did_created", did, version=1, key_id=FIRST_KEY_ID, public_key=args.public_key,
             registered_by=ctx.sender.organisation, controllers=",".join(args.controllers))


def _check_controllers(ctx: Context, did: str, controllers: tuple[str, ...]) -> None:
    if list(controllers) != sorted(set(controllers)) or did in controllers:
        raise ModuleError("identity.bad_controllers", where="args.controllers", got=list(controllers),
                          expected="other DIDs, sorted, each once (the DID always controls itself)")
    for i, controller in enumerate(controllers):
        _active_document(ctx, controller, f"args.controllers[{i}]")


def _check_services(services: tuple[Service, ...]) -> None:
    seen: set[str] = set()
    for i, service in enumerate(services):
        if service.id in seen:
            raise ModuleError("identity.service_exists", where=f"args.services[{i}].id", got=service.id,
                              expected="a service id not yet in the document")
        seen.add(service.id)


# --- changing a DID ---------------------------------------------------------------------------------------

def apply_add_key(ctx: Context, args: AddKey) -> None:
    """Add a verification method. Raises identity.key_exists, identity.too_many_keys, identity.bad_purposes,
    identity.key_in_use, identity.bad_key_proof, and the codes of every change (`_open`)."""
    document = _open(ctx, "add_key", args)
    if document.key(args.key_id) is not None:
        raise ModuleError("identity.key_exists", where="args.key_id", got=args.key_id,
                          expected="a key id not yet in the document")
    if len(document.keys) >= MAX_KEYS:
        raise ModuleError("identity.too_many_keys", where="args.did", got=f"{len(document.keys)} keys",
                          expected=f"fewer than {MAX_KEYS} keys before adding one")
    if list(args.purposes) != sorted(set(args.purposes)):
        raise ModuleError("identity.bad_purposes", where="args.purposes", got=list(args.purposes),
                          expected=f"purposes sorted, each once, from {list(PURPOSES)}")
    _check_new_key(ctx, "add_key", args)
    height = ctx.block.height
    method = VerificationMethod(args.key_id, args.public_key, tuple(args.purposes), height)
    changed = _commit(ctx, document, keys=(*document.keys, method))
    save_binding(ctx.state, args.public_key, KeyBinding(document.id, args.key_id, height))
    ctx.emit(NAME, "key_added", document.id, version=changed.version, key_id=args.key_id, public_key=args.public_key,
             purposes=",".join(args.purposes), signer=args.signer)


def apply_rotate_key(ctx: Context, args: RotateKey) -> None:
    """Give the key `key_id` a new public key; the old one is retired for good.

    Raises identity.unknown_key, identity.key_in_use, identity.bad_key_proof and the codes of `_open`.
    """
    document = _open(ctx, "rotate_key", args)
    old = _existing_key(document, args.key_id)
    _check_new_key(ctx, "rotate_key", args)
    height = ctx.block.height
    new = VerificationMethod(old.id, args.public_key, old.purposes, height)
    changed = _commit(ctx, document, keys=tuple(new if k.id == old.id else k for k in document.keys))
    _retire(ctx, old.public_key)
    save_binding(ctx.state, args.public_key, KeyBinding(document.id, args.key_id, height))
    ctx.emit(NAME, "key_rotated", document.id, version=changed.version, key_id=args.key_id,
             previous_key=old.public_key, public_key=args.public_key, signer=args.signer)


def apply_remove_key(ctx: Context, args: RemoveKey) -> None:
    """Remove a verification method; its key is retired for good. The DID keeps a capability_invocation key.

    Raises identity.unknown_key, identity.last_key and the codes of `_open`.
    """
    document = _open(ctx, "remove_key", args)
    removed = _existing_key(document, args.key_id)
    remaining = tuple(k for k in document.keys if k.id != args.key_id)
    if not any(CAPABILITY in k.purposes for k in remaining):
        raise ModuleError("identity.last_key", where="args.key_id", got=args.key_id,
                          expected="another key with the capability_invocation purpose to remain")
    changed = _commit(ctx, document, keys=remaining)
    _retire(ctx, removed.public_key)
    ctx.emit(NAME, "key_removed", document.id, version=changed.version, key_id=args.key_id,
             public_key=removed.public_key, signer=args.signer)


def apply_add_service(ctx: Context, args: AddService) -> None:
    """Add a service. Raises identity.service_exists, identity.too_many_services and the codes of `_open`."""
    document = _open(ctx, "add_service", args)
    if document.service(args.service.id) is not None:
        raise ModuleError("identity.service_exists", where="args.service.id", got=args.service.id,
                          expected="a service id not yet in the document")
    if len(document.services) >= MAX_SERVICES:
        raise ModuleError("identity.too_many_services", where="args.did", got=f"{len(document.services)} services",
                          expected=f"fewer than {MAX_SERVICES} services before adding one")
    changed = _commit(ctx, document, services=(*document.services, args.service))
    ctx.emit(NAME, "service_added", document.id, version=changed.version, service_id=args.service.id,
             type=args.service.type, endpoint=args.service.endpoint, signer=args.signer)


def apply_remove_service(ctx: Context, args: RemoveService) -> None:
    """Remove a service. Raises identity.unknown_service and the codes of `_open`."""
    document = _open(ctx, "remove_service", args)
    if document.service(args.service_id) is None:
        raise ModuleError("identity.unknown_service", where="args.service_id", got=args.service_id,
                          expected=f"one of {[s.id for s in document.services]}")
    changed = _commit(ctx, document, services=tuple(s for s in document.services if s.id != args.service_id))
    ctx.emit(NAME, "service_removed", document.id, version=changed.version, service_id=args.service_id,
             signer=args.signer)


def apply_deactivate_did(ctx: Context, args: DeactivateDid) -> None:
    """Deactivate a DID for good: its keys are retired and its services dropped. Raises the codes of `_open`."""
    document = _open(ctx, "deactivate_did", args)
    for method in document.keys:
        _retire(ctx, method.public_key)
    changed = _commit(ctx, document, keys=(), services=(), deactivated_at=ctx.block.height)
    ctx.emit(NAME, "did_deactivated", document.id, version=changed.version, signer=args.signer)


def _open(ctx: Context, action: str, args) -> DidDocument:
    """Return the document a change applies to, once it is known, active, at the version the change names,
    and the change is signed by a capability_invocation key of the DID or of one of its controllers.

    Raises identity.unknown_did, identity.did_deactivated, identity.stale_version and the codes of
    `_check_signature`.
    """
    document = _active_document(ctx, args.did, "args.did")
    if args.version != document.version:
        raise ModuleError("identity.stale_version", where="args.version", got=args.version,
                          expected=f"{document.version}, the document's current version")
    _check_signature(ctx, document, action, args)
    return document


def _check_signature(ctx: Context, document: DidDocument, action: str, args) -> None:
    """Raise identity.not_controller, identity.did_deactivated (a controller), identity.unknown_key,
    identity.not_capability_key or identity.bad_proof unless `args.proof` is a signature by `args.signer`, a
    capability_invocation key of `document` or of one of its controllers, over the change."""
    signer_did, key_id = split_did_url(args.signer)
    if signer_did == document.id:
        signer = document
    elif signer_did in document.controllers:
        signer = _active_document(ctx, signer_did, "args.signer")
    else:
        raise ModuleError("identity.not_controller", where="args.signer", got=args.signer,
                          expected=f"a key of {document.id} or of its controllers {list(document.controllers)}")
    method = signer.key(key_id)
    if method is None:
        raise ModuleError("identity.unknown_key", where="args.signer", got=args.signer,
                          expected=f"a current key of {signer.id}: {[k.id for k in signer.keys]}")
    if CAPABILITY not in method.purposes:
        raise ModuleError("identity.not_capability_key", where="args.signer",
                          got=f"{args.signer} ({list(method.purposes)})",
                          expected="a key with the capability_invocation purpose")
    if not KEY_SCHEME.verify(method.public_key, operation_bytes(ctx.block.chain_id, action, args), args.proof):
        raise ModuleError("identity.bad_proof", where="args.proof", got=args.proof.hex()[:32] + "…",
                          expected=f"a signature by {args.signer} over the change (identity.operation_bytes)")


def _active_document(ctx: Context, did: str, where: str) -> DidDocument:
    document = load_document(ctx.state, did)
    if document is None:
        raise ModuleError("identity.unknown_did", where=where, got=did, expected="a DID created on this chain")
    if not document.active:
        raise ModuleError("identity.did_deactivated", where=where,
                          got=f"{did}, deactivated at {document.deactivated_at}", expected="an active DID (deactivation is final)")
    return document


def _existing_key(document: DidDocument, key_id: str) -> VerificationMethod:
    method = document.key(key_id)
    if method is None:
        raise ModuleError("identity.unknown_key", where="args.key_id", got=key_id,
                          expected=f"a current key of {document.id}: {[k.id for k in document.keys]}")
    return method


def _check_new_key(ctx: Context, action: str, args) -> None:
    _check_key_unbound(ctx, args.public_key, "args.public_key")
    if not KEY_SCHEME.verify(args.public_key, operation_bytes(ctx.block.chain_id, action, args), args.key_proof):
        raise ModuleError("identity.bad_key_proof", where="args.key_proof", got=args.key_proof.hex()[:32] + "…",
                          expected="a signature by the new key (args.public_key) over the change")


def _check_key_unbound(ctx: Context, public_key: bytes, where: str) -> None:
    binding = load_binding(ctx.state, public_key)
    if binding is not None:
        state = "retired" if binding.retired_at is not None else "current"
        raise ModuleError("identity.key_in_use", where=where, got=f"{public_key.hex()} ({state} key "
                          f"{binding.key_id} of {binding.did})", expected="a key never bound to a DID before")


def _retire(ctx: Context, public_key: bytes) -> None:
    binding = load_binding(ctx.state, public_key)
    assert binding is not None, "every key of a document is bound"
    save_binding(ctx.state, public_key, msgspec.structs.replace(binding, retired_at=ctx.block.height))


def _commit(ctx: Context, document: DidDocument, **changes) -> DidDocument:
    changed = msgspec.structs.replace(document, **changes, version=document.version + 1,
                                      updated_at=ctx.block.height)
    save_document(ctx.state, changed)
    return changed


MODULE = Module.of(NAME, [
    Action("create_did", CreateDid, apply_create_did, "Create the DID of a new key, signed by that key.",
           policy=REGISTRAR),
    Action("add_key", AddKey, apply_add_key, "Add a verification method to a DID (signed by a controller key)."),
    Action("rotate_key", RotateKey, apply_rotate_key, "Replace a DID key with a new one; the old one is retired."),
    Action("remove_key", RemoveKey, apply_remove_key, "Remove a verification method from a DID."),
    Action("add_service", AddService, apply_add_service, "Add a service endpoint to a DID."),
    Action("remove_service", RemoveService, apply_remove_service, "Remove a service endpoint from a DID."),
    Action("deactivate_did", DeactivateDid, apply_deactivate_did, "Deactivate a DID for good."),
    *credentials.ACTIONS,
])
