"""Every funds code: declared once, raised by the module, documented with its number, and produced by a real
transaction whose refusal changes nothing (see codesupport)."""

from __future__ import annotations

import msgspec
import pytest

from civichain.codec import encode
from civichain.modules import funds
from civichain.modules.funds import (AdjustAllocation, AdjustAppropriation, AdjustCommitment, Allocate,
                                     CancelCommitment, CloseYear, CreateProgramme, OpenYear, ReverseDisbursement)
from civichain.modules.funds_records import MAX_YEAR_TOTAL_FEN, year_key
from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.fundsupport import THRESHOLD, YEAR, FundsChain, digest

SCENARIOS = Scenarios()


def funded(**amounts: int) -> FundsChain:
    """Year 2026, appropriation `edu`, programme `roads` of land-bureau and allocation `a1` (fundsupport's set-up)."""
    chain = FundsChain()
    chain.setup(**amounts)
    return chain


def by_finance(chain: FundsChain, action: str, args) -> tuple[FundsChain, bytes]:
    return chain, chain.tx(chain.finance, "funds", action, args)


def by_land(chain: FundsChain, action: str, args) -> tuple[FundsChain, bytes]:
    return chain, chain.tx(chain.land, "funds", action, args)


@SCENARIOS.of("funds.year_exists")
def a_year_opened_twice():
    return by_finance(funded(), "open_year", OpenYear(approval_threshold_fen=0, year=YEAR))


@SCENARIOS.of("funds.unknown_year")
def an_appropriation_of_a_year_never_opened():
    return by_finance(funded(), "appropriate", FundsChain.appropriate_args("later", 1, year=YEAR + 4))


@SCENARIOS.of("funds.year_closed")
def an_appropriation_of_a_closed_year():
    chain = funded()
    chain.ok(chain.finance, "close_year", CloseYear(year=YEAR))
    return by_finance(chain, "appropriate", FundsChain.appropriate_args("late", 1))


@SCENARIOS.of("funds.unsettled_commitments")
def a_year_closed_with_a_contract_unpaid():
    return by_finance(funded(committed=1_000), "close_year", CloseYear(year=YEAR))


@SCENARIOS.of("funds.id_taken")
def an_appropriation_id_used_twice():
    return by_finance(funded(), "appropriate", FundsChain.appropriate_args("edu", 1))


@SCENARIOS.of("funds.unknown_appropriation")
def an_allocation_from_an_appropriation_never_made():
    return by_finance(funded(), "allocate", Allocate(allocation="a2", amount_fen=1, appropriation="nope",
                                                     programme="roads"))


@SCENARIOS.of("funds.unknown_programme")
def an_allocation_to_a_programme_never_created():
    return by_finance(funded(), "allocate", Allocate(allocation="a2", amount_fen=1, appropriation="edu",
                                                     programme="nope"))


@SCENARIOS.of("funds.unknown_allocation")
def a_commitment_of_an_allocation_never_made():
    return by_land(funded(), "commit", FundsChain.commit_args("c1", 1, allocation="nope"))


@SCENARIOS.of("funds.unknown_commitment")
def a_payment_under_a_contract_never_committed():
    return by_land(funded(), "disburse", FundsChain.disburse_args("d1", 1, commitment="nope"))


@SCENARIOS.of("funds.unknown_disbursement")
def a_payment_never_made_is_reversed():
    return by_land(funded(), "reverse_disbursement", ReverseDisbursement(disbursement="nope", reason="r"))


@SCENARIOS.of("funds.unknown_department")
def a_programme_of_an_organisation_the_network_lacks():
    return by_finance(funded(), "create_programme", CreateProgramme(department="nowhere", programme="p2", title="t",
                                                                    year=YEAR))


@SCENARIOS.of("funds.unknown_payee")
def a_contract_with_a_persons_name():
    return by_land(funded(), "commit", FundsChain.commit_args("c1", 1, payee="zhang-san"))


@SCENARIOS.of("funds.year_mismatch")
def an_allocation_to_a_programme_of_another_year():
    chain = funded()
    chain.ok(chain.finance, "open_year", OpenYear(approval_threshold_fen=THRESHOLD, year=YEAR + 1))
    chain.ok(chain.finance, "create_programme", CreateProgramme(department="land-bureau", programme="next",
                                                                title="t", year=YEAR + 1))
    return by_finance(chain, "allocate", Allocate(allocation="a2", amount_fen=1, appropriation="edu", programme="next"))


@SCENARIOS.of("funds.exceeds_appropriation")
def an_allocation_beyond_the_unallocated_part():
    return by_finance(funded(appropriated=60_000_000, allocated=50_000_000), "allocate",
                      Allocate(allocation="a2", amount_fen=10_000_001, appropriation="edu", programme="roads"))


@SCENARIOS.of("funds.exceeds_allocation")
def a_commitment_beyond_the_uncommitted_part():
    return by_land(funded(allocated=50_000_000, committed=30_000_000), "commit",
                   FundsChain.commit_args("c2", 20_000_001))


@SCENARIOS.of("funds.exceeds_commitment")
def a_payment_beyond_the_unpaid_part():
    return by_land(funded(committed=1_000, paid=1_000), "disburse", FundsChain.disburse_args("d2", 1))


@SCENARIOS.of("funds.below_allocated")
def an_appropriation_cut_below_its_allocations():
    return by_finance(funded(), "adjust_appropriation", AdjustAppropriation(
        amount_fen=49_999_999, appropriation="edu", basis=digest("cut"), reason="cut"))


@SCENARIOS.of("funds.below_committed")
def an_allocation_cut_below_its_commitments():
    return by_finance(funded(committed=1_000), "adjust_allocation",
                      AdjustAllocation(allocation="a1", amount_fen=999, reason="cut"))


@SCENARIOS.of("funds.below_disbursed")
def a_contract_amended_below_what_is_paid():
    return by_land(funded(committed=1_000, paid=600), "adjust_commitment",
                   AdjustCommitment(amendment=digest("less"), amount_fen=599, commitment="c1", reason="less"))


@SCENARIOS.of("funds.no_change")
def an_allocation_adjusted_to_its_amount():
    return by_finance(funded(allocated=50_000_000), "adjust_allocation",
                      AdjustAllocation(allocation="a1", amount_fen=50_000_000, reason="same"))


@SCENARIOS.of("funds.commitment_cancelled")
def a_payment_under_a_cancelled_contract():
    chain = funded(committed=1_000)
    chain.ok(chain.land, "cancel_commitment", CancelCommitment(commitment="c1", reason="contractor left"))
    return by_land(chain, "disburse", FundsChain.disburse_args("d1", 1))


@SCENARIOS.of("funds.contract_mismatch")
def a_payment_quoting_another_contract():
    args = msgspec.structs.replace(FundsChain.disburse_args("d1", 1), contract=digest("another contract"))
    return by_land(funded(committed=1_000), "disburse", args)


@SCENARIOS.of("funds.invoice_already_paid")
def an_invoice_paid_twice():
    args = msgspec.structs.replace(FundsChain.disburse_args("d2", 1), invoice=digest("invoice d1"))
    return by_land(funded(committed=1_000, paid=1), "disburse", args)


@SCENARIOS.of("funds.already_reversed")
def a_payment_reversed_twice():
    chain = funded(committed=1_000, paid=1)
    reverse = ReverseDisbursement(disbursement="d1", reason="returned")
    chain.ok(chain.land, "reverse_disbursement", reverse)
    return by_land(chain, "reverse_disbursement", reverse)


@SCENARIOS.of("funds.year_total_too_large")
def a_year_appropriated_beyond_its_total_limit():
    chain = funded()
    # Reaching the limit takes 1,000 appropriations of the largest amount: write a nearly full year directly.
    nearly_full = msgspec.structs.replace(chain.year(), appropriated_fen=MAX_YEAR_TOTAL_FEN - 10)
    chain.state[year_key(YEAR)] = encode(nearly_full)
    return by_finance(chain, "appropriate", FundsChain.appropriate_args("last", 11))


def test_the_declared_codes_are_the_ones_funds_raises():
    check_declaration(funds.ERROR_CODES, "funds", "funds.py", "funds_records.py", "funds_policy.py")


def test_every_funds_code_is_documented_with_its_number():
    check_documented(funds.ERROR_CODES, "funds.md")


def test_every_funds_code_has_a_scenario():
    check_scenarios(funds.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", funds.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)
