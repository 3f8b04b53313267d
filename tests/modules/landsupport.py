"""A land registry chain in memory for module tests: the bureaus, a court, a bank and residents
(chainsupport.MemoryChain), with senders named by account id."""

from __future__ import annotations

import hashlib

from civichain.modules import land
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis, Receipt
from tests.conftest import SUITE, make_signer
from tests.modules.chainsupport import MemoryChain

ACCOUNTS = {
    "land-bureau/registrar": ("registrar",),
    "land-bureau/clerk": ("clerk",),
    "tax-bureau/officer": ("clerk",),
    "court/judge": ("judge",),
    "bank/lender": (),
    "residents/alice": (),
    "residents/bob": (),
    "residents/carol": (),
}
REGISTRAR, CLERK, TAX, JUDGE, BANK = ("land-bureau/registrar", "land-bureau/clerk", "tax-bureau/officer",
                                      "court/judge", "bank/lender")
ALICE, BOB, CAROL = "residents/alice", "residents/bob", "residents/carol"


def digest(text: str) -> bytes:
    """The SHA-256 digest standing for a document in these tests."""
    return hashlib.sha256(text.encode()).digest()


def owners(*pairs: tuple[str, int, int]) -> tuple[land.OwnerShare, ...]:
    """Owner shares from (account, numerator, denominator) triples."""
    return tuple(land.OwnerShare(denominator=d, numerator=n, owner=o) for o, n, d in pairs)


def sole(account: str) -> tuple[land.OwnerShare, ...]:
    return owners((account, 1, 1))


class LandChain(MemoryChain):
    """Organisations land-bureau, tax-bureau, court, bank and residents with the accounts above."""

    def __init__(self) -> None:
        self.signers = {account: make_signer(account) for account in ACCOUNTS}
        orgs = sorted({account.split("/")[0] for account in ACCOUNTS})
        super().__init__(AppGenesis(
            suite=SUITE.name,
            organisations=tuple(OrganisationGenesis(org, org, org) for org in orgs),
            accounts=tuple(AccountGenesis(account, account.split("/")[0], self.signers[account].public_key.hex(), roles)
                           for account, roles in ACCOUNTS.items()),
        ))

    # --- transactions and blocks ---

    def tx(self, sender: str, action: str, args, endorsers: tuple[str, ...] = ()) -> bytes:
        """A signed `land` transaction from account `sender`, endorsed by the accounts `endorsers`."""
        return super().tx(self.signers[sender], land.NAME, action, args, [self.signers[e] for e in endorsers])

    def run(self, sender: str, action: str, args, endorsers: tuple[str, ...] = ()) -> Receipt:
        """Execute one transaction in its own block; return its receipt."""
        return self.block(self.tx(sender, action, args, endorsers)).receipts[0]

    def ok(self, sender: str, action: str, args, endorsers: tuple[str, ...] = ()) -> Receipt:
        receipt = self.run(sender, action, args, endorsers)
        assert receipt.code == "ok", (receipt.code, receipt.where, receipt.got, receipt.expected)
        return receipt

    # --- common steps ---

    def register(self, parcel: str, area: int = 100_000, land_use: str = "residential") -> None:
        self.ok(REGISTRAR, "register_parcel", land.RegisterParcel(
            area_dm2=area, boundary=digest(f"survey {parcel}"), id=parcel, land_use=land_use,
            location=f"Dongcheng District, block of {parcel}"))

    def titled(self, parcel: str, shares=None, area: int = 100_000, land_use: str = "residential") -> None:
        """Register a parcel and issue its first title (to Alice alone by default)."""
        self.register(parcel, area, land_use)
        self.ok(REGISTRAR, "issue_title", land.IssueTitle(deed=digest(f"deed {parcel}"), owners=shares or sole(ALICE),
                                                          parcel=parcel))

    # --- reads ---

    def parcel(self, parcel: str) -> land.Parcel:
        found = land.load_parcel(self.reader(), parcel)
        assert found is not None, f"no parcel {parcel}"
        return found

    def title(self, parcel: str) -> land.Title | None:
        return land.current_title(self.reader(), parcel)
