"""The notary: anchor a document's digest with a title, its issuer and metadata; revoke it; look it up.

The document itself never goes on chain, only its SHA-256 digest. Anyone holding the document can hash it,
look the digest up and check the anchoring transaction's inclusion proof against a checkpoint.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.modules.base import Action, Args, Context, Module, ModuleError

NAME = "notary"
NOTARY_ROLES = ("notary", "admin")
Digest = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
MetaKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
MetaValue = Annotated[str, msgspec.Meta(max_length=1024)]


class Anchor(Args, kw_only=True):
    """Arguments of `notary.anchor`."""

    digest: Digest
    metadata: Annotated[dict[MetaKey, MetaValue], msgspec.Meta(max_length=32)] = {}
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Revoke(Args, kw_only=True):
    """Arguments of `notary.revoke`."""

    digest: Digest
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class Notarization(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A notarized document as the chain keeps it."""

    digest: bytes
    title: str
    metadata: dict[str, str]
    issuer: str
    organisation: str
    height: int
    time_ns: int
    tx_id: bytes
    revoked_at: int | None = None
    revoked_reason: str = ""


def document_key(digest: bytes) -> bytes:
    """Return the state key of the notarization of `digest`."""
    return b"notary/doc/" + digest.hex().encode()


def apply_anchor(ctx: Context, args: Anchor) -> None:
    """Anchor a document digest. Only notaries and admins may; a digest is anchored once."""
    if not ctx.sender.has_role(*NOTARY_ROLES):
        raise ModuleError("notary.not_permitted", where="sender", got=ctx.sender.id,
                          expected=f"an account with a role among {list(NOTARY_ROLES)}")
    key = document_key(args.digest)
    if ctx.state.get(key) is not None:
        raise ModuleError("notary.already_anchored", where="args.digest", got=args.digest.hex(),
                          expected="a digest not anchored before")
    record = Notarization(args.digest, args.title, dict(sorted(args.metadata.items())), ctx.sender.id,
                          ctx.sender.organisation, ctx.block.height, ctx.block.time_ns, ctx.tx_id)
    ctx.save(key, record)
    ctx.emit(NAME, "anchored", args.digest.hex(), title=args.title, issuer=ctx.sender.id)


def apply_revoke(ctx: Context, args: Revoke) -> None:
    """Revoke a notarization. Only notaries and admins of the issuing organisation may."""
    key = document_key(args.digest)
    record = ctx.load(key, Notarization)
    if record is None:
        raise ModuleError("notary.not_found", where="args.digest", got=args.digest.hex(), expected="an anchored digest")
    if record.organisation != ctx.sender.organisation or not ctx.sender.has_role(*NOTARY_ROLES):
        raise ModuleError("notary.not_permitted", where="sender", got=ctx.sender.id,
                          expected=f"a notary or admin of organisation {record.organisation}")
    if record.revoked_at is not None:
        raise ModuleError("notary.already_revoked", where="args.digest", got=args.digest.hex(),
                          expected="a notarization in force")
    ctx.save(key, msgspec.structs.replace(record, revoked_at=ctx.block.height, revoked_reason=args.reason))
    ctx.emit(NAME, "revoked", args.digest.hex(), reason=args.reason)


MODULE = Module.of(NAME, [
    Action("anchor", Anchor, apply_anchor, "Anchor a document's digest with a title and metadata."),
    Action("revoke", Revoke, apply_revoke, "Revoke a notarized document."),
])
