"""The notary: anchor a document's digest with a title, its issuer and metadata; revoke it; look it up.

The document itself never goes on chain, only its SHA-256 digest. Anyone holding the document can hash it,
look the digest up and check the anchoring transaction's inclusion proof against a checkpoint. Who may anchor
and revoke is declared as data (`Policy`), refused with `notary.not_permitted`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.codec import decode
from civichain.modules.base import Action, Args, Context, Module, ModuleError, StateView
from civichain.modules.policy import Facts, Member, Party, Policy, either

NAME = "notary"
NOTARY_ROLES = ("notary", "admin")
# The codes this module's actions give, in their ABCI numbering order (300, 301, ...): append only.
ERROR_CODES = ("notary.not_permitted", "notary.already_anchored", "notary.not_found", "notary.already_revoked")
# Any organisation's notaries and admins anchor; only those of the organisation that anchored it revoke.
ANCHORING = Policy(performer=either(*(Party(role=r) for r in NOTARY_ROLES)), refusal="notary.not_permitted")
REVOKING = Policy(performer=either(*(Member(role=r) for r in NOTARY_ROLES)), refusal="notary.not_permitted")
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


def issuer_facts(state: StateView, args: Revoke) -> Facts:
    """The organisation that anchored the document. Raises `notary.not_found`."""
    return Facts(organisation=_notarization(state, args.digest).organisation)


def apply_anchor(ctx: Context, args: Anchor) -> None:
    """Anchor a document digest (notaries and admins: `ANCHORING`). A digest is anchored once.

    Raises notary.already_anchored.
    """
    key = document_key(args.digest)
    if ctx.state.get(key) is not None:
        raise ModuleError("notary.already_anchored", where="args.digest", got=args.digest.hex(),
                          expected="a digest not anchored before")
    record = Notarization(args.digest, args.title, dict(sorted(args.metadata.items())), ctx.sender.id,
                          ctx.sender.organisation, ctx.block.height, ctx.block.time_ns, ctx.tx_id)
    ctx.save(key, record)
    ctx.emit(NAME, "anchored", args.digest.hex(), title=args.title, issuer=ctx.sender.id)


def apply_revoke(ctx: Context, args: Revoke) -> None:
    """Revoke a notarization (notaries and admins of the issuing organisation: `REVOKING`).

    Raises notary.already_revoked.
    """
    record = _notarization(ctx.state, args.digest)
    if record.revoked_at is not None:
        raise ModuleError("notary.already_revoked", where="args.digest", got=args.digest.hex(),
                          expected="a notarization in force")
    ctx.save(document_key(args.digest),
             msgspec.structs.replace(record, revoked_at=ctx.block.height, revoked_reason=args.reason))
    ctx.emit(NAME, "revoked", args.digest.hex(), reason=args.reason)


def _notarization(state: StateView, digest: bytes) -> Notarization:
    raw = state.get(document_key(digest))
    if raw is None:
        raise ModuleError("notary.not_found", where="args.digest", got=digest.hex(), expected="an anchored digest")
    return decode(raw, Notarization, where=f"notarization {digest.hex()}")


MODULE = Module.of(NAME, [
    Action("anchor", Anchor, apply_anchor, "Anchor a document's digest with a title and metadata.", policy=ANCHORING),
    Action("revoke", Revoke, apply_revoke, "Revoke a notarized document.", policy=REVOKING, subjects=issuer_facts),
])
