"""Transactions: a signed body, with optional endorsements by other accounts over the same body."""

from __future__ import annotations

from typing import Annotated, NewType

import msgspec

from civichain.codec import encode

ACCOUNT_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}(/[a-z0-9][a-z0-9._-]{0,62})?$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
MAX_HEIGHT = 2**63 - 1

AccountId = NewType("AccountId", str)
Account = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
Name = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
Signature = Annotated[bytes, msgspec.Meta(min_length=1, max_length=256)]

TX_DOMAIN = b"civichain/tx/v1\x00"
ENDORSEMENT_DOMAIN = b"civichain/endorsement/v1\x00"


class TxBody(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """What the sender signs: where, who, when, and what to do.

    `nonce` must equal the sender's next nonce when the transaction executes; `expires_at` is the last height
    at which it may execute. `args` holds the canonical encoding of the action's argument struct; the action's
    schema decodes it at admission.
    """

    chain_id: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    sender: Account
    nonce: Annotated[int, msgspec.Meta(ge=0, le=MAX_HEIGHT)]
    expires_at: Annotated[int, msgspec.Meta(ge=1, le=MAX_HEIGHT)]
    module: Name
    action: Name
    args: msgspec.Raw


class Endorsement(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Another account's signature over the same body, for rules that need several departments."""

    account: Account
    signature: Signature


class Transaction(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A signed transaction; its id is the suite hash of its canonical encoding."""

    body: TxBody
    endorsements: Annotated[tuple[Endorsement, ...], msgspec.Meta(max_length=16)]
    signature: Signature


def tx_sign_bytes(body: TxBody) -> bytes:
    """Return the bytes the sender signs: a domain tag, then the canonical body."""
    return TX_DOMAIN + encode(body)


def endorsement_sign_bytes(body: TxBody) -> bytes:
    """Return the bytes an endorser signs: another domain tag, so an endorsement never passes as a sender's signature."""
    return ENDORSEMENT_DOMAIN + encode(body)
