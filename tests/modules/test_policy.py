"""Endorsement policies: each rule shape, the error naming what is missing, and AtLeast against brute force."""

from __future__ import annotations

from itertools import permutations

import pytest
from hypothesis import given, settings, strategies as st

from civichain.modules import policy as policies
from civichain.modules.base import Sender
from civichain.modules.land import CorrectParcel, RegisterParcel
from civichain.modules.policy import (AboveThreshold, All, AnyOf, AtLeast, Facts, Member, OtherOrg, Party, Policy,
                                      PolicyError, Subjects, at_least, both, check_policy, either)

from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.landsupport import CLERK, REGISTRAR, LandChain, digest

LAND = Sender("land-bureau/registrar", "land-bureau", ("registrar",))
TAX = Sender("tax-bureau/clerk", "tax-bureau", ("clerk",))
COURT = Sender("court/judge", "court", ("judge",))
ALICE = Sender("citizens/alice", "citizens", ())
BOB = Sender("citizens/bob", "citizens", ())


def refused(policy, sender, endorsers=(), facts=Facts()) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        check_policy(policy, sender, endorsers, facts)
    return caught.value


def test_land_and_tax_needs_both_bureaus():
    policy = Policy(endorsement=both(Party(org="land-bureau"), Party(org="tax-bureau")))
    check_policy(policy, LAND, [TAX])
    error = refused(policy, LAND)
    assert error.code == "auth.missing_endorsement" and error.where == "endorsements"
    assert "missing an account of tax-bureau" in error.got
    assert error.expected == "an account of land-bureau AND an account of tax-bureau"


def test_two_of_three_counts_each_party_once():
    policy = Policy(endorsement=at_least(2, Party(org="land-bureau"), Party(org="tax-bureau"), Party(org="court")))
    check_policy(policy, LAND, [COURT])
    assert refused(policy, LAND).expected == "2 of {an account of land-bureau, an account of tax-bureau, an account of court}"
    # One party satisfying two rules still counts once.
    either_bureau = Party(role="registrar")
    assert refused(Policy(endorsement=at_least(2, either_bureau, Party(org="land-bureau"))), LAND)


def test_the_owners_must_all_sign():
    policy = Policy(endorsement=both(Subjects(), Party(org="land-bureau")))
    owners = Facts(subjects=frozenset({ALICE.id, BOB.id}))
    check_policy(policy, ALICE, [BOB, LAND], owners)
    error = refused(policy, ALICE, [LAND], owners)
    assert "citizens/bob" in error.got
    assert refused(Policy(endorsement=Subjects()), LAND, [], Facts()).code == "auth.missing_endorsement"
    check_policy(Policy(endorsement=Subjects(any_one=True)), BOB, [], owners)


def test_the_performer_rule_looks_at_the_sender_only():
    policy = Policy(performer=Party(org="land-bureau", role="registrar"))
    check_policy(policy, LAND)
    error = refused(policy, TAX, [LAND])
    assert error.code == "auth.not_permitted" and error.where == "sender"
    assert error.expected == "a registrar of land-bureau"
    check_policy(Policy(performer=either(Party(org="court"), Party(role="clerk"))), TAX)


def test_a_member_rule_names_the_organisation_the_action_concerns():
    policy = Policy(performer=Member(role="registrar"))
    check_policy(policy, LAND, facts=Facts(organisation="land-bureau"))
    error = refused(policy, LAND, facts=Facts(organisation="tax-bureau"))
    assert error.code == "auth.not_permitted" and error.expected == "a registrar of tax-bureau"
    assert refused(policy, LAND).expected == "a registrar of the organisation concerned"   # no organisation named
    assert Member(role="registrar").describe() == "a registrar of the organisation concerned"


def test_a_policy_may_keep_its_modules_own_refusal_code():
    error = refused(Policy(performer=Party(role="admin"), refusal="registry.not_admin"), TAX)
    assert (error.code, error.where, error.expected) == ("registry.not_admin", "sender", "an account with role admin")


def test_a_second_department_is_needed_only_above_the_threshold():
    policy = Policy(endorsement=AboveThreshold(either(OtherOrg(role="admin"), OtherOrg(role="clerk"))))
    small = Facts(amount=100, threshold=100, threshold_of="fiscal year 2026")
    large = small._replace(amount=101)
    check_policy(policy, LAND, [], small)
    check_policy(policy, LAND, [TAX], large)
    other_registrar = LAND._replace(id="land-bureau/second")
    error = refused(policy, LAND, [other_registrar, ALICE], large)
    assert error.code == "auth.missing_endorsement"
    assert error.expected == ("for 101 fen, above the threshold of 100 fen of fiscal year 2026: (an admin of an "
                              "organisation other than land-bureau OR a clerk of an organisation other than "
                              "land-bureau)")
    assert "missing an admin of an organisation other than land-bureau OR" in error.got
    assert policy.endorsement.describe() == ("above the amount's threshold: (an admin of an organisation other than "
                                             "the sender's OR a clerk of an organisation other than the sender's)")


PARTIES = [LAND, TAX, COURT, ALICE, BOB]
leaf_rules = st.sampled_from([Party(org="land-bureau"), Party(org="tax-bureau"), Party(org="court"),
                              Party(role="registrar"), Party(org="citizens"), Party()])


@settings(max_examples=400, deadline=None)
@given(st.lists(leaf_rules, min_size=1, max_size=4), st.integers(1, 4),
       st.lists(st.sampled_from(PARTIES), min_size=1, max_size=4, unique=True))
def test_at_least_agrees_with_brute_force(rules, count, parties):
    def matches(rule, party):
        return (not rule.org or party.organisation == rule.org) and (not rule.role or rule.role in party.roles)

    # Brute force: some choice of `count` rules and distinct parties, each rule matched by its party.
    expected = any(all(matches(rule, party) for rule, party in zip(chosen, assigned))
                   for chosen in permutations(rules, min(count, len(rules)))
                   for assigned in permutations(parties, len(chosen))) and count <= len(rules)
    policy = Policy(endorsement=AtLeast(count, tuple(rules)))
    try:
        check_policy(policy, parties[0], parties[1:])
        satisfied = True
    except PolicyError:
        satisfied = False
    assert satisfied == expected


def test_policies_are_data_with_one_encoding():
    import msgspec

    policy = Policy(performer=Member(role="admin"), endorsement=All((Subjects(), AnyOf((Party(org="court"),)),
                                                                     AboveThreshold(OtherOrg()))))
    encoded = msgspec.json.encode(policy)
    assert msgspec.json.decode(encoded, type=Policy) == policy


# --- the policies' codes, each produced by a real transaction -----------------------------------------------

SCENARIOS = Scenarios()


def correction(land_use: str = "commercial") -> CorrectParcel:
    return CorrectParcel(boundary=digest("survey P"), document=digest("judgment"), land_use=land_use,
                         location="Dongcheng District, block of P", parcel="P")


@SCENARIOS.of("auth.not_permitted")
def a_clerk_registers_a_parcel():
    chain = LandChain()
    return chain, chain.tx(CLERK, "register_parcel", RegisterParcel(area_dm2=1, boundary=digest("s"), id="P",
                                                                    land_use="residential", location="somewhere"))


@SCENARIOS.of("auth.missing_endorsement")
def a_correction_approved_by_one_authority():
    chain = LandChain()
    chain.register("P")
    return chain, chain.tx(REGISTRAR, "correct_parcel", correction())


def test_the_declared_codes_are_the_ones_policies_raise():
    check_declaration(policies.ERROR_CODES, "auth", "policy.py")


def test_every_policy_code_is_documented_with_its_number():
    check_documented(policies.ERROR_CODES, "policies.md")


def test_every_policy_code_has_a_scenario():
    check_scenarios(policies.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", policies.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)
