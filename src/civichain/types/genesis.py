"""The application genesis: suite, parameters, organisations, accounts and roles, validators and observers.

It travels as the `app_state` of CometBFT's genesis file, so the genesis hash CometBFT agrees on covers it.
The validators listed here must be exactly CometBFT's genesis validators (same Ed25519 keys, same powers);
the app checks this at InitChain (`genesis.validators_mismatch`).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.types.tx import Account, Name

OrgId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
HexKey = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
NODE_ID_PATTERN = r"^[0-9a-f]{40}$"
NodeId = Annotated[str, msgspec.Meta(pattern=NODE_ID_PATTERN)]
MAX_POWER = 10**12   # per validator; keeps any realistic set far below CometBFT's total of 2**63 / 8
Power = Annotated[int, msgspec.Meta(ge=1, le=MAX_POWER)]


class Threshold(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A share of an electorate as a fraction of two integers (never a float).

    A proposal passes when `approvals × denominator ≥ numerator × electorate`. It must be more than one half
    and at most one (checked at genesis and when governance changes it).
    """

    numerator: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    denominator: Annotated[int, msgspec.Meta(ge=1, le=1000)]


class Params(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Chain parameters. Governance may change `governance_threshold` and `proposal_lifetime`."""

    max_tx_bytes: Annotated[int, msgspec.Meta(ge=256, le=1_048_576)] = 65_536
    max_expiry_window: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 100_000
    state_keep_versions: Annotated[int, msgspec.Meta(ge=2, le=10_000_000)] = 1_000
    governance_threshold: Threshold = Threshold(2, 3)
    proposal_lifetime: Annotated[int, msgspec.Meta(ge=10, le=10_000_000)] = 100_000


class OrganisationGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A department and its names in Chinese and English (the validators it runs are listed in `validators`)."""

    id: OrgId
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AccountGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An initial account: its organisation, public key (hex) and roles."""

    id: Account
    organisation: OrgId
    public_key: HexKey
    roles: tuple[Name, ...] = ()


class ValidatorGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A genesis validator: its Ed25519 consensus key (hex), voting power, operating organisation and node id.

    `node_id` is the CometBFT node id (hex of the node key's address) of the node that runs the validator;
    the peer filter admits it.
    """

    pub_key: HexKey
    power: Power
    organisation: OrgId
    node_id: NodeId


class ObserverGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A non-validating node the network admits as a peer (an auditor's, a court's, a newspaper's)."""

    node_id: NodeId
    operator: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AppGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole application genesis."""

    suite: str
    organisations: tuple[OrganisationGenesis, ...]
    accounts: tuple[AccountGenesis, ...]
    params: Params = Params()
    validators: tuple[ValidatorGenesis, ...] = ()
    observers: tuple[ObserverGenesis, ...] = ()
