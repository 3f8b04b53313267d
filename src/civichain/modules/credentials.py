"""Credential issuers, credential schemas and revocation status lists: the verifier's side of the identity module.

Credentials themselves never go on chain (they hold personal data and stay with their holder). What a
verifier needs to trust one is here:

* **Issuers.** Which organisation may issue which credential type, and the DID whose assertion keys sign its
  credentials. The civil affairs bureau (`civil-affairs`, 民政局), the registration authority for civil
  status, decides: only its admins may register or withdraw an issuer (a policy, checked before the action
  runs). The issuer must be an active organisation and its DID an active DID registered by its own accounts.
* **Schemas.** A credential schema is registered by the SHA-256 digest of its text, once, by an issuer of
  its credential type; the schema itself is published elsewhere, the digest pins it.
* **Status lists.** Each (issuer, credential type) has one list with a bit per credential index, set when
  the credential is revoked. Only the issuer's own `admin` and `issuer` accounts change its lists; after the
  issuer is withdrawn it may still revoke, never unrevoke. The list is stored as the W3C Bitstring Status
  List orders its bits (index 0 is the most significant bit of byte 0), trimmed of trailing zero bytes, so
  one set of revoked indices has one byte form; an absent list means nothing is revoked, and the API proves
  that absence too.

State keys:

```
identity/issuer/<organisation>/<credential type>   IssuerRecord
identity/schema/<digest, hex>                      SchemaRecord
identity/status/<organisation>/<credential type>   StatusList
```

Events are keyed `<organisation>/<credential type>` (issuers, status lists) or by the schema digest.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.codec import decode
from civichain.modules.base import Action, Args, Context, ModuleError, StateView
from civichain.modules.did import NAME, Did, load_document
from civichain.modules.membership import load_organisation
from civichain.modules.policy import Party, Policy, either
from civichain.types.genesis import OrgId

AUTHORITY = "civil-affairs"
ISSUER_ROLE = "issuer"
MAX_STATUS_INDEX = 131_071                  # 16 KiB of bits: the W3C Bitstring Status List's minimum size
MAX_BATCH = 256
ISSUER_AUTHORITY = Policy(performer=Party(org=AUTHORITY, role="admin"))
ISSUER_STAFF = Policy(performer=either(Party(role="admin"), Party(role=ISSUER_ROLE)))

CredentialType = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
StatusIndex = Annotated[int, msgspec.Meta(ge=0, le=MAX_STATUS_INDEX)]


class IssuerRecord(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """An organisation allowed to issue one credential type, and the DID that signs its credentials."""

    organisation: str
    credential_type: str
    did: str
    registered_at: int
    registered_by: str             # the authority's account that registered it
    withdrawn_at: int | None = None
    withdrawn_reason: str = ""

    @property
    def active(self) -> bool:
        """True while the registration is not withdrawn."""
        return self.withdrawn_at is None


class SchemaRecord(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A credential schema, pinned by the SHA-256 digest of its text."""

    digest: bytes
    credential_type: str
    organisation: str
    title: str
    registered_at: int
    registered_by: str


class StatusList(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The revocation bits of one issuer's credentials of one type: bit i set = credential i revoked."""

    organisation: str
    credential_type: str
    bits: bytes                    # most significant bit first; no trailing zero byte
    revoked: int                   # how many bits are set
    updated_at: int


class RegisterIssuer(Args, kw_only=True):
    """Arguments of `identity.register_issuer`."""

    credential_type: CredentialType
    did: Did
    organisation: OrgId


class WithdrawIssuer(Args, kw_only=True):
    """Arguments of `identity.withdraw_issuer`."""

    credential_type: CredentialType
    organisation: OrgId
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class RegisterSchema(Args, kw_only=True):
    """Arguments of `identity.register_schema`: a schema of a credential type the sender's organisation issues."""

    credential_type: CredentialType
    digest: Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ChangeStatus(Args, kw_only=True):
    """Arguments of `identity.revoke` and `identity.unrevoke`: indices of the sender's organisation's credentials."""

    credential_type: CredentialType
    indices: Annotated[tuple[StatusIndex, ...], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


def issuer_key(organisation: str, credential_type: str) -> bytes:
    """Return the state key of an issuer registration."""
    return f"identity/issuer/{organisation}/{credential_type}".encode()


def schema_key(digest: bytes) -> bytes:
    """Return the state key of a schema."""
    return b"identity/schema/" + digest.hex().encode()


def status_key(organisation: str, credential_type: str) -> bytes:
    """Return the state key of a status list."""
    return f"identity/status/{organisation}/{credential_type}".encode()


def load_issuer(state: StateView, organisation: str, credential_type: str) -> IssuerRecord | None:
    """Return an issuer registration (active or withdrawn), or None."""
    raw = state.get(issuer_key(organisation, credential_type))
    return None if raw is None else decode(raw, IssuerRecord, where=f"issuer {organisation}/{credential_type}")


def load_status_list(state: StateView, organisation: str, credential_type: str) -> StatusList | None:
    """Return a status list, or None when none of its credentials was ever revoked."""
    raw = state.get(status_key(organisation, credential_type))
    return None if raw is None else decode(raw, StatusList, where=f"status list {organisation}/{credential_type}")


def is_revoked(bits: bytes, index: int) -> bool:
    """Return True when bit `index` of a status list's bits is set (bits past the end are clear)."""
    byte = index // 8
    return byte < len(bits) and bool(bits[byte] >> (7 - index % 8) & 1)


# --- issuers ----------------------------------------------------------------------------------------------

def apply_register_issuer(ctx: Context, args: RegisterIssuer) -> None:
    """Allow an organisation to issue a credential type, signed by `args.did`. Only civil affairs admins may.

    Raises identity.unknown_organisation, identity.organisation_suspended, identity.issuer_exists,
    identity.unknown_did, identity.did_deactivated, identity.foreign_did.
    """
    organisation = load_organisation(ctx.state, args.organisation)
    if organisation is None:
        raise ModuleError("identity.unknown_organisation", where="args.organisation", got=args.organisation,
                          expected="a registered organisation")
    if not organisation.active:
        raise ModuleError("identity.organisation_suspended", where="args.organisation", got=args.organisation,
                          expected="an active organisation")
    existing = load_issuer(ctx.state, args.organisation, args.credential_type)
    if existing is not None and existing.active:
        raise ModuleError("identity.issuer_exists", where="args.credential_type",
                          got=f"{args.organisation}/{args.credential_type}", expected="an issuer not registered yet "
                          "(or withdrawn)")
    document = load_document(ctx.state, args.did)
    if document is None:
        raise ModuleError("identity.unknown_did", where="args.did", got=args.did,
                          expected="a DID created on this chain")
    if not document.active:
        raise ModuleError("identity.did_deactivated", where="args.did", got=args.did, expected="an active DID")
    if document.registered_by != args.organisation:
        raise ModuleError("identity.foreign_did", where="args.did", got=f"{args.did}, registered by "
                          f"{document.registered_by}", expected=f"a DID registered by {args.organisation}")
    record = IssuerRecord(args.organisation, args.credential_type, args.did, ctx.block.height, ctx.sender.id)
    ctx.save(issuer_key(args.organisation, args.credential_type), record)
    ctx.emit(NAME, "issuer_registered", f"{args.organisation}/{args.credential_type}", did=args.did,
             registered_by=ctx.sender.id)


def apply_withdraw_issuer(ctx: Context, args: WithdrawIssuer) -> None:
    """Withdraw an issuer registration (its status lists stay readable). Only civil affairs admins may.

    Raises identity.unknown_issuer, identity.issuer_withdrawn.
    """
    record = load_issuer(ctx.state, args.organisation, args.credential_type)
    name = f"{args.organisation}/{args.credential_type}"
    if record is None:
        raise ModuleError("identity.unknown_issuer", where="args.credential_type", got=name,
                          expected="a registered issuer")
    if not record.active:
        raise ModuleError("identity.issuer_withdrawn", where="args.credential_type", got=f"{name}, withdrawn at "
                          f"{record.withdrawn_at}", expected="an issuer still registered")
    ctx.save(issuer_key(args.organisation, args.credential_type),
             msgspec.structs.replace(record, withdrawn_at=ctx.block.height, withdrawn_reason=args.reason))
    ctx.emit(NAME, "issuer_withdrawn", name, reason=args.reason, withdrawn_by=ctx.sender.id)


# --- schemas ----------------------------------------------------------------------------------------------

def apply_register_schema(ctx: Context, args: RegisterSchema) -> None:
    """Register a credential schema by its digest, once. Raises identity.not_issuer, identity.issuer_withdrawn,
    identity.schema_exists."""
    _issuer_of_sender(ctx, args.credential_type, allow_withdrawn=False)
    key = schema_key(args.digest)
    if ctx.state.get(key) is not None:
        raise ModuleError("identity.schema_exists", where="args.digest", got=args.digest.hex(),
                          expected="a schema digest not registered before")
    ctx.save(key, SchemaRecord(args.digest, args.credential_type, ctx.sender.organisation, args.title,
                               ctx.block.height, ctx.sender.id))
    ctx.emit(NAME, "schema_registered", args.digest.hex(), credential_type=args.credential_type,
             organisation=ctx.sender.organisation, title=args.title)


# --- status lists -----------------------------------------------------------------------------------------

def apply_revoke(ctx: Context, args: ChangeStatus) -> None:
    """Set the bits of `args.indices` in the sender's organisation's status list of the type.

    Raises identity.not_issuer, identity.bad_indices, identity.already_revoked.
    """
    _change_status(ctx, args, revoke=True)


def apply_unrevoke(ctx: Context, args: ChangeStatus) -> None:
    """Clear the bits of `args.indices` (a revocation made in error). Not once the issuer is withdrawn.

    Raises identity.not_issuer, identity.issuer_withdrawn, identity.bad_indices, identity.not_revoked.
    """
    _change_status(ctx, args, revoke=False)


def _change_status(ctx: Context, args: ChangeStatus, *, revoke: bool) -> None:
    organisation = ctx.sender.organisation
    _issuer_of_sender(ctx, args.credential_type, allow_withdrawn=revoke)
    if any(b <= a for a, b in zip(args.indices, args.indices[1:])):
        raise ModuleError("identity.bad_indices", where="args.indices", got=list(args.indices)[:20],
                          expected="indices in increasing order, each once")
    current = load_status_list(ctx.state, organisation, args.credential_type)
    bits = bytearray(current.bits if current else b"")
    for index in args.indices:
        if is_revoked(bytes(bits), index) == revoke:
            if revoke:
                raise ModuleError("identity.already_revoked", where="args.indices", got=f"credential {index}, revoked",
                                  expected="credentials in force")
            raise ModuleError("identity.not_revoked", where="args.indices", got=f"credential {index}, in force",
                              expected="revoked credentials")
        byte = index // 8
        if byte >= len(bits):
            bits.extend(bytes(byte + 1 - len(bits)))
        bits[byte] ^= 1 << (7 - index % 8)
    trimmed = bytes(bits).rstrip(b"\x00")
    revoked = sum(bin(b).count("1") for b in trimmed)
    name = f"{organisation}/{args.credential_type}"
    ctx.save(status_key(organisation, args.credential_type),
             StatusList(organisation, args.credential_type, trimmed, revoked, ctx.block.height))
    ctx.emit(NAME, "revoked" if revoke else "unrevoked", name, indices=",".join(map(str, args.indices)),
             revoked=revoked, by=ctx.sender.id)


def _issuer_of_sender(ctx: Context, credential_type: str, *, allow_withdrawn: bool) -> IssuerRecord:
    organisation = ctx.sender.organisation
    record = load_issuer(ctx.state, organisation, credential_type)
    if record is None:
        raise ModuleError("identity.not_issuer", where="sender", got=f"{ctx.sender.id} of {organisation}",
                          expected=f"an account of an organisation registered to issue {credential_type}")
    if not record.active and not allow_withdrawn:
        raise ModuleError("identity.issuer_withdrawn", where="sender", got=f"{organisation}/{credential_type}, "
                          f"withdrawn at {record.withdrawn_at}", expected="an issuer still registered (a withdrawn "
                          "issuer may only revoke)")
    return record


ACTIONS = (
    Action("register_issuer", RegisterIssuer, apply_register_issuer,
           "Allow an organisation to issue a credential type (civil affairs admins).", policy=ISSUER_AUTHORITY),
    Action("withdraw_issuer", WithdrawIssuer, apply_withdraw_issuer,
           "Withdraw an issuer registration (civil affairs admins).", policy=ISSUER_AUTHORITY),
    Action("register_schema", RegisterSchema, apply_register_schema,
           "Register a credential schema by its SHA-256 digest.", policy=ISSUER_STAFF),
    Action("revoke", ChangeStatus, apply_revoke, "Revoke credentials: set their bits in the issuer's status list.",
           policy=ISSUER_STAFF),
    Action("unrevoke", ChangeStatus, apply_unrevoke, "Clear revocation bits set in error.", policy=ISSUER_STAFF),
)

