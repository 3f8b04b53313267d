"""Public funds: fiscal years, appropriations, allocations to programmes, commitments and disbursements.

The finance bureau opens a fiscal year (fixing its approval threshold), records appropriations from the
approved budget, creates departments' programmes and allocates appropriations to them. A programme's
department commits its allocation to contracts and pays the contracts' payees against invoices. Each record
names the one above it and keeps the totals of those below, so these rules hold after every transaction:

* no allocation exceeds its appropriation, no commitment its allocation, no disbursement its commitment;
* amounts are integer fen; every payment traces to a commitment, an allocation and an appropriation;
* a movement of more than the year's threshold needs a second department's endorsement.

A broken rule refuses the whole transaction with a `funds.*` (or `auth.*`) code and changes nothing. Who may
do what (the finance bureau, the programme's department, a second department above the threshold) is declared
as policies in `funds_policy`, checked by execution before an action runs; records, state keys and reads are
in `funds_records`; see docs/modules/funds.md.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from civichain.modules import membership
from civichain.modules.base import Action, Args, Context, Module, ModuleError, StateView
from civichain.modules.funds_policy import (
    DEPARTMENT,
    DEPARTMENT_ABOVE_THRESHOLD,
    FINANCE,
    FINANCE_ABOVE_THRESHOLD,
    allocation_change_facts,
    allocation_facts,
    appropriation_change_facts,
    appropriation_facts,
    cancellation_facts,
    commitment_change_facts,
    commitment_facts,
    payment_facts,
    reversal_facts,
)
from civichain.modules.funds_records import (
    CANCELLED,
    CLOSED,
    MAX_AMOUNT_FEN,
    MAX_YEAR,
    MAX_YEAR_TOTAL_FEN,
    MIN_YEAR,
    OPEN,
    REF_PATTERN,
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
    existing_allocation,
    existing_appropriation,
    existing_commitment,
    existing_disbursement,
    existing_programme,
    existing_year,
    invoice_key,
    load_year,
    payment_key,
    programme_key,
    year_key,
    year_programmes_prefix,
)
from civichain.types import ACCOUNT_PATTERN
from civichain.types.genesis import OrgId

NAME = "funds"
# The codes this module's actions give, in their ABCI numbering order (600, 601, ...): append only. Its
# policies (funds_policy) refuse with `auth.not_permitted` and `auth.missing_endorsement`.
ERROR_CODES = (
    "funds.year_exists", "funds.unknown_year", "funds.year_closed", "funds.unsettled_commitments",
    "funds.id_taken", "funds.unknown_appropriation", "funds.unknown_programme", "funds.unknown_allocation",
    "funds.unknown_commitment", "funds.unknown_disbursement", "funds.unknown_department", "funds.unknown_payee",
    "funds.year_mismatch", "funds.exceeds_appropriation", "funds.exceeds_allocation", "funds.exceeds_commitment",
    "funds.below_allocated", "funds.below_committed", "funds.below_disbursed", "funds.no_change",
    "funds.commitment_cancelled", "funds.contract_mismatch", "funds.invoice_already_paid", "funds.already_reversed",
    "funds.year_total_too_large",
)

Year = Annotated[int, msgspec.Meta(ge=MIN_YEAR, le=MAX_YEAR)]
Ref = Annotated[str, msgspec.Meta(pattern=REF_PATTERN)]
Amount = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT_FEN)]
NewAmount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT_FEN)]
Digest = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
Payee = Annotated[str, msgspec.Meta(pattern=ACCOUNT_PATTERN, max_length=127)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


# --- arguments (fields in sorted order) -------------------------------------------------------------------

class OpenYear(Args, kw_only=True):
    """Arguments of `funds.open_year`: movements above `approval_threshold_fen` will need a second department."""

    approval_threshold_fen: NewAmount
    year: Year


class CloseYear(Args, kw_only=True):
    """Arguments of `funds.close_year`."""

    year: Year


class Appropriate(Args, kw_only=True):
    """Arguments of `funds.appropriate`: `basis` is the SHA-256 of the approved budget document."""

    amount_fen: Amount
    appropriation: Ref
    basis: Digest
    title: Title
    year: Year


class AdjustAppropriation(Args, kw_only=True):
    """Arguments of `funds.adjust_appropriation`: the new amount, and the budget adjustment's document."""

    amount_fen: NewAmount
    appropriation: Ref
    basis: Digest
    reason: Reason


class CreateProgramme(Args, kw_only=True):
    """Arguments of `funds.create_programme`."""

    department: OrgId
    programme: Ref
    title: Title
    year: Year


class Allocate(Args, kw_only=True):
    """Arguments of `funds.allocate`."""

    allocation: Ref
    amount_fen: Amount
    appropriation: Ref
    programme: Ref


class AdjustAllocation(Args, kw_only=True):
    """Arguments of `funds.adjust_allocation`: the new amount."""

    allocation: Ref
    amount_fen: NewAmount
    reason: Reason


class Commit(Args, kw_only=True):
    """Arguments of `funds.commit`: a contract with `payee` (an account or organisation id)."""

    allocation: Ref
    amount_fen: Amount
    commitment: Ref
    contract: Digest
    payee: Payee


class AdjustCommitment(Args, kw_only=True):
    """Arguments of `funds.adjust_commitment`: the new amount, and the contract amendment's document."""

    amendment: Digest
    amount_fen: NewAmount
    commitment: Ref
    reason: Reason


class CancelCommitment(Args, kw_only=True):
    """Arguments of `funds.cancel_commitment`."""

    commitment: Ref
    reason: Reason


class Disburse(Args, kw_only=True):
    """Arguments of `funds.disburse`: the invoice's and the contract's SHA-256 digests."""

    amount_fen: Amount
    commitment: Ref
    contract: Digest
    disbursement: Ref
    invoice: Digest


class ReverseDisbursement(Args, kw_only=True):
    """Arguments of `funds.reverse_disbursement`."""

    disbursement: Ref
    reason: Reason


# --- fiscal years -----------------------------------------------------------------------------------------

def apply_open_year(ctx: Context, args: OpenYear) -> None:
    """Open a fiscal year with its approval threshold (fixed for the year). Refuses `funds.year_exists`."""
    existing = load_year(ctx.state, args.year)
    if existing is not None:
        raise ModuleError("funds.year_exists", where="args.year", got=args.year,
                          expected=f"a year not opened before (opened at height {existing.opened_at})")
    ctx.save(year_key(args.year), FiscalYear(args.year, args.approval_threshold_fen, OPEN, ctx.block.height))
    ctx.emit(NAME, "year_opened", _year_event_key(args.year), year=args.year,
             approval_threshold_fen=args.approval_threshold_fen)


def apply_close_year(ctx: Context, args: CloseYear) -> None:
    """Close a fiscal year once every commitment is paid or cancelled; nothing of it moves afterwards."""
    year = _open_year(ctx.state, args.year, "args.year")
    if year.committed_fen != year.spent_fen:
        raise ModuleError("funds.unsettled_commitments", where=f"fiscal year {year.year}",
                          got=f"{year.committed_fen - year.spent_fen} fen committed and not paid",
                          expected="every commitment paid or cancelled before the year closes")
    ctx.save(year_key(year.year), msgspec.structs.replace(year, status=CLOSED, closed_at=ctx.block.height))
    ctx.emit(NAME, "year_closed", _year_event_key(year.year), year=year.year, appropriated_fen=year.appropriated_fen,
             allocated_fen=year.allocated_fen, committed_fen=year.committed_fen, spent_fen=year.spent_fen)


# --- appropriations ---------------------------------------------------------------------------------------

def apply_appropriate(ctx: Context, args: Appropriate) -> None:
    """Record an appropriation of an open year, from its budget document."""
    _unused(ctx, appropriation_key(args.appropriation), "args.appropriation", args.appropriation)
    year = _open_year(ctx.state, args.year, "args.year")
    _within_year_total(year, args.amount_fen)
    ctx.save(appropriation_key(args.appropriation), Appropriation(args.appropriation, year.year, args.title, args.basis,
                                                                  args.amount_fen, 0, ctx.block.height))
    _shift(ctx, year_key(year.year), FiscalYear, appropriated_fen=args.amount_fen)
    ctx.emit(NAME, "appropriated", _year_event_key(year.year), appropriation=args.appropriation, year=year.year,
             amount_fen=args.amount_fen, title=args.title, basis=args.basis)


def apply_adjust_appropriation(ctx: Context, args: AdjustAppropriation) -> None:
    """Change an appropriation's amount (a supplementary budget or a cut), never below what is allocated."""
    appropriation = existing_appropriation(ctx.state, args.appropriation, "args.appropriation")
    year = _open_year(ctx.state, appropriation.year, f"appropriation {appropriation.id}")
    delta = _change(appropriation.amount_fen, args.amount_fen)
    if args.amount_fen < appropriation.allocated_fen:
        raise ModuleError("funds.below_allocated", where="args.amount_fen", got=args.amount_fen,
                          expected=f"at least the {appropriation.allocated_fen} fen already allocated "
                                   f"from appropriation {appropriation.id}")
    _within_year_total(year, delta)   # a cut is always within
    ctx.save(appropriation_key(appropriation.id),
             msgspec.structs.replace(appropriation, amount_fen=args.amount_fen, basis=args.basis))
    _shift(ctx, year_key(year.year), FiscalYear, appropriated_fen=delta)
    ctx.emit(NAME, "appropriation_adjusted", _year_event_key(year.year), appropriation=appropriation.id,
             year=year.year, from_fen=appropriation.amount_fen, amount_fen=args.amount_fen, basis=args.basis,
             reason=args.reason)


# --- programmes and allocations ---------------------------------------------------------------------------

def apply_create_programme(ctx: Context, args: CreateProgramme) -> None:
    """Create a department's programme in an open year (allocations then give it a budget)."""
    _unused(ctx, programme_key(args.programme), "args.programme", args.programme)
    year = _open_year(ctx.state, args.year, "args.year")
    if membership.load_organisation(ctx.state, args.department) is None:
        raise ModuleError("funds.unknown_department", where="args.department", got=args.department,
                          expected="the id of an organisation of the network")
    ctx.save(programme_key(args.programme), Programme(args.programme, year.year, args.department, args.title,
                                                      created_at=ctx.block.height))
    ctx.state.set(year_programmes_prefix(year.year) + args.programme.encode(), args.department.encode())
    ctx.emit(NAME, "programme_created", args.programme, year=year.year, department=args.department,
             title=args.title)


def apply_allocate(ctx: Context, args: Allocate) -> None:
    """Allocate part of an appropriation to a programme of the same year, within what is unallocated."""
    _unused(ctx, allocation_key(args.allocation), "args.allocation", args.allocation)
    appropriation = existing_appropriation(ctx.state, args.appropriation, "args.appropriation")
    programme = existing_programme(ctx.state, args.programme, "args.programme")
    if programme.year != appropriation.year:
        raise ModuleError("funds.year_mismatch", where="args.programme", got=f"a programme of {programme.year}",
                          expected=f"a programme of {appropriation.year}, the year of appropriation {appropriation.id}")
    year = _open_year(ctx.state, appropriation.year, f"appropriation {appropriation.id}")
    _within_appropriation(appropriation, args.amount_fen, "args.amount_fen")
    ctx.save(allocation_key(args.allocation), Allocation(args.allocation, appropriation.id, programme.id, year.year,
                                                         programme.department, args.amount_fen,
                                                         created_at=ctx.block.height))
    _shift_allocated(ctx, appropriation, programme.id, args.amount_fen)
    ctx.emit(NAME, "allocated", programme.id, allocation=args.allocation, appropriation=appropriation.id,
             year=year.year, department=programme.department, amount_fen=args.amount_fen)


def apply_adjust_allocation(ctx: Context, args: AdjustAllocation) -> None:
    """Change an allocation's amount: up within its appropriation, down never below what is committed."""
    allocation = existing_allocation(ctx.state, args.allocation, "args.allocation")
    year = _open_year(ctx.state, allocation.year, f"allocation {allocation.id}")
    delta = _change(allocation.amount_fen, args.amount_fen)
    if args.amount_fen < allocation.committed_fen:
        raise ModuleError("funds.below_committed", where="args.amount_fen", got=args.amount_fen,
                          expected=f"at least the {allocation.committed_fen} fen already committed "
                                   f"from allocation {allocation.id}")
    appropriation = existing_appropriation(ctx.state, allocation.appropriation, f"allocation {allocation.id}")
    _within_appropriation(appropriation, delta, "args.amount_fen")   # a cut is always within
    ctx.save(allocation_key(allocation.id), msgspec.structs.replace(allocation, amount_fen=args.amount_fen))
    _shift_allocated(ctx, appropriation, allocation.programme, delta)
    ctx.emit(NAME, "allocation_adjusted", allocation.programme, allocation=allocation.id, year=year.year,
             from_fen=allocation.amount_fen, amount_fen=args.amount_fen, reason=args.reason)


# --- commitments ------------------------------------------------------------------------------------------

def apply_commit(ctx: Context, args: Commit) -> None:
    """Commit part of an allocation to a contract with a payee; only the programme's department may."""
    _unused(ctx, commitment_key(args.commitment), "args.commitment", args.commitment)
    allocation = existing_allocation(ctx.state, args.allocation, "args.allocation")
    year = _open_year(ctx.state, allocation.year, f"allocation {allocation.id}")
    if membership.load_account(ctx.state, args.payee) is None and \
            membership.load_organisation(ctx.state, args.payee) is None:
        raise ModuleError("funds.unknown_payee", where="args.payee", got=args.payee,
                          expected="the id of a registered account or organisation (never a person's name)")
    _within_allocation(allocation, args.amount_fen, "args.amount_fen")
    ctx.save(commitment_key(args.commitment), Commitment(args.commitment, allocation.id, allocation.appropriation,
                                                         allocation.programme, year.year, args.payee, args.contract,
                                                         args.amount_fen, created_at=ctx.block.height))
    _shift_committed(ctx, allocation, args.amount_fen)
    ctx.emit(NAME, "committed", allocation.programme, commitment=args.commitment, allocation=allocation.id,
             appropriation=allocation.appropriation, year=year.year, payee=args.payee, contract=args.contract,
             amount_fen=args.amount_fen)


def apply_adjust_commitment(ctx: Context, args: AdjustCommitment) -> None:
    """Amend a contract's amount: up within its allocation, down never below what is paid."""
    commitment, year = _open_commitment(ctx, args.commitment)
    delta = _change(commitment.amount_fen, args.amount_fen)
    if args.amount_fen < commitment.disbursed_fen:
        raise ModuleError("funds.below_disbursed", where="args.amount_fen", got=args.amount_fen,
                          expected=f"at least the {commitment.disbursed_fen} fen already paid "
                                   f"under commitment {commitment.id}")
    allocation = existing_allocation(ctx.state, commitment.allocation, f"commitment {commitment.id}")
    _within_allocation(allocation, delta, "args.amount_fen")   # a cut is always within
    ctx.save(commitment_key(commitment.id),
             msgspec.structs.replace(commitment, amount_fen=args.amount_fen, amendment=args.amendment))
    _shift_committed(ctx, allocation, delta)
    ctx.emit(NAME, "commitment_adjusted", commitment.programme, commitment=commitment.id, year=year.year,
             from_fen=commitment.amount_fen, amount_fen=args.amount_fen, amendment=args.amendment, reason=args.reason)


def apply_cancel_commitment(ctx: Context, args: CancelCommitment) -> None:
    """Cancel a contract: what is unpaid returns to its allocation, and nothing more is paid under it."""
    commitment, year = _open_commitment(ctx, args.commitment)
    released = commitment.amount_fen - commitment.disbursed_fen
    ctx.save(commitment_key(commitment.id),
             msgspec.structs.replace(commitment, amount_fen=commitment.disbursed_fen, status=CANCELLED))
    _release(ctx, commitment, released)
    ctx.emit(NAME, "commitment_cancelled", commitment.programme, commitment=commitment.id, year=year.year,
             released_fen=released, paid_fen=commitment.disbursed_fen, reason=args.reason)


# --- disbursements ----------------------------------------------------------------------------------------

def apply_disburse(ctx: Context, args: Disburse) -> None:
    """Pay a commitment's payee against an invoice, within what is committed and not yet paid."""
    _unused(ctx, disbursement_key(args.disbursement), "args.disbursement", args.disbursement)
    commitment, year = _open_commitment(ctx, args.commitment)
    if args.contract != commitment.contract:
        raise ModuleError("funds.contract_mismatch", where="args.contract", got=args.contract.hex(),
                          expected=f"{commitment.contract.hex()}, the contract of commitment {commitment.id}")
    paid_by = ctx.state.get(invoice_key(args.invoice))
    if paid_by is not None:
        raise ModuleError("funds.invoice_already_paid", where="args.invoice", got=args.invoice.hex(),
                          expected=f"an invoice not paid before (disbursement {paid_by.decode()} paid it)")
    unpaid = commitment.amount_fen - commitment.disbursed_fen
    if args.amount_fen > unpaid:
        raise ModuleError("funds.exceeds_commitment", where="args.amount_fen", got=args.amount_fen,
                          expected=f"at most {unpaid} fen, the unpaid part of commitment {commitment.id} "
                                   f"({commitment.amount_fen} committed, {commitment.disbursed_fen} paid)")
    programme = _shift(ctx, programme_key(commitment.programme), Programme, spent_fen=args.amount_fen, payments=1)
    record = Disbursement(args.disbursement, commitment.id, commitment.allocation, commitment.appropriation,
                          commitment.programme, year.year, programme.payments, commitment.payee, args.amount_fen,
                          args.invoice, args.contract, ctx.block.height, ctx.block.time_ns, ctx.tx_id)
    ctx.save(disbursement_key(record.id), record)
    ctx.state.set(payment_key(programme.id, record.seq), record.id.encode())
    ctx.state.set(invoice_key(args.invoice), record.id.encode())
    _shift(ctx, commitment_key(commitment.id), Commitment, disbursed_fen=args.amount_fen)
    _shift(ctx, allocation_key(commitment.allocation), Allocation, spent_fen=args.amount_fen)
    _shift(ctx, year_key(year.year), FiscalYear, spent_fen=args.amount_fen)
    ctx.emit(NAME, "disbursed", programme.id, disbursement=record.id, seq=record.seq, commitment=commitment.id,
             allocation=commitment.allocation, appropriation=commitment.appropriation, year=year.year,
             payee=commitment.payee, amount_fen=args.amount_fen, invoice=args.invoice, contract=args.contract)


def apply_reverse_disbursement(ctx: Context, args: ReverseDisbursement) -> None:
    """Record that a payment came back: it no longer counts as spent and its invoice may be paid again.

    Under an open commitment the amount becomes payable again; under a cancelled one it returns to the
    allocation.
    """
    disbursement = existing_disbursement(ctx.state, args.disbursement, "args.disbursement")
    if disbursement.reversed_at:
        raise ModuleError("funds.already_reversed", where="args.disbursement", got=args.disbursement,
                          expected=f"a payment not reversed (this one was at height {disbursement.reversed_at})")
    year = _open_year(ctx.state, disbursement.year, f"disbursement {disbursement.id}")
    amount = disbursement.amount_fen
    ctx.save(disbursement_key(disbursement.id), msgspec.structs.replace(
        disbursement, reversed_at=ctx.block.height, reversal_reason=args.reason))
    ctx.state.delete(invoice_key(disbursement.invoice))
    commitment = _shift(ctx, commitment_key(disbursement.commitment), Commitment, disbursed_fen=-amount)
    _shift(ctx, allocation_key(disbursement.allocation), Allocation, spent_fen=-amount)
    _shift(ctx, programme_key(disbursement.programme), Programme, spent_fen=-amount)
    _shift(ctx, year_key(year.year), FiscalYear, spent_fen=-amount)
    # A cancelled commitment keeps only what was paid: the returned money goes back to the allocation.
    released = amount if commitment.status == CANCELLED else 0
    if released:
        _shift(ctx, commitment_key(commitment.id), Commitment, amount_fen=-released)
        _release(ctx, commitment, released)
    ctx.emit(NAME, "disbursement_reversed", disbursement.programme, disbursement=disbursement.id, seq=disbursement.seq,
             commitment=disbursement.commitment, year=year.year, amount_fen=amount, released_fen=released,
             reason=args.reason)


# --- the rules shared by several actions ------------------------------------------------------------------

def _open_year(state: StateView, number: int, where: str) -> FiscalYear:
    year = existing_year(state, number, where)
    if year.status != OPEN:
        raise ModuleError("funds.year_closed", where=where, got=f"fiscal year {number}, closed at height "
                          f"{year.closed_at}", expected="an open fiscal year")
    return year


def _within_year_total(year: FiscalYear, increase: int) -> None:
    if year.appropriated_fen + increase > MAX_YEAR_TOTAL_FEN:
        raise ModuleError("funds.year_total_too_large", where="args.amount_fen", got=increase,
                          expected=f"at most {MAX_YEAR_TOTAL_FEN - year.appropriated_fen} fen more "
                                   f"appropriated in fiscal year {year.year} (at most {MAX_YEAR_TOTAL_FEN} in all)")


def _within_appropriation(appropriation: Appropriation, increase: int, where: str) -> None:
    free = appropriation.amount_fen - appropriation.allocated_fen
    if increase > free:
        raise ModuleError("funds.exceeds_appropriation", where=where, got=increase,
                          expected=f"at most {free} fen more, the unallocated part of appropriation "
                                   f"{appropriation.id} ({appropriation.amount_fen} appropriated, "
                                   f"{appropriation.allocated_fen} allocated)")


def _within_allocation(allocation: Allocation, increase: int, where: str) -> None:
    free = allocation.amount_fen - allocation.committed_fen
    if increase > free:
        raise ModuleError("funds.exceeds_allocation", where=where, got=increase,
                          expected=f"at most {free} fen more, the uncommitted part of allocation {allocation.id} "
                                   f"({allocation.amount_fen} allocated, {allocation.committed_fen} committed)")


def _change(old: int, new: int) -> int:
    if new == old:
        raise ModuleError("funds.no_change", where="args.amount_fen", got=new,
                          expected=f"an amount other than the current {old} fen")
    return new - old


def _open_commitment(ctx: Context, commitment_id: str) -> tuple[Commitment, FiscalYear]:
    """Load a commitment its department may still act on: in an open year, not cancelled."""
    commitment = existing_commitment(ctx.state, commitment_id, "args.commitment")
    year = _open_year(ctx.state, commitment.year, f"commitment {commitment_id}")
    if commitment.status == CANCELLED:
        raise ModuleError("funds.commitment_cancelled", where="args.commitment", got=commitment_id,
                          expected="a commitment not cancelled")
    return commitment, year


# --- moving totals: each level keeps the sums of the levels below it --------------------------------------

def _shift_allocated(ctx: Context, appropriation: Appropriation, programme: str, delta: int) -> None:
    _shift(ctx, appropriation_key(appropriation.id), Appropriation, allocated_fen=delta)
    _shift(ctx, programme_key(programme), Programme, budget_fen=delta)
    _shift(ctx, year_key(appropriation.year), FiscalYear, allocated_fen=delta)


def _release(ctx: Context, commitment: Commitment, amount: int) -> None:
    """Return `amount` fen of a commitment to its allocation."""
    _shift_committed(ctx, existing_allocation(ctx.state, commitment.allocation, f"commitment {commitment.id}"), -amount)


def _shift_committed(ctx: Context, allocation: Allocation, delta: int) -> None:
    _shift(ctx, allocation_key(allocation.id), Allocation, committed_fen=delta)
    _shift(ctx, programme_key(allocation.programme), Programme, committed_fen=delta)
    _shift(ctx, year_key(allocation.year), FiscalYear, committed_fen=delta)


def _shift(ctx: Context, key: bytes, kind: type, **deltas: int):
    """Add `deltas` to fields of the record under `key` (which exists: it is named by a record below it)."""
    record = ctx.load(key, kind)
    changed = msgspec.structs.replace(record, **{name: getattr(record, name) + d for name, d in deltas.items()})
    ctx.save(key, changed)
    return changed


# --- loading what an action names -------------------------------------------------------------------------

def _unused(ctx: Context, key: bytes, where: str, ref: str) -> None:
    if ctx.state.get(key) is not None:
        raise ModuleError("funds.id_taken", where=where, got=ref, expected="an id no record of this kind has used")


def _year_event_key(year: int) -> str:
    # Programme ids never contain "/", so year keys and programme keys of events cannot collide.
    return f"year/{year}"


MODULE = Module.of(NAME, [
    Action("open_year", OpenYear, apply_open_year, "Open a fiscal year with its approval threshold.", FINANCE),
    Action("close_year", CloseYear, apply_close_year, "Close a fiscal year whose commitments are settled.", FINANCE),
    Action("appropriate", Appropriate, apply_appropriate, "Record an appropriation from the budget.",
           FINANCE_ABOVE_THRESHOLD, appropriation_facts),
    Action("adjust_appropriation", AdjustAppropriation, apply_adjust_appropriation,
           "Change an appropriation's amount.", FINANCE_ABOVE_THRESHOLD, appropriation_change_facts),
    Action("create_programme", CreateProgramme, apply_create_programme, "Create a department's programme.", FINANCE),
    Action("allocate", Allocate, apply_allocate, "Allocate part of an appropriation to a programme.",
           FINANCE_ABOVE_THRESHOLD, allocation_facts),
    Action("adjust_allocation", AdjustAllocation, apply_adjust_allocation, "Change an allocation's amount.",
           FINANCE_ABOVE_THRESHOLD, allocation_change_facts),
    Action("commit", Commit, apply_commit, "Commit part of an allocation to a contract.",
           DEPARTMENT_ABOVE_THRESHOLD, commitment_facts),
    Action("adjust_commitment", AdjustCommitment, apply_adjust_commitment, "Amend a contract's amount.",
           DEPARTMENT_ABOVE_THRESHOLD, commitment_change_facts),
    Action("cancel_commitment", CancelCommitment, apply_cancel_commitment, "Cancel a contract's unpaid part.",
           DEPARTMENT, cancellation_facts),
    Action("disburse", Disburse, apply_disburse, "Pay a contract's payee against an invoice.",
           DEPARTMENT_ABOVE_THRESHOLD, payment_facts),
    Action("reverse_disbursement", ReverseDisbursement, apply_reverse_disbursement,
           "Record that a payment came back.", DEPARTMENT, reversal_facts),
])
