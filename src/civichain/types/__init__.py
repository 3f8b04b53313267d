"""Wire types: transactions, endorsements, receipts, events, checkpoints, the genesis document and validator
updates.

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
from civichain.types.genesis import (
    AccountGenesis,
    AppGenesis,
    ObserverGenesis,
    OrganisationGenesis,
    Params,
    Threshold,
    ValidatorGenesis,
)
from civichain.types.validator import ValidatorUpdate

__all__ = [
    "ACCOUNT_PATTERN",
    "AccountGenesis",
    "AccountId",
    "AppGenesis",
    "Attribute",
    "Checkpoint",
    "Endorsement",
    "Event",
    "ObserverGenesis",
    "OrganisationGenesis",
    "Params",
    "Receipt",
    "Threshold",
    "Transaction",
    "TxBody",
    "ValidatorGenesis",
    "ValidatorUpdate",
    "app_hash_of",
    "endorsement_sign_bytes",
    "tx_sign_bytes",
]
