"""Validator updates: what the app hands back to CometBFT when governance changes the validator set."""

from __future__ import annotations

import msgspec


class ValidatorUpdate(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A change of one validator's voting power, as FinalizeBlock returns it; power 0 removes the validator.

    CometBFT applies updates returned at height H from height H+2.
    """

    pub_key: bytes    # Ed25519, 32 bytes
    power: int
