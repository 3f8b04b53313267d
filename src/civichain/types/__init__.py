"""Wire types: transactions, endorsements, receipts, events, checkpoints and the genesis document.

Everything here is a frozen `msgspec.Struct`; field order is encoding order, and only `civichain.codec`
turns these values into bytes.
"""

from civichain.types.tx import (
    ACCOUNT_PATTERN,
    AccountId,
    Endorsement,
    Transaction,
    TxBody,
    endorsement_sign_bytes,
    tx_sign_bytes,
)
from civichain.types.receipt import Event, Receipt, Attribute
from civichain.types.checkpoint import Checkpoint, app_hash_of
from civichain.types.genesis import AccountGenesis, AppGenesis, OrganisationGenesis, Params

__all__ = [
    "ACCOUNT_PATTERN",
    "AccountGenesis",
    "AccountId",
    "AppGenesis",
    "Attribute",
    "Checkpoint",
    "Endorsement",
    "Event",
    "OrganisationGenesis",
    "Params",
    "Receipt",
    "Transaction",
    "TxBody",
    "app_hash_of",
    "endorsement_sign_bytes",
    "tx_sign_bytes",
]
