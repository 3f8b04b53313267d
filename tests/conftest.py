"""Shared test helpers: a small genesis with signers, and a ledger on a SQLite file in a temporary folder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, settings

from civichain.client.tx import Signer, build_body, sign
from civichain.crypto import ED25519_SHA256
from civichain.ledger import Ledger
from civichain.modules.notary import Anchor
from civichain.store import Store
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

CHAIN = "test-chain"
SUITE = ED25519_SHA256


def make_signer(account: str, seed_text: str | None = None) -> Signer:
    seed = hashlib.sha256((seed_text or account).encode()).digest()
    return Signer(account, seed, SUITE)


@dataclass
class Chain:
    """A genesis with three organisations and their signers."""

    admin: Signer = field(default_factory=lambda: make_signer("land-bureau/admin"))
    clerk: Signer = field(default_factory=lambda: make_signer("land-bureau/clerk"))
    finance: Signer = field(default_factory=lambda: make_signer("finance-bureau/admin"))
    tax: Signer = field(default_factory=lambda: make_signer("tax-bureau/admin"))

    def genesis(self) -> AppGenesis:
        orgs = (OrganisationGenesis("land-bureau", "自然资源局", "Land Bureau"),
                OrganisationGenesis("finance-bureau", "财政局", "Finance Bureau"),
                OrganisationGenesis("tax-bureau", "税务局", "Tax Bureau"))
        accounts = (
            AccountGenesis(self.admin.account, "land-bureau", self.admin.public_key.hex(), ("admin", "notary")),
            AccountGenesis(self.clerk.account, "land-bureau", self.clerk.public_key.hex(), ("clerk",)),
            AccountGenesis(self.finance.account, "finance-bureau", self.finance.public_key.hex(), ("admin",)),
            AccountGenesis(self.tax.account, "tax-bureau", self.tax.public_key.hex(), ("admin", "notary")),
        )
        return AppGenesis(suite=SUITE.name, organisations=orgs, accounts=accounts)

    def genesis_bytes(self) -> bytes:
        return msgspec.json.encode(self.genesis())

    def tx(self, signer: Signer, nonce: int, module: str, action: str, args, *, expires_at: int = 1000,
           chain_id: str = CHAIN, endorsers=()) -> bytes:
        return sign(build_body(chain_id, signer.account, nonce, expires_at, module, action, args), signer, endorsers)

    def anchor(self, signer: Signer, nonce: int, text: str = "", **kw) -> bytes:
        digest = hashlib.sha256((text or f"doc {signer.account} {nonce}").encode()).digest()
        return self.tx(signer, nonce, "notary", "anchor", Anchor(digest=digest, title=f"Document {nonce}"), **kw)


@pytest.fixture
def chain() -> Chain:
    return Chain()


def open_ledger(path: Path) -> Ledger:
    return Ledger(Store(path / "civichain.db"))


@pytest.fixture
def ledger(tmp_path: Path, chain: Chain) -> Ledger:
    ledger = open_ledger(tmp_path)
    ledger.init_chain(CHAIN, chain.genesis_bytes())
    return ledger


def run_block(ledger: Ledger, txs: list[bytes], time_ns: int | None = None):
    height = ledger.height + 1
    outcome = ledger.finalize_block(height, time_ns or height * 1_000_000_000, bytes([height % 256]) * 32, txs)
    ledger.commit()
    return outcome
