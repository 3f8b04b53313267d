"""A governed chain in memory for module tests: organisations with admins and validators, blocks run by the executor."""

from __future__ import annotations

import hashlib

import msgspec

from civichain.client.tx import build_body, sign
from civichain.codec import encode
from civichain.execution import Admission, BlockRun, execute_block, genesis_writes, next_nonce
from civichain.modules import ALL_MODULES, BlockContext
from civichain.modules.governance import Propose, Proposal, Vote, load_proposal, params_of
from civichain.modules.membership import ValidatorSet, load_validators
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis, Params, Threshold, ValidatorGenesis
from tests.conftest import CHAIN, SUITE, make_signer

ORGS = ("land-bureau", "finance-bureau", "tax-bureau", "civil-affairs", "court", "notary-office")


def validator_key(name: str) -> bytes:
    """A made-up Ed25519 public key, stable per name (validators never sign in these tests)."""
    return hashlib.sha256(b"validator " + name.encode()).digest()


def node_id(name: str) -> str:
    return hashlib.sha256(b"node " + name.encode()).hexdigest()[:40]


class Reader:
    """A plain dict of committed state."""

    def __init__(self, values: dict[bytes, bytes]) -> None:
        self.values = values

    def get(self, key: bytes) -> bytes | None:
        return self.values.get(key)


class GovChain:
    """`organisations` departments (one admin each, one validator of power 10 each), a clerk in the first."""

    def __init__(self, organisations: int = 3, *, threshold: tuple[int, int] = (2, 3), lifetime: int = 100,
                 validators: int | None = None) -> None:
        self.orgs = ORGS[:organisations]
        self.admins = {org: make_signer(f"{org}/admin") for org in self.orgs}
        self.clerk = make_signer(f"{self.orgs[0]}/clerk")
        validators = organisations if validators is None else validators
        self.genesis = AppGenesis(
            suite=SUITE.name,
            organisations=tuple(OrganisationGenesis(org, org, org) for org in self.orgs),
            accounts=(*(AccountGenesis(s.account, org, s.public_key.hex(), ("admin",)) for org, s in self.admins.items()),
                      AccountGenesis(self.clerk.account, self.orgs[0], self.clerk.public_key.hex(), ("clerk",))),
            params=Params(governance_threshold=Threshold(*threshold), proposal_lifetime=lifetime),
            validators=tuple(ValidatorGenesis(validator_key(f"v{i}").hex(), 10, self.orgs[i % organisations],
                                              node_id(f"v{i}")) for i in range(validators)),
        )
        self.state = {k: v for k, v in genesis_writes(self.genesis).items() if v is not None}
        self.admission = Admission(CHAIN, SUITE, ALL_MODULES, max_tx_bytes=65_536, max_expiry_window=100_000)
        self.height = 0
        self._pending: dict[str, int] = {}

    # --- transactions ---

    def tx(self, signer, module: str, action: str, args) -> bytes:
        nonce = next_nonce(self.reader(), signer.account) + self._pending.get(signer.account, 0)
        self._pending[signer.account] = self._pending.get(signer.account, 0) + 1
        return sign(build_body(CHAIN, signer.account, nonce, 10**6, module, action, args), signer)

    def propose(self, signer, kind: str, payload, *, title: str = "a change", expires_at: int = 0,
                execute_at: int = 0, raw_payload: bytes | None = None) -> bytes:
        body = raw_payload if raw_payload is not None else encode(payload)
        return self.tx(signer, "governance", "propose", Propose(execute_at=execute_at, expires_at=expires_at, kind=kind,
                                                                 payload=msgspec.Raw(body), title=title))

    def vote(self, signer, proposal: int, approve: bool = True) -> bytes:
        return self.tx(signer, "governance", "vote", Vote(approve=approve, proposal=proposal))

    # --- blocks ---

    def block(self, *txs: bytes) -> BlockRun:
        self.height += 1
        self._pending.clear()
        run = execute_block(self.admission, BlockContext(CHAIN, self.height, self.height * 10**9), list(txs),
                            self.reader(), 0)
        for key, value in run.writes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        return run

    def blocks_until(self, height: int) -> list[BlockRun]:
        return [self.block() for _ in range(height - self.height)]

    # --- reads ---

    def reader(self) -> Reader:
        return Reader(self.state)

    def proposal(self, number: int) -> Proposal:
        found = load_proposal(self.reader(), number)
        assert found is not None, f"no proposal {number}"
        return found

    def validators(self) -> ValidatorSet:
        return load_validators(self.reader())

    def params(self):
        return params_of(self.reader())

    def snapshot_without_nonces(self) -> dict[bytes, bytes]:
        return {k: v for k, v in self.state.items() if not k.startswith(b"auth/nonce/")}
