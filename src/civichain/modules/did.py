"""The records of the identity module: `did:civic:` identifiers, DID documents and the keys bound to them.

**Identifiers.** A DID is `did:civic:` followed by 32 lowercase hex digits: the first 16 bytes of
`SHA-256("civichain/did/v1" ‖ 0x00 ‖ initial public key)`. Nobody chooses it: it follows from the Ed25519 key
its subject made, and creating it needs a signature by that key, so a DID is never registered over a key
its holder did not sign with, and anyone can check that a DID belongs to the key it started with. One key
gives one DID; a subject that wants two makes two keys.

**Documents.** A `DidDocument` lists the DID's current verification methods (Ed25519 keys, each with the
purposes it may serve), its services (typed endpoints, never personal data), the other DIDs that control
it, and a version counted up by every change. A change is signed by a `capability_invocation` key of the
DID itself or of one of its controllers, over the change and the version it applies to, so a signed
change applies once. Deactivation is final: the document keeps its id and loses its keys and services.

**Keys.** Every key ever bound to a DID is indexed by its public key (`KeyBinding`) and stays there when it
is rotated out or removed, marked retired: a key is bound at most once, so a rotated-out key can never come
back as a current one, for this DID or another.

State keys (all values canonical MessagePack):

```
identity/did/<identifier>        DidDocument (identifier: the 32 hex digits after did:civic:)
identity/key/<public key, hex>   KeyBinding: the DID and key id a key is (or was) bound to
```

Pure: no I/O. Verification methods are Ed25519 whatever the chain's own suite is, so signatures go through
the `ed25519-sha256` suite.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from civichain.codec import decode, encode
from civichain.crypto import ED25519_SHA256, sha256
from civichain.modules.base import StateView

NAME = "identity"
DID_PREFIX = "did:civic:"
DID_PATTERN = r"^did:civic:[0-9a-f]{32}$"
KEY_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
DID_URL_PATTERN = r"^did:civic:[0-9a-f]{32}#[a-z0-9][a-z0-9_-]{0,31}$"
IDENTIFIER_DOMAIN = b"civichain/did/v1\x00"
OPERATION_DOMAIN = b"civichain/did-operation/v1\x00"
KEY_SCHEME = ED25519_SHA256
FIRST_KEY_ID = "key-1"
MAX_KEYS, MAX_SERVICES, MAX_CONTROLLERS = 8, 8, 4
PROOF_FIELDS = ("key_proof", "proof")

AUTHENTICATION, ASSERTION, CAPABILITY = "authentication", "assertion_method", "capability_invocation"
PURPOSES = (ASSERTION, AUTHENTICATION, CAPABILITY)          # sorted: purposes are always listed in this order

Did = Annotated[str, msgspec.Meta(pattern=DID_PATTERN)]
DidUrl = Annotated[str, msgspec.Meta(pattern=DID_URL_PATTERN)]
KeyId = Annotated[str, msgspec.Meta(pattern=KEY_ID_PATTERN)]
PublicKey = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
Signature = Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]
Purpose = Literal["assertion_method", "authentication", "capability_invocation"]
ServiceType = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
Endpoint = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9+.-]{1,15}:[!-~]{1,500}$")]   # a URI, no spaces


class Service(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A service of a DID: where to reach something about its subject (an endpoint, never personal data).

    A map with its fields in sorted order, like action arguments, because it travels inside them.
    """

    endpoint: Endpoint
    id: KeyId
    type: ServiceType


class VerificationMethod(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A current key of a DID: its id within the document, its Ed25519 public key, what it may be used for."""

    id: str
    public_key: bytes
    purposes: tuple[str, ...]      # a sorted subset of PURPOSES
    since: int                     # height the key took this place (added, or rotated in)


class DidDocument(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A DID document as the chain keeps it. `version` counts the changes (1 when created)."""

    id: str
    controllers: tuple[str, ...]   # other DIDs whose capability_invocation keys may change it, sorted
    keys: tuple[VerificationMethod, ...]
    services: tuple[Service, ...]
    registered_by: str             # the organisation whose account created it
    created_at: int
    updated_at: int
    version: int
    deactivated_at: int | None = None

    @property
    def active(self) -> bool:
        """True until the DID is deactivated."""
        return self.deactivated_at is None

    def key(self, key_id: str) -> VerificationMethod | None:
        """Return the verification method `key_id`, or None."""
        return next((k for k in self.keys if k.id == key_id), None)

    def service(self, service_id: str) -> Service | None:
        """Return the service `service_id`, or None."""
        return next((s for s in self.services if s.id == service_id), None)


class KeyBinding(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The DID and key id a public key is bound to; `retired_at` once it was rotated out or removed."""

    did: str
    key_id: str
    bound_at: int
    retired_at: int | None = None


def did_of(public_key: bytes) -> str:
    """Return the DID that `public_key` creates: did:civic: and 16 bytes of its domain-separated SHA-256, in hex."""
    return DID_PREFIX + sha256(IDENTIFIER_DOMAIN + public_key)[:16].hex()


def document_key(did: str) -> bytes:
    """Return the state key of a DID's document (`did` must match DID_PATTERN)."""
    return b"identity/did/" + did.removeprefix(DID_PREFIX).encode()


def binding_key(public_key: bytes) -> bytes:
    """Return the state key of a public key's binding."""
    return b"identity/key/" + public_key.hex().encode()


def load_document(state: StateView, did: str) -> DidDocument | None:
    """Return the document of `did`, or None."""
    raw = state.get(document_key(did))
    return None if raw is None else decode(raw, DidDocument, where=f"document of {did}")


def load_binding(state: StateView, public_key: bytes) -> KeyBinding | None:
    """Return the binding of `public_key`, or None when it was never bound to a DID."""
    raw = state.get(binding_key(public_key))
    return None if raw is None else decode(raw, KeyBinding, where=f"binding of key {public_key.hex()}")


def save_document(state: StateView, document: DidDocument) -> None:
    """Store a DID document."""
    state.set(document_key(document.id), encode(document))


def save_binding(state: StateView, public_key: bytes, binding: KeyBinding) -> None:
    """Store a key binding."""
    state.set(binding_key(public_key), encode(binding))


def split_did_url(did_url: str) -> tuple[str, str]:
    """Return (DID, key id) of a DID URL `did:civic:<identifier>#<key id>`."""
    did, _, key_id = did_url.partition("#")
    return did, key_id


def operation_bytes(chain_id: str, action: str, args: msgspec.Struct) -> bytes:
    """Return the bytes a DID change is signed over: a domain tag, the chain, the action, and its arguments
    with the signatures themselves (`proof`, `key_proof`) left empty.

    The arguments of an update name the document version it applies to, so a signature is good for one
    change on one chain only.
    """
    unsigned = msgspec.structs.replace(args, **{f: b"" for f in PROOF_FIELDS if f in args.__struct_fields__})
    return OPERATION_DOMAIN + encode((chain_id, action)) + encode(unsigned)


def current_key(document: DidDocument, key_id: str, purpose: str) -> VerificationMethod | None:
    """Return the key `key_id` of an active document when it may serve `purpose`, else None."""
    if not document.active:
        return None
    method = document.key(key_id)
    return method if method is not None and purpose in method.purposes else None


def verify_with_document(document: DidDocument, key_id: str, purpose: str, message: bytes, signature: bytes) -> bool:
    """Return True when `signature` over `message` is by the current key `key_id` of `document`, for `purpose`.

    A deactivated document, a key rotated out or removed, or a key without that purpose never verifies.
    """
    method = current_key(document, key_id, purpose)
    return method is not None and KEY_SCHEME.verify(method.public_key, message, signature)


def sign_operation(chain_id: str, action: str, args: msgspec.Struct, private_key: bytes,
                   new_private_key: bytes | None = None) -> msgspec.Struct:
    """Return `args` with `proof` signed by `private_key` and, for a change that brings a key in, `key_proof`
    signed by that key's `new_private_key`. For `create_did`, `private_key` is the new DID's first key.

    For clients (the command line, the SDK, tests): the chain only ever verifies.
    """
    message = operation_bytes(chain_id, action, args)
    signed = {"proof": KEY_SCHEME.sign(private_key, message)}
    if new_private_key is not None:
        signed["key_proof"] = KEY_SCHEME.sign(new_private_key, message)
    return msgspec.structs.replace(args, **signed)
