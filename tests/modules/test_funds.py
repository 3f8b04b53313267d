"""Public funds: every action, every refusal code (each changing nothing), and the threshold endorsement rule."""

from __future__ import annotations

import msgspec
import pytest

from civichain.codec import encode
from civichain.modules.funds import (
    AdjustAllocation,
    AdjustAppropriation,
    AdjustCommitment,
    Allocate,
    CancelCommitment,
    CloseYear,
    CreateProgramme,
    OpenYear,
    ReverseDisbursement,
)
from civichain.modules.funds_records import MAX_AMOUNT_FEN, MAX_YEAR_TOTAL_FEN, invoice_key, payment_key, year_key
from tests.modules.fundsupport import THRESHOLD, YEAR, FundsChain, digest


@pytest.fixture
def chain() -> FundsChain:
    return FundsChain()


def funded(**kw) -> FundsChain:
    chain = FundsChain()
    chain.setup(**kw)
    return chain


def events(receipt) -> list[tuple[str, str]]:
    return [(e.type, e.key) for e in receipt.events]


def attributes(receipt, index: int = 0) -> dict[str, str]:
    return {a.key: a.value for a in receipt.events[index].attributes}


# --- the whole way: appropriation → allocation → commitment → disbursement ------------------------------

def test_a_payment_traces_back_to_its_commitment_allocation_and_appropriation(chain):
    chain.ok(chain.finance, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR))
    appropriated = chain.ok(chain.finance, "appropriate", chain.appropriate_args("edu", 500_000_000), chain.auditor)
    assert events(appropriated) == [("appropriated", "year/2026")]
    chain.ok(chain.finance, "create_programme",
             CreateProgramme(department="land-bureau", programme="roads", title="Rural roads", year=YEAR))
    allocated = chain.ok(chain.finance, "allocate",
                         Allocate(allocation="a1", amount_fen=30_000_000, appropriation="edu", programme="roads"))
    assert events(allocated) == [("allocated", "roads")]
    committed = chain.ok(chain.land, "commit", chain.commit_args("c1", 20_000_000))
    assert events(committed) == [("committed", "roads")] and attributes(committed)["payee"] == "tax-bureau"
    paid = chain.ok(chain.land, "disburse", chain.disburse_args("d1", 12_345_678))
    assert events(paid) == [("disbursed", "roads")]
    assert attributes(paid)["invoice"] == digest("invoice d1").hex()

    payment = chain.disbursement("d1")
    assert (payment.commitment, payment.allocation, payment.appropriation, payment.programme, payment.year) == \
        ("c1", "a1", "edu", "roads", YEAR)
    assert payment.payee == "tax-bureau" and payment.seq == 1 and payment.contract == digest("contract c1")
    assert chain.state[payment_key("roads", 1)] == b"d1" and chain.state[invoice_key(digest("invoice d1"))] == b"d1"
    roads = chain.programme("roads")
    assert (roads.budget_fen, roads.committed_fen, roads.spent_fen, roads.payments) == \
        (30_000_000, 20_000_000, 12_345_678, 1)
    assert roads.remaining_fen == 10_000_000 and roads.unpaid_fen == 20_000_000 - 12_345_678
    year = chain.year()
    assert (year.appropriated_fen, year.allocated_fen, year.committed_fen, year.spent_fen) == \
        (500_000_000, 30_000_000, 20_000_000, 12_345_678)
    assert chain.appropriation("edu").allocated_fen == 30_000_000
    assert (chain.allocation("a1").committed_fen, chain.allocation("a1").spent_fen) == (20_000_000, 12_345_678)
    assert chain.commitment("c1").disbursed_fen == 12_345_678


def test_a_finance_officer_of_the_department_may_commit_and_pay():
    chain = funded()
    chain.ok(chain.officer, "commit", chain.commit_args("c1", 1_000))
    chain.ok(chain.officer, "disburse", chain.disburse_args("d1", 1_000))
    assert chain.programme("roads").spent_fen == 1_000


def test_a_budget_officer_of_the_finance_bureau_may_appropriate(chain):
    chain.ok(chain.budget_officer, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR))
    chain.ok(chain.budget_officer, "appropriate", chain.appropriate_args("edu", 1_000))


# --- fiscal years ---------------------------------------------------------------------------------------

def test_a_year_opens_once_with_its_threshold(chain):
    opened = chain.ok(chain.finance, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR))
    assert events(opened) == [("year_opened", "year/2026")]
    assert chain.year().threshold_fen == THRESHOLD and chain.year().status == "open"
    error = chain.refused("funds.year_exists", chain.finance, "open_year",
                          OpenYear(approval_threshold_fen=0, year=YEAR))
    assert error.where == "args.year"


def test_a_year_closes_once_its_commitments_are_paid_or_cancelled():
    chain = funded(committed=2_000, paid=500)
    error = chain.refused("funds.unsettled_commitments", chain.finance, "close_year", CloseYear(year=YEAR))
    assert error.got == "1500 fen committed and not paid"
    chain.ok(chain.land, "cancel_commitment", CancelCommitment(commitment="c1", reason="works finished early"))
    closed = chain.ok(chain.finance, "close_year", CloseYear(year=YEAR))
    assert events(closed) == [("year_closed", "year/2026")] and attributes(closed)["spent_fen"] == "500"
    assert chain.year().status == "closed" and chain.year().closed_at == chain.height
    chain.refused("funds.year_closed", chain.finance, "close_year", CloseYear(year=YEAR))


def test_nothing_of_a_closed_year_moves():
    chain = funded(committed=2_000, paid=2_000)
    chain.ok(chain.finance, "close_year", CloseYear(year=YEAR))
    refusals = [
        (chain.finance, "appropriate", chain.appropriate_args("more", 1)),
        (chain.finance, "adjust_appropriation", AdjustAppropriation(amount_fen=1, appropriation="edu",
                                                                    basis=digest("cut"), reason="cut")),
        (chain.finance, "create_programme", CreateProgramme(department="land-bureau", programme="p2", title="P",
                                                            year=YEAR)),
        (chain.finance, "allocate", Allocate(allocation="a2", amount_fen=1, appropriation="edu", programme="roads")),
        (chain.finance, "adjust_allocation", AdjustAllocation(allocation="a1", amount_fen=3_000, reason="more")),
        (chain.land, "commit", chain.commit_args("c2", 1)),
        (chain.land, "adjust_commitment", AdjustCommitment(amendment=digest("a"), amount_fen=3_000, commitment="c1",
                                                           reason="more")),
        (chain.land, "cancel_commitment", CancelCommitment(commitment="c1", reason="no")),
        (chain.land, "disburse", chain.disburse_args("d2", 1)),
        (chain.land, "reverse_disbursement", ReverseDisbursement(disbursement="d1", reason="returned")),
    ]
    for signer, action, args in refusals:
        error = chain.refused("funds.year_closed", signer, action, args)
        assert error.expected == "an open fiscal year", action


def test_an_unknown_year_is_named(chain):
    chain.refused("funds.unknown_year", chain.finance, "appropriate", chain.appropriate_args("edu", 1))
    chain.refused("funds.unknown_year", chain.finance, "close_year", CloseYear(year=YEAR))
    error = chain.refused("funds.unknown_year", chain.finance, "create_programme",
                          CreateProgramme(department="land-bureau", programme="roads", title="Roads", year=YEAR))
    assert error.got == str(YEAR)


# --- appropriations -------------------------------------------------------------------------------------

def test_an_appropriation_can_be_raised_or_cut_but_never_below_what_is_allocated():
    chain = funded(appropriated=90_000_000, allocated=50_000_000)
    raised = chain.ok(chain.finance, "adjust_appropriation",
                      AdjustAppropriation(amount_fen=95_000_000, appropriation="edu", basis=digest("supplementary"),
                                          reason="supplementary budget"))
    assert events(raised) == [("appropriation_adjusted", "year/2026")] and attributes(raised)["from_fen"] == "90000000"
    assert chain.appropriation("edu").basis == digest("supplementary")
    chain.ok(chain.finance, "adjust_appropriation", AdjustAppropriation(amount_fen=50_000_000, appropriation="edu",
                                                                        basis=digest("cut"), reason="cut"))
    assert chain.year().appropriated_fen == 50_000_000
    error = chain.refused("funds.below_allocated", chain.finance, "adjust_appropriation",
                          AdjustAppropriation(amount_fen=49_999_999, appropriation="edu", basis=digest("cut"),
                                              reason="cut"))
    assert "50000000 fen already allocated" in error.expected
    chain.refused("funds.no_change", chain.finance, "adjust_appropriation",
                  AdjustAppropriation(amount_fen=50_000_000, appropriation="edu", basis=digest("x"), reason="same"))
    chain.refused("funds.unknown_appropriation", chain.finance, "adjust_appropriation",
                  AdjustAppropriation(amount_fen=1, appropriation="nope", basis=digest("x"), reason="x"))


def test_appropriation_ids_are_used_once():
    chain = funded()
    error = chain.refused("funds.id_taken", chain.finance, "appropriate", chain.appropriate_args("edu", 1))
    assert error.where == "args.appropriation" and error.got == "edu"


def test_a_year_cannot_hold_more_than_its_total_limit():
    chain = funded()
    # A year whose appropriations already come close to the limit (written directly: reaching it takes 1,000
    # appropriations of the largest amount).
    nearly_full = msgspec.structs.replace(chain.year(), appropriated_fen=MAX_YEAR_TOTAL_FEN - 10)
    chain.state[year_key(YEAR)] = encode(nearly_full)
    chain.ok(chain.finance, "appropriate", chain.appropriate_args("last", 10))
    error = chain.refused("funds.year_total_too_large", chain.finance, "appropriate",
                          chain.appropriate_args("over", 1))
    assert "at most 0 fen more" in error.expected


# --- programmes and allocations -------------------------------------------------------------------------

def test_a_programme_belongs_to_an_organisation_of_the_network():
    chain = funded()
    chain.refused("funds.unknown_department", chain.finance, "create_programme",
                  CreateProgramme(department="ministry-of-magic", programme="p2", title="Wands", year=YEAR))
    chain.refused("funds.id_taken", chain.finance, "create_programme",
                  CreateProgramme(department="tax-bureau", programme="roads", title="Roads again", year=YEAR))
    created = chain.ok(chain.finance, "create_programme",
                       CreateProgramme(department="tax-bureau", programme="p2", title="Tax offices", year=YEAR))
    assert events(created) == [("programme_created", "p2")]
    assert chain.programme("p2").department == "tax-bureau"


def test_no_allocation_exceeds_its_appropriation():
    chain = funded(appropriated=90_000_000, allocated=60_000_000)
    error = chain.refused("funds.exceeds_appropriation", chain.finance, "allocate",
                          Allocate(allocation="a2", amount_fen=30_000_001, appropriation="edu", programme="roads"))
    assert error.where == "args.amount_fen" and error.got == "30000001"
    assert error.expected.startswith("at most 30000000 fen more, the unallocated part of appropriation edu")
    chain.ok(chain.finance, "allocate", Allocate(allocation="a2", amount_fen=30_000_000, appropriation="edu",
                                                 programme="roads"))
    assert chain.programme("roads").budget_fen == 90_000_000


def test_an_allocation_names_a_known_appropriation_and_programme_of_the_same_year():
    chain = funded()
    chain.refused("funds.unknown_appropriation", chain.finance, "allocate",
                  Allocate(allocation="a2", amount_fen=1, appropriation="nope", programme="roads"))
    chain.refused("funds.unknown_programme", chain.finance, "allocate",
                  Allocate(allocation="a2", amount_fen=1, appropriation="edu", programme="nope"))
    chain.refused("funds.id_taken", chain.finance, "allocate",
                  Allocate(allocation="a1", amount_fen=1, appropriation="edu", programme="roads"))
    chain.ok(chain.finance, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR + 1))
    chain.ok(chain.finance, "appropriate", chain.appropriate_args("next", 1_000, year=YEAR + 1))
    error = chain.refused("funds.year_mismatch", chain.finance, "allocate",
                          Allocate(allocation="a2", amount_fen=1, appropriation="next", programme="roads"))
    assert error.got == "a programme of 2026" and "of 2027" in error.expected


def test_an_allocation_can_grow_within_its_appropriation_and_shrink_to_what_is_committed():
    chain = funded(appropriated=90_000_000, allocated=50_000_000, committed=20_000_000)
    adjusted = chain.ok(chain.finance, "adjust_allocation",
                        AdjustAllocation(allocation="a1", amount_fen=90_000_000, reason="second half"))
    assert events(adjusted) == [("allocation_adjusted", "roads")]
    assert (chain.programme("roads").budget_fen, chain.appropriation("edu").allocated_fen) == (90_000_000, 90_000_000)
    chain.refused("funds.exceeds_appropriation", chain.finance, "adjust_allocation",
                  AdjustAllocation(allocation="a1", amount_fen=90_000_001, reason="more"))
    error = chain.refused("funds.below_committed", chain.finance, "adjust_allocation",
                          AdjustAllocation(allocation="a1", amount_fen=19_999_999, reason="cut"))
    assert "20000000 fen already committed" in error.expected
    chain.ok(chain.finance, "adjust_allocation", AdjustAllocation(allocation="a1", amount_fen=20_000_000, reason="cut"))
    assert chain.year().allocated_fen == 20_000_000
    chain.refused("funds.no_change", chain.finance, "adjust_allocation",
                  AdjustAllocation(allocation="a1", amount_fen=20_000_000, reason="same"))
    chain.refused("funds.unknown_allocation", chain.finance, "adjust_allocation",
                  AdjustAllocation(allocation="nope", amount_fen=1, reason="x"))


# --- commitments ----------------------------------------------------------------------------------------

def test_no_commitment_exceeds_its_allocation():
    chain = funded(allocated=50_000_000, committed=30_000_000)
    error = chain.refused("funds.exceeds_allocation", chain.land, "commit", chain.commit_args("c2", 20_000_001))
    assert error.expected.startswith("at most 20000000 fen more, the uncommitted part of allocation a1")
    chain.ok(chain.land, "commit", chain.commit_args("c2", 20_000_000))
    assert chain.allocation("a1").committed_fen == 50_000_000


def test_only_the_programmes_department_commits_its_money():
    chain = funded()
    error = chain.refused("auth.not_permitted", chain.tax, "commit", chain.commit_args("c1", 1))
    assert error.where == "sender" and error.got == "tax-bureau/admin (tax-bureau)"
    assert error.expected == "an admin of land-bureau OR a finance_officer of land-bureau"
    # A clerk of the right department lacks the role.
    error = chain.refused("auth.not_permitted", chain.clerk, "commit", chain.commit_args("c1", 1))
    assert error.expected == "an admin of land-bureau OR a finance_officer of land-bureau"


def test_only_the_finance_bureau_manages_budgets():
    chain = funded()
    error = chain.refused("auth.not_permitted", chain.land, "allocate",
                          Allocate(allocation="a2", amount_fen=1, appropriation="edu", programme="roads"))
    assert error.expected == "an admin of finance-bureau OR a budget_officer of finance-bureau"
    chain.refused("auth.not_permitted", chain.land, "open_year", OpenYear(approval_threshold_fen=0, year=YEAR + 1))


def test_a_commitment_names_a_known_allocation_and_payee():
    chain = funded(committed=1_000)
    chain.refused("funds.unknown_allocation", chain.land, "commit", chain.commit_args("c2", 1, allocation="nope"))
    error = chain.refused("funds.unknown_payee", chain.land, "commit", chain.commit_args("c2", 1, payee="zhang-san"))
    assert "never a person's name" in error.expected
    chain.refused("funds.id_taken", chain.land, "commit", chain.commit_args("c1", 1))
    chain.ok(chain.land, "commit", chain.commit_args("c2", 1, payee="civil-affairs/admin"))   # an account id


def test_a_commitment_is_amended_within_its_allocation_and_never_below_what_is_paid():
    chain = funded(allocated=50_000_000, committed=30_000_000, paid=10_000_000)
    amended = chain.ok(chain.land, "adjust_commitment", AdjustCommitment(
        amendment=digest("amendment 1"), amount_fen=50_000_000, commitment="c1", reason="extra works"))
    assert events(amended) == [("commitment_adjusted", "roads")]
    assert chain.commitment("c1").amendment == digest("amendment 1")
    assert chain.commitment("c1").contract == digest("contract c1")
    chain.refused("funds.exceeds_allocation", chain.land, "adjust_commitment", AdjustCommitment(
        amendment=digest("amendment 2"), amount_fen=50_000_001, commitment="c1", reason="more"))
    error = chain.refused("funds.below_disbursed", chain.land, "adjust_commitment", AdjustCommitment(
        amendment=digest("amendment 2"), amount_fen=9_999_999, commitment="c1", reason="less"))
    assert "10000000 fen already paid" in error.expected
    chain.refused("funds.no_change", chain.land, "adjust_commitment", AdjustCommitment(
        amendment=digest("amendment 2"), amount_fen=50_000_000, commitment="c1", reason="same"))
    chain.refused("funds.unknown_commitment", chain.land, "adjust_commitment", AdjustCommitment(
        amendment=digest("amendment 2"), amount_fen=1, commitment="nope", reason="x"))
    chain.refused("auth.not_permitted", chain.tax, "adjust_commitment", AdjustCommitment(
        amendment=digest("amendment 2"), amount_fen=40_000_000, commitment="c1", reason="x"))


def test_cancelling_a_commitment_returns_its_unpaid_part_to_the_allocation():
    chain = funded(allocated=50_000_000, committed=30_000_000, paid=10_000_000)
    cancelled = chain.ok(chain.land, "cancel_commitment", CancelCommitment(commitment="c1", reason="contractor left"))
    assert events(cancelled) == [("commitment_cancelled", "roads")]
    assert attributes(cancelled)["released_fen"] == "20000000"
    commitment = chain.commitment("c1")
    assert (commitment.status, commitment.amount_fen, commitment.disbursed_fen) == ("cancelled", 10_000_000, 10_000_000)
    assert chain.allocation("a1").committed_fen == chain.programme("roads").committed_fen == 10_000_000
    for action, args in [
        ("cancel_commitment", CancelCommitment(commitment="c1", reason="again")),
        ("disburse", chain.disburse_args("d2", 1)),
        ("adjust_commitment", AdjustCommitment(amendment=digest("a"), amount_fen=20_000_000, commitment="c1",
                                               reason="revive")),
    ]:
        chain.refused("funds.commitment_cancelled", chain.land, action, args)
    chain.refused("funds.unknown_commitment", chain.land, "cancel_commitment",
                  CancelCommitment(commitment="nope", reason="x"))


# --- disbursements --------------------------------------------------------------------------------------

def test_no_disbursement_exceeds_what_is_committed_and_unpaid():
    chain = funded(committed=3_000, paid=1_000)
    error = chain.refused("funds.exceeds_commitment", chain.land, "disburse", chain.disburse_args("d2", 2_001))
    assert error.where == "args.amount_fen" and error.got == "2001"
    assert error.expected == "at most 2000 fen, the unpaid part of commitment c1 (3000 committed, 1000 paid)"
    chain.ok(chain.land, "disburse", chain.disburse_args("d2", 2_000))
    chain.refused("funds.exceeds_commitment", chain.land, "disburse", chain.disburse_args("d3", 1))
    assert chain.programme("roads").payments == 2 and chain.disbursement("d2").seq == 2


def test_a_disbursement_quotes_its_contract_and_an_unpaid_invoice():
    chain = funded(committed=3_000, paid=1_000)
    wrong = msgspec.structs.replace(chain.disburse_args("d2", 1), contract=digest("another contract"))
    error = chain.refused("funds.contract_mismatch", chain.land, "disburse", wrong)
    assert error.expected.startswith(digest("contract c1").hex())
    twice = msgspec.structs.replace(chain.disburse_args("d2", 1), invoice=digest("invoice d1"))
    error = chain.refused("funds.invoice_already_paid", chain.land, "disburse", twice)
    assert "disbursement d1 paid it" in error.expected
    chain.refused("funds.id_taken", chain.land, "disburse", chain.disburse_args("d1", 1))
    chain.refused("funds.unknown_commitment", chain.land, "disburse", chain.disburse_args("d2", 1, commitment="nope"))
    chain.refused("auth.not_permitted", chain.civil, "disburse", chain.disburse_args("d2", 1))


def test_a_reversed_payment_is_payable_again_and_its_invoice_free():
    chain = funded(committed=3_000, paid=1_000)
    reversed_ = chain.ok(chain.land, "reverse_disbursement", ReverseDisbursement(disbursement="d1",
                                                                                reason="bank returned it"))
    assert events(reversed_) == [("disbursement_reversed", "roads")]
    assert chain.disbursement("d1").reversed_at == chain.height
    assert chain.commitment("c1").disbursed_fen == chain.programme("roads").spent_fen == chain.year().spent_fen == 0
    assert invoice_key(digest("invoice d1")) not in chain.state
    again = msgspec.structs.replace(chain.disburse_args("d2", 3_000), invoice=digest("invoice d1"))
    chain.ok(chain.land, "disburse", again)
    assert chain.programme("roads").payments == 2 and chain.programme("roads").spent_fen == 3_000
    error = chain.refused("funds.already_reversed", chain.land, "reverse_disbursement",
                          ReverseDisbursement(disbursement="d1", reason="again"))
    assert "at height" in error.expected
    chain.refused("funds.unknown_disbursement", chain.land, "reverse_disbursement",
                  ReverseDisbursement(disbursement="nope", reason="x"))
    chain.refused("auth.not_permitted", chain.tax, "reverse_disbursement",
                  ReverseDisbursement(disbursement="d2", reason="x"))


def test_a_payment_returned_under_a_cancelled_commitment_goes_back_to_the_allocation():
    chain = funded(allocated=5_000, committed=3_000, paid=1_000)
    chain.ok(chain.land, "cancel_commitment", CancelCommitment(commitment="c1", reason="stopped"))
    chain.ok(chain.land, "reverse_disbursement", ReverseDisbursement(disbursement="d1", reason="refund"))
    commitment = chain.commitment("c1")
    assert (commitment.amount_fen, commitment.disbursed_fen) == (0, 0)
    assert chain.allocation("a1").committed_fen == chain.programme("roads").committed_fen == 0
    assert chain.year().committed_fen == 0
    chain.ok(chain.land, "commit", chain.commit_args("c2", 5_000))


# --- the threshold: a second department's endorsement -----------------------------------------------------

@pytest.mark.parametrize("action", ["appropriate", "allocate", "commit", "disburse"])
def test_a_movement_above_the_threshold_needs_a_second_department(action):
    chain = funded(appropriated=1_000_000_000, allocated=400_000_000, committed=200_000_000)
    big = THRESHOLD + 1
    signer, args = {
        "appropriate": (chain.finance, chain.appropriate_args("big", big)),
        "allocate": (chain.finance, Allocate(allocation="big", amount_fen=big, appropriation="edu", programme="roads")),
        "commit": (chain.land, chain.commit_args("big", big)),
        "disburse": (chain.land, chain.disburse_args("big", big)),
    }[action]
    error = chain.refused("auth.missing_endorsement", signer, action, args)
    assert error.where == "endorsements"
    assert error.expected.startswith(f"for {big} fen, above the threshold of {THRESHOLD} fen of fiscal year 2026: ")
    assert "missing an admin of an organisation other than" in error.got
    # Endorsements that do not count: the sender's own organisation, or another's clerk.
    own = chain.budget_officer if signer is chain.finance else chain.officer
    chain.refused("auth.missing_endorsement", signer, action, args, own)
    chain.refused("auth.missing_endorsement", signer, action, args, chain.tax_clerk)
    chain.ok(signer, action, args, chain.civil)


def test_the_threshold_itself_needs_no_endorsement_and_increases_above_it_do():
    chain = funded(appropriated=1_000_000_000, allocated=THRESHOLD)     # exactly the threshold: not endorsed
    grow = AdjustAllocation(allocation="a1", amount_fen=THRESHOLD + 1, reason="more")
    chain.refused("auth.missing_endorsement", chain.finance, "adjust_allocation", grow)
    chain.ok(chain.finance, "adjust_allocation", grow, chain.auditor)
    chain.ok(chain.land, "commit", chain.commit_args("c1", THRESHOLD))
    amend = AdjustCommitment(amendment=digest("x"), amount_fen=THRESHOLD + 1, commitment="c1", reason="more")
    chain.refused("auth.missing_endorsement", chain.land, "adjust_commitment", amend)
    chain.ok(chain.land, "adjust_commitment", amend, chain.tax)
    raise_ = AdjustAppropriation(amount_fen=1_000_000_001, appropriation="edu", basis=digest("s"), reason="more")
    chain.refused("auth.missing_endorsement", chain.finance, "adjust_appropriation", raise_)
    chain.ok(chain.finance, "adjust_appropriation", raise_, chain.civil)
    # Decreases never need one, however large.
    chain.ok(chain.land, "adjust_commitment", AdjustCommitment(amendment=digest("y"), amount_fen=5, commitment="c1",
                                                               reason="less"))
    chain.ok(chain.finance, "adjust_allocation", AdjustAllocation(allocation="a1", amount_fen=5, reason="cut"))
    assert chain.programme("roads").budget_fen == chain.programme("roads").committed_fen == 5


def test_amounts_are_whole_positive_fen_within_bounds(chain):
    chain.ok(chain.finance, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR))
    for amount in (0, -5, 1.5, MAX_AMOUNT_FEN + 1, True):
        before = chain.snapshot_without_nonces()
        [receipt] = chain.block(chain.tx(chain.finance, "funds", "appropriate",
                                         chain.appropriate_args("edu", amount))).receipts
        assert receipt.code == "tx.bad_arguments", amount
        assert chain.snapshot_without_nonces() == before
