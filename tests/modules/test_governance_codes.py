"""Every governance code: declared once, raised by the module (membership's changes included), documented with
its number, and produced by a real transaction whose refusal changes nothing (see codesupport). The changes a
proposal makes are tried when it is made, so a change that could not execute refuses the proposal itself."""

from __future__ import annotations

import pytest

from civichain.modules import governance
from civichain.modules.governance import ChangeParam
from civichain.modules.membership import (AddOrganisation, AddValidator, AdmitObserver, ReinstateOrganisation,
                                          RemoveObserver, RemoveValidator, SuspendOrganisation)
from tests.conftest import make_signer
from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.govsupport import GovChain, node_id, validator_key

LAND, FINANCE, TAX = (make_signer(f"{org}/admin") for org in ("land-bureau", "finance-bureau", "tax-bureau"))
NEW_KEY, NEW_NODE = validator_key("new"), node_id("new")
SCENARIOS = Scenarios()


def proposed(kind: str, payload, chain: GovChain | None = None, **heights) -> tuple[GovChain, bytes]:
    """land-bureau's admin proposes `kind` on `chain` (three departments, each with a validator, by default)."""
    chain = chain or GovChain(3)
    return chain, chain.propose(LAND, kind, payload, **heights)


def add_validator(key: bytes = NEW_KEY, node: str = NEW_NODE, org: str = "land-bureau") -> AddValidator:
    return AddValidator(node_id=node, organisation=org, power=5, pub_key=key)


def add_court(admin: str = "court/admin") -> AddOrganisation:
    return AddOrganisation(admin_account=admin, admin_public_key=bytes(32), id="court", name_en="Court",
                           name_zh="法院")


def with_finance_suspended() -> GovChain:
    """land-bureau and finance-bureau, every organisation needed to pass; finance-bureau then suspended."""
    chain = GovChain(2, threshold=(1, 1))
    chain.block(chain.propose(LAND, "suspend_organisation", SuspendOrganisation(id="finance-bureau", reason="merged")))
    chain.block(chain.vote(FINANCE, 1))
    assert chain.proposal(1).status == governance.EXECUTED
    return chain


@SCENARIOS.of("governance.not_admin")
def a_clerk_proposes():
    chain = GovChain(3)
    return chain, chain.propose(chain.clerk, "add_validator", add_validator())


@SCENARIOS.of("governance.unknown_kind")
def a_proposal_of_no_known_kind():
    return proposed("no_such_kind", ChangeParam(name="x", value="y"))


@SCENARIOS.of("governance.bad_payload")
def a_proposal_whose_payload_is_of_another_kind():
    return proposed("add_validator", ChangeParam(name="x", value="y"))


@SCENARIOS.of("governance.bad_expiry")
def a_proposal_expiring_at_once():
    return proposed("add_validator", add_validator(), expires_at=1)


@SCENARIOS.of("governance.bad_execution_height")
def a_proposal_executing_at_its_own_height():
    return proposed("add_validator", add_validator(), execute_at=1)


@SCENARIOS.of("governance.unknown_proposal")
def a_vote_on_a_proposal_never_made():
    chain = GovChain(3)
    return chain, chain.vote(FINANCE, 99)


@SCENARIOS.of("governance.proposal_expired")
def a_vote_after_expiry():
    chain = GovChain(3)
    chain.block(chain.propose(LAND, "add_validator", add_validator(), expires_at=2))
    chain.blocks_until(3)
    return chain, chain.vote(FINANCE, 1)


@SCENARIOS.of("governance.proposal_closed")
def a_vote_on_a_proposal_passed():
    chain = GovChain(3)
    chain.block(chain.propose(LAND, "add_validator", add_validator()))
    chain.block(chain.vote(FINANCE, 1))
    return chain, chain.vote(TAX, 1)


@SCENARIOS.of("governance.not_eligible")
def a_vote_by_an_organisation_added_after_the_proposal():
    chain = GovChain(2)
    newcomer = make_signer("court/admin")
    chain.block(chain.propose(LAND, "add_validator", add_validator()))
    chain.block(chain.propose(LAND, "add_organisation", AddOrganisation(
        admin_account=newcomer.account, admin_public_key=newcomer.public_key, id="court", name_en="Court",
        name_zh="法院")))
    chain.block(chain.vote(FINANCE, 2))
    return chain, chain.vote(newcomer, 1)


@SCENARIOS.of("governance.already_voted")
def a_proposer_votes_again():
    chain = GovChain(3)
    chain.block(chain.propose(LAND, "add_validator", add_validator()))
    return chain, chain.vote(LAND, 1)


@SCENARIOS.of("governance.organisation_exists")
def an_organisation_added_twice():
    return proposed("add_organisation", AddOrganisation(admin_account="tax-bureau/boss", admin_public_key=bytes(32),
                                                        id="tax-bureau", name_en="Tax", name_zh="税务局"))


@SCENARIOS.of("governance.bad_account_id")
def a_new_organisations_admin_of_another_organisation():
    return proposed("add_organisation", add_court(admin="land-bureau/boss"))


@SCENARIOS.of("governance.account_exists")
def a_new_organisations_admin_account_already_taken():
    chain = GovChain(3)
    # Only a genesis could hold an account under a future organisation's id: plant one as a genesis would.
    chain.state[b"registry/account/court/admin"] = chain.state[b"registry/account/land-bureau/admin"]
    return proposed("add_organisation", add_court(), chain)


@SCENARIOS.of("governance.unknown_organisation")
def an_organisation_never_added_is_suspended():
    return proposed("suspend_organisation", SuspendOrganisation(id="nowhere", reason="r"))


@SCENARIOS.of("governance.already_suspended")
def an_organisation_suspended_twice():
    return proposed("suspend_organisation", SuspendOrganisation(id="finance-bureau", reason="again"),
                    with_finance_suspended())


@SCENARIOS.of("governance.not_suspended")
def an_active_organisation_reinstated():
    return proposed("reinstate_organisation", ReinstateOrganisation(id="tax-bureau"))


@SCENARIOS.of("governance.no_organisation_left")
def the_last_active_organisation_suspended():
    return proposed("suspend_organisation", SuspendOrganisation(id="land-bureau", reason="last"),
                    with_finance_suspended())


@SCENARIOS.of("governance.organisation_suspended")
def a_validator_for_a_suspended_organisation():
    return proposed("add_validator", add_validator(org="finance-bureau"), with_finance_suspended())


@SCENARIOS.of("governance.duplicate_validator")
def a_validator_added_twice():
    return proposed("add_validator", add_validator(key=validator_key("v1")))


@SCENARIOS.of("governance.unknown_validator")
def a_key_that_is_no_validators_removed():
    return proposed("remove_validator", RemoveValidator(pub_key=NEW_KEY))


@SCENARIOS.of("governance.no_validator_left")
def the_last_validator_removed():
    return proposed("remove_validator", RemoveValidator(pub_key=validator_key("v0")), GovChain(1))


@SCENARIOS.of("governance.duplicate_node")
def a_validators_node_admitted_as_an_observer():
    return proposed("admit_observer", AdmitObserver(node_id=node_id("v2"), operator="x"))


@SCENARIOS.of("governance.unknown_observer")
def a_node_that_is_no_observer_removed():
    return proposed("remove_observer", RemoveObserver(node_id=NEW_NODE))


@SCENARIOS.of("governance.unknown_param")
def a_parameter_governance_does_not_set():
    return proposed("change_param", ChangeParam(name="max_tx_bytes", value="100"))


@SCENARIOS.of("governance.bad_param")
def a_threshold_of_one_half():
    return proposed("change_param", ChangeParam(name="governance_threshold", value="1/2"))


def test_the_declared_codes_are_the_ones_governance_raises():
    check_declaration(governance.ERROR_CODES, "governance", "governance.py", "membership.py")


def test_every_governance_code_is_documented_with_its_number():
    check_documented(governance.ERROR_CODES, "governance.md")


def test_every_governance_code_has_a_scenario():
    check_scenarios(governance.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", governance.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)
