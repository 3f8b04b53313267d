"""Endorsement policies: each rule shape, the error naming what is missing, and AtLeast against brute force."""

from __future__ import annotations

from itertools import permutations

import pytest
from hypothesis import given, settings, strategies as st

from civichain.modules.base import Sender
from civichain.modules.policy import (All, AnyOf, AtLeast, Party, Policy, PolicyError, Subjects, at_least, both,
                                      check_policy, either)

LAND = Sender("land-bureau/registrar", "land-bureau", ("registrar",))
TAX = Sender("tax-bureau/clerk", "tax-bureau", ("clerk",))
COURT = Sender("court/judge", "court", ("judge",))
ALICE = Sender("citizens/alice", "citizens", ())
BOB = Sender("citizens/bob", "citizens", ())


def refused(policy, sender, endorsers=(), subjects=frozenset()) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        check_policy(policy, sender, endorsers, subjects)
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
    owners = frozenset({ALICE.id, BOB.id})
    check_policy(policy, ALICE, [BOB, LAND], owners)
    error = refused(policy, ALICE, [LAND], owners)
    assert "citizens/bob" in error.got
    assert refused(Policy(endorsement=Subjects()), LAND, [], frozenset()).code == "auth.missing_endorsement"
    check_policy(Policy(endorsement=Subjects(any_one=True)), BOB, [], owners)


def test_the_performer_rule_looks_at_the_sender_only():
    policy = Policy(performer=Party(org="land-bureau", role="registrar"))
    check_policy(policy, LAND)
    error = refused(policy, TAX, [LAND])
    assert error.code == "auth.not_permitted" and error.where == "sender"
    assert error.expected == "a registrar of land-bureau"
    check_policy(Policy(performer=either(Party(org="court"), Party(role="clerk"))), TAX)


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

    policy = Policy(performer=Party(org="land-bureau"), endorsement=All((Subjects(), AnyOf((Party(org="court"),)))))
    encoded = msgspec.json.encode(policy)
    assert msgspec.json.decode(encoded, type=Policy) == policy
