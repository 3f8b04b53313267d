"""Build and sign transactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import msgspec

from civichain.codec import encode
from civichain.crypto import Suite
from civichain.types import Endorsement, Transaction, TxBody, endorsement_sign_bytes, tx_sign_bytes


@dataclass(frozen=True, slots=True)
class Signer:
    """An account and its private key."""

    account: str
    private_key: bytes
    suite: Suite

    @property
    def public_key(self) -> bytes:
        return self.suite.public_key(self.private_key)


def build_body(chain_id: str, sender: str, nonce: int, expires_at: int, module: str, action: str,
               args: msgspec.Struct) -> TxBody:
    """Return a transaction body; `args` is the action's argument struct."""
    return TxBody(chain_id, sender, nonce, expires_at, module, action, msgspec.Raw(encode(args)))


def sign(body: TxBody, signer: Signer, endorsers: Sequence[Signer] = ()) -> bytes:
    """Return the canonical bytes of `body` signed by `signer` and endorsed by `endorsers`."""
    endorsement_message = endorsement_sign_bytes(body)
    endorsements = tuple(sorted(
        (Endorsement(e.account, e.suite.sign(e.private_key, endorsement_message)) for e in endorsers),
        key=lambda e: e.account,
    ))
    signature = signer.suite.sign(signer.private_key, tx_sign_bytes(body))
    return encode(Transaction(body, endorsements, signature))
