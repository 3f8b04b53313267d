"""Who may move public funds: the policies of the funds actions, and the facts each one refers to.

* The finance bureau's `admin`s and `budget_officer`s open and close years, record appropriations, create
  programmes and allocate (`FINANCE`).
* A programme's own department, through its `admin`s and `finance_officer`s, commits its money, pays it and
  records its reversals (`DEPARTMENT`: a `Member` rule; the department is the programme's).
* A movement of more than the fiscal year's approval threshold also needs a second department: an `admin` or
  `auditor` of an organisation other than the sender's endorses it (`SECOND_DEPARTMENT`). The amount is the
  one approved: a new record's amount, or an adjusted record's new amount when it grows (a cut needs none).

The resolvers read the records an action names (refusing an unknown one with its `funds.unknown_*` code)
and return the `Facts` the policy needs: the department concerned, the amount and the year's threshold.
Execution checks the policy before the action runs. Pure: no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from civichain.modules.base import StateView
from civichain.modules.funds_records import (
    FiscalYear,
    existing_allocation,
    existing_appropriation,
    existing_commitment,
    existing_disbursement,
    existing_programme,
    existing_year,
)
from civichain.modules.policy import AboveThreshold, Facts, Member, OtherOrg, Party, Policy, either

if TYPE_CHECKING:
    from civichain.modules.funds import (AdjustAllocation, AdjustAppropriation, AdjustCommitment, Allocate,
                                         Appropriate, CancelCommitment, Commit, Disburse, ReverseDisbursement)

FINANCE_BUREAU = "finance-bureau"
ENDORSER_ROLES = ("admin", "auditor")

FINANCE_OFFICERS = either(Party(FINANCE_BUREAU, "admin"), Party(FINANCE_BUREAU, "budget_officer"))
DEPARTMENT_OFFICERS = either(Member(role="admin"), Member(role="finance_officer"))
SECOND_DEPARTMENT = AboveThreshold(either(*(OtherOrg(role=r) for r in ENDORSER_ROLES)))

FINANCE = Policy(performer=FINANCE_OFFICERS)
FINANCE_ABOVE_THRESHOLD = Policy(performer=FINANCE_OFFICERS, endorsement=SECOND_DEPARTMENT)
DEPARTMENT = Policy(performer=DEPARTMENT_OFFICERS)
DEPARTMENT_ABOVE_THRESHOLD = Policy(performer=DEPARTMENT_OFFICERS, endorsement=SECOND_DEPARTMENT)


def appropriation_facts(state: StateView, args: Appropriate) -> Facts:
    """The amount appropriated, against the threshold of its year. Raises funds.unknown_year."""
    return _movement(existing_year(state, args.year, "args.year"), args.amount_fen)


def appropriation_change_facts(state: StateView, args: AdjustAppropriation) -> Facts:
    """The appropriation's new amount when it grows, against the threshold of its year.
    Raises funds.unknown_appropriation."""
    appropriation = existing_appropriation(state, args.appropriation, "args.appropriation")
    return _movement(existing_year(state, appropriation.year, f"appropriation {appropriation.id}"),
                     _grown(appropriation.amount_fen, args.amount_fen))


def allocation_facts(state: StateView, args: Allocate) -> Facts:
    """The amount allocated, against the threshold of the appropriation's year.
    Raises funds.unknown_appropriation."""
    appropriation = existing_appropriation(state, args.appropriation, "args.appropriation")
    return _movement(existing_year(state, appropriation.year, f"appropriation {appropriation.id}"), args.amount_fen)


def allocation_change_facts(state: StateView, args: AdjustAllocation) -> Facts:
    """The allocation's new amount when it grows, against the threshold of its year.
    Raises funds.unknown_allocation."""
    allocation = existing_allocation(state, args.allocation, "args.allocation")
    return _movement(existing_year(state, allocation.year, f"allocation {allocation.id}"),
                     _grown(allocation.amount_fen, args.amount_fen))


def commitment_facts(state: StateView, args: Commit) -> Facts:
    """The allocation's department, and the amount committed against the threshold of its year.
    Raises funds.unknown_allocation."""
    allocation = existing_allocation(state, args.allocation, "args.allocation")
    return _movement(existing_year(state, allocation.year, f"allocation {allocation.id}"), args.amount_fen,
                     allocation.department)


def commitment_change_facts(state: StateView, args: AdjustCommitment) -> Facts:
    """The programme's department, and the commitment's new amount when it grows against the threshold of its
    year. Raises funds.unknown_commitment."""
    commitment = existing_commitment(state, args.commitment, "args.commitment")
    return _movement(existing_year(state, commitment.year, f"commitment {commitment.id}"),
                     _grown(commitment.amount_fen, args.amount_fen), _department(state, commitment.programme))


def cancellation_facts(state: StateView, args: CancelCommitment) -> Facts:
    """The department of the commitment's programme. Raises funds.unknown_commitment."""
    commitment = existing_commitment(state, args.commitment, "args.commitment")
    return Facts(organisation=_department(state, commitment.programme))


def payment_facts(state: StateView, args: Disburse) -> Facts:
    """The programme's department, and the amount paid against the threshold of the commitment's year.
    Raises funds.unknown_commitment."""
    commitment = existing_commitment(state, args.commitment, "args.commitment")
    return _movement(existing_year(state, commitment.year, f"commitment {commitment.id}"), args.amount_fen,
                     _department(state, commitment.programme))


def reversal_facts(state: StateView, args: ReverseDisbursement) -> Facts:
    """The department of the payment's programme. Raises funds.unknown_disbursement."""
    disbursement = existing_disbursement(state, args.disbursement, "args.disbursement")
    return Facts(organisation=_department(state, disbursement.programme))


def _movement(year: FiscalYear, amount: int, department: str = "") -> Facts:
    return Facts(organisation=department, amount=amount, threshold=year.threshold_fen,
                 threshold_of=f"fiscal year {year.year}")


def _grown(old: int, new: int) -> int:
    """The amount an adjustment approves: the new one when it grows, nothing when it shrinks or stays."""
    return new if new > old else 0


def _department(state: StateView, programme: str) -> str:
    return existing_programme(state, programme, f"programme {programme}").department
