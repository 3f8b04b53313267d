"""A chain in memory for funds tests: four departments, finance and department officers, an auditor, and
helpers that run one funds transaction per block and check that a refusal changed nothing."""

from __future__ import annotations

import hashlib

from civichain.modules.funds import Allocate, Appropriate, Commit, CreateProgramme, Disburse, OpenYear
from civichain.modules.funds_records import (
    Allocation,
    Appropriation,
    Commitment,
    Disbursement,
    FiscalYear,
    Programme,
    allocation_key,
    appropriation_key,
    commitment_key,
    disbursement_key,
    programme_key,
    year_key,
)
from civichain.codec import decode
from civichain.modules.registry import AddAccount
from civichain.types import Receipt
from tests.conftest import make_signer
from tests.modules.govsupport import GovChain

YEAR = 2026
THRESHOLD = 100_000_000          # 1,000,000 yuan in fen


def digest(text: str) -> bytes:
    """The SHA-256 of a made-up document."""
    return hashlib.sha256(text.encode()).digest()


class FundsChain(GovChain):
    """land-bureau, finance-bureau, tax-bureau, civil-affairs (one admin each) and, added in block 1:
    finance-bureau/budget (budget_officer), land-bureau/officer (finance_officer), tax-bureau/auditor (auditor),
    tax-bureau/clerk (clerk)."""

    def __init__(self) -> None:
        super().__init__(4)
        self.finance, self.land = self.admins["finance-bureau"], self.admins["land-bureau"]
        self.tax, self.civil = self.admins["tax-bureau"], self.admins["civil-affairs"]
        self.budget_officer = make_signer("finance-bureau/budget")
        self.officer = make_signer("land-bureau/officer")
        self.auditor = make_signer("tax-bureau/auditor")
        self.tax_clerk = make_signer("tax-bureau/clerk")
        added = [(self.finance, self.budget_officer, "budget_officer"), (self.land, self.officer, "finance_officer"),
                 (self.tax, self.auditor, "auditor"), (self.tax, self.tax_clerk, "clerk")]
        run = self.block(*(self.tx(admin, "registry", "add_account",
                                   AddAccount(id=new.account, public_key=new.public_key, roles=(role,)))
                           for admin, new, role in added))
        assert [r.code for r in run.receipts] == ["ok"] * len(added)

    def do(self, signer, action: str, args, *endorsers) -> Receipt:
        """Run one funds transaction in its own block and return its receipt."""
        [receipt] = self.block(self.tx(signer, "funds", action, args, endorsers)).receipts
        return receipt

    def ok(self, signer, action: str, args, *endorsers) -> Receipt:
        receipt = self.do(signer, action, args, *endorsers)
        assert receipt.code == "ok", (receipt.code, receipt.where, receipt.got, receipt.expected)
        return receipt

    def refused(self, code: str, signer, action: str, args, *endorsers) -> Receipt:
        """Run a transaction that must fail with `code`; check that nothing but the sender's nonce changed."""
        before = self.snapshot_without_nonces()
        receipt = self.do(signer, action, args, *endorsers)
        assert receipt.code == code, (receipt.code, receipt.where, receipt.got, receipt.expected)
        assert receipt.events == () and receipt.expected and receipt.where
        assert self.snapshot_without_nonces() == before
        return receipt

    # --- a standard set-up: year 2026, one appropriation, a land-bureau programme and an allocation ---

    def setup(self, *, appropriated: int = 500_000_000, allocated: int = 50_000_000, committed: int = 0,
              paid: int = 0) -> None:
        """Year 2026 (threshold 1,000,000 yuan), appropriation `edu`, programme `roads` of land-bureau,
        allocation `a1`; with `committed`, commitment `c1` to tax-bureau; with `paid`, disbursement `d1`."""
        self.ok(self.finance, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR))
        self.ok(self.finance, "appropriate", self.appropriate_args("edu", appropriated), *self.endorse(appropriated))
        self.ok(self.finance, "create_programme",
                CreateProgramme(department="land-bureau", programme="roads", title="Rural roads", year=YEAR))
        if allocated:
            self.ok(self.finance, "allocate", Allocate(allocation="a1", amount_fen=allocated, appropriation="edu",
                                                       programme="roads"), *self.endorse(allocated))
        if committed:
            self.ok(self.land, "commit", self.commit_args("c1", committed), *self.endorse(committed))
        if paid:
            self.ok(self.land, "disburse", self.disburse_args("d1", paid), *self.endorse(paid))

    def endorse(self, amount: int) -> tuple:
        return (self.auditor,) if amount > THRESHOLD else ()

    @staticmethod
    def appropriate_args(ref: str, amount: int, year: int = YEAR) -> Appropriate:
        return Appropriate(amount_fen=amount, appropriation=ref, basis=digest(f"budget {ref}"), title=f"Budget {ref}",
                           year=year)

    @staticmethod
    def commit_args(ref: str, amount: int, allocation: str = "a1", payee: str = "tax-bureau") -> Commit:
        return Commit(allocation=allocation, amount_fen=amount, commitment=ref, contract=digest(f"contract {ref}"),
                      payee=payee)

    @staticmethod
    def disburse_args(ref: str, amount: int, commitment: str = "c1") -> Disburse:
        return Disburse(amount_fen=amount, commitment=commitment, contract=digest(f"contract {commitment}"),
                        disbursement=ref, invoice=digest(f"invoice {ref}"))

    # --- reads ---

    def year(self, year: int = YEAR) -> FiscalYear:
        return self._record(year_key(year), FiscalYear)

    def appropriation(self, ref: str) -> Appropriation:
        return self._record(appropriation_key(ref), Appropriation)

    def programme(self, ref: str) -> Programme:
        return self._record(programme_key(ref), Programme)

    def allocation(self, ref: str) -> Allocation:
        return self._record(allocation_key(ref), Allocation)

    def commitment(self, ref: str) -> Commitment:
        return self._record(commitment_key(ref), Commitment)

    def disbursement(self, ref: str) -> Disbursement:
        return self._record(disbursement_key(ref), Disbursement)

    def _record(self, key: bytes, kind: type):
        raw = self.state.get(key)
        assert raw is not None, f"no {key!r}"
        return decode(raw, kind)
