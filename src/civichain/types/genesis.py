"""The application genesis: suite, parameters, organisations, accounts and roles.

It travels as the `app_state` of CometBFT's genesis file, so the genesis hash CometBFT agrees on covers it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.types.tx import Account, Name

OrgId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
HexKey = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class Params(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Chain parameters; governance may change them later."""

    max_tx_bytes: Annotated[int, msgspec.Meta(ge=256, le=1_048_576)] = 65_536
    max_expiry_window: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 100_000
    state_keep_versions: Annotated[int, msgspec.Meta(ge=2, le=10_000_000)] = 1_000


class OrganisationGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A department, its names in Chinese and English, and the validator it runs (CometBFT address, hex)."""

    id: OrgId
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    validator: Annotated[str, msgspec.Meta(pattern=r"^([0-9A-F]{40})?$")] = ""


class AccountGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An initial account: its organisation, public key (hex) and roles."""

    id: Account
    organisation: OrgId
    public_key: HexKey
    roles: tuple[Name, ...] = ()


class AppGenesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole application genesis."""

    suite: str
    organisations: tuple[OrganisationGenesis, ...]
    accounts: tuple[AccountGenesis, ...]
    params: Params = Params()
