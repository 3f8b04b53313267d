"""A governed chain in memory for module tests: organisations with admins and validators (chainsupport.MemoryChain)."""

from __future__ import annotations

import hashlib

import msgspec

from civichain.codec import encode
from civichain.modules.governance import Propose, Proposal, Vote, load_proposal, params_of
from civichain.modules.membership import ValidatorSet, load_validators
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis, Params, Threshold, ValidatorGenesis
from tests.conftest import SUITE, make_signer
from tests.modules.chainsupport import MemoryChain

ORGS = ("land-bureau", "finance-bureau", "tax-bureau", "civil-affairs", "court", "notary-office")


def validator_key(name: str) -> bytes:
    """A made-up Ed25519 public key, stable per name (validators never sign in these tests)."""
    return hashlib.sha256(b"validator " + name.encode()).digest()


def node_id(name: str) -> str:
    return hashlib.sha256(b"node " + name.encode()).hexdigest()[:40]


class GovChain(MemoryChain):
    """`organisations` departments (one admin each, one validator of power 10 each), a clerk in the first."""

    def __init__(self, organisations: int = 3, *, threshold: tuple[int, int] = (2, 3), lifetime: int = 100,
                 validators: int | None = None, versioned: bool = False) -> None:
        self.orgs = ORGS[:organisations]
        self.admins = {org: make_signer(f"{org}/admin") for org in self.orgs}
        self.clerk = make_signer(f"{self.orgs[0]}/clerk")
        validators = organisations if validators is None else validators
        super().__init__(AppGenesis(
            suite=SUITE.name,
            organisations=tuple(OrganisationGenesis(org, org, org) for org in self.orgs),
            accounts=(*(AccountGenesis(s.account, org, s.public_key.hex(), ("admin",)) for org, s in self.admins.items()),
                      AccountGenesis(self.clerk.account, self.orgs[0], self.clerk.public_key.hex(), ("clerk",))),
            params=Params(governance_threshold=Threshold(*threshold), proposal_lifetime=lifetime),
            validators=tuple(ValidatorGenesis(validator_key(f"v{i}").hex(), 10, self.orgs[i % organisations],
                                              node_id(f"v{i}")) for i in range(validators)),
        ), versioned=versioned)

    # --- transactions ---

    def propose(self, signer, kind: str, payload, *, title: str = "a change", expires_at: int = 0,
                execute_at: int = 0, raw_payload: bytes | None = None) -> bytes:
        body = raw_payload if raw_payload is not None else encode(payload)
        return self.tx(signer, "governance", "propose", Propose(execute_at=execute_at, expires_at=expires_at, kind=kind,
                                                                 payload=msgspec.Raw(body), title=title))

    def vote(self, signer, proposal: int, approve: bool = True) -> bytes:
        return self.tx(signer, "governance", "vote", Vote(approve=approve, proposal=proposal))

    def blocks_until(self, height: int) -> list:
        return [self.block() for _ in range(height - self.height)]

    # --- reads ---

    def proposal(self, number: int) -> Proposal:
        found = load_proposal(self.reader(), number)
        assert found is not None, f"no proposal {number}"
        return found

    def validators(self) -> ValidatorSet:
        return load_validators(self.reader())

    def params(self):
        return params_of(self.reader())
