"""Every notary code: declared once, raised by the module, documented with its number, and produced by a real
transaction whose refusal changes nothing (see codesupport)."""

from __future__ import annotations

import hashlib

import pytest

from civichain.modules import notary
from civichain.modules.notary import Anchor, Revoke
from tests.conftest import make_signer
from tests.modules.chainsupport import refused
from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.govsupport import GovChain

LAND_ADMIN, CLERK = make_signer("land-bureau/admin"), make_signer("land-bureau/clerk")
DEED = hashlib.sha256(b"a deed").digest()
SCENARIOS = Scenarios()


def chain_with(*setup) -> GovChain:
    """land-bureau (an admin, who may notarize, and a clerk) and finance-bureau, after `setup` ((action, args) sent
    by the land-bureau admin, in turn)."""
    chain = GovChain(2)
    for action, args in setup:
        assert chain.block(chain.tx(LAND_ADMIN, "notary", action, args)).receipts[0].code == "ok"
    return chain


def anchor(digest: bytes = DEED) -> Anchor:
    return Anchor(digest=digest, title="Deed")


def revoke(digest: bytes = DEED) -> Revoke:
    return Revoke(digest=digest, reason="issued in error")


@SCENARIOS.of("notary.not_permitted")
def a_clerk_anchors():
    chain = chain_with()
    return chain, chain.tx(CLERK, "notary", "anchor", anchor())


@SCENARIOS.of("notary.already_anchored")
def a_digest_anchored_twice():
    chain = chain_with(("anchor", anchor()))
    return chain, chain.tx(LAND_ADMIN, "notary", "anchor", anchor())


@SCENARIOS.of("notary.not_found")
def a_digest_never_anchored_is_revoked():
    chain = chain_with()
    return chain, chain.tx(LAND_ADMIN, "notary", "revoke", revoke())


@SCENARIOS.of("notary.already_revoked")
def a_notarization_revoked_twice():
    chain = chain_with(("anchor", anchor()), ("revoke", revoke()))
    return chain, chain.tx(LAND_ADMIN, "notary", "revoke", revoke())


def test_the_declared_codes_are_the_ones_the_notary_raises():
    check_declaration(notary.ERROR_CODES, "notary", "notary.py")


def test_every_notary_code_is_documented_with_its_number():
    check_documented(notary.ERROR_CODES, "notary.md")


def test_every_notary_code_has_a_scenario():
    check_scenarios(notary.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", notary.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)


def test_only_the_issuing_organisations_notaries_revoke():
    chain = chain_with(("anchor", anchor()))
    receipt = refused(chain, chain.tx(make_signer("finance-bureau/admin"), "notary", "revoke", revoke()),
                      "notary.not_permitted")
    assert receipt.expected == "a notary of land-bureau OR an admin of land-bureau"
    assert chain.block(chain.tx(LAND_ADMIN, "notary", "revoke", revoke())).receipts[0].code == "ok"
