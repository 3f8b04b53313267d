"""Every land code: declared once, raised by the module, documented with its number, and produced by a real
transaction whose refusal changes nothing (see codesupport)."""

from __future__ import annotations

import pytest

from civichain.modules import land
from civichain.modules.land import (AddEncumbrance, ChildParcel, FreezeParcel, IssueTitle, Merge, ReleaseEncumbrance,
                                    Subdivide, Transfer)
from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.landsupport import ALICE, BANK, BOB, JUDGE, REGISTRAR, TAX, LandChain, digest, owners, sole

SCENARIOS = Scenarios()


def titled(*parcels: str, shares=None, land_use: str = "residential") -> LandChain:
    """A chain where each of `parcels` (100,000 dm²) has a first title, to Alice alone unless `shares` says."""
    chain = LandChain()
    for parcel in parcels:
        chain.titled(parcel, shares, land_use=land_use)
    return chain


def issue(chain: LandChain, parcel: str, shares) -> bytes:
    return chain.tx(REGISTRAR, "issue_title", IssueTitle(deed=digest("deed"), owners=shares, parcel=parcel))


def sale(chain: LandChain, parcel: str, shares, title: int = 1, endorsers=(ALICE, BOB, TAX)) -> bytes:
    return chain.tx(REGISTRAR, "transfer", Transfer(deed=digest("contract"), owners=shares, parcel=parcel, title=title),
                    endorsers)


def court_order(parcel: str, case: str = "case-1") -> FreezeParcel:
    return FreezeParcel(case=case, order=digest(case), parcel=parcel)


def mortgage(parcel: str) -> AddEncumbrance:
    return AddEncumbrance(amount_fen=1_000, blocking=True, document=digest("mortgage"), holder=BANK, kind="mortgage",
                          parcel=parcel)


def halves(parent: str, first: int, second: int) -> Subdivide:
    parts = tuple(ChildParcel(area_dm2=area, boundary=digest(f"{parent}-{i}"), id=f"{parent}-{i}", location="part")
                  for i, area in enumerate((first, second)))
    return Subdivide(children=parts, document=digest("plan"), parcel=parent)


def merger(*parcels: str, area: int = 200_000) -> Merge:
    return Merge(area_dm2=area, boundary=digest("merged"), document=digest("merger"), id="M", location="merged",
                 parcels=parcels)


@SCENARIOS.of("land.parcel_exists")
def a_parcel_registered_twice():
    chain = LandChain()
    chain.register("Q")
    return chain, chain.tx(REGISTRAR, "register_parcel", land.RegisterParcel(
        area_dm2=1, boundary=digest("again"), id="Q", land_use="residential", location="again"))


@SCENARIOS.of("land.unknown_parcel")
def a_title_for_a_parcel_never_registered():
    chain = LandChain()
    return chain, issue(chain, "nowhere", sole(ALICE))


@SCENARIOS.of("land.parcel_retired")
def a_court_freezes_a_subdivided_parcel():
    chain = titled("P")
    chain.ok(REGISTRAR, "subdivide", halves("P", 50_000, 50_000), (ALICE,))
    return chain, chain.tx(JUDGE, "freeze", court_order("P"))


@SCENARIOS.of("land.title_exists")
def a_first_title_issued_twice():
    chain = titled("P")
    return chain, issue(chain, "P", sole(BOB))


@SCENARIOS.of("land.no_title")
def a_parcel_without_a_title_is_sold():
    chain = LandChain()
    chain.register("P")
    return chain, sale(chain, "P", sole(BOB))


@SCENARIOS.of("land.stale_title")
def a_sale_of_a_title_no_longer_current():
    chain = titled("P")
    return chain, sale(chain, "P", sole(BOB), title=2)


@SCENARIOS.of("land.duplicate_owner")
def an_owner_named_twice():
    chain = LandChain()
    chain.register("P")
    return chain, issue(chain, "P", owners((ALICE, 1, 2), (ALICE, 1, 2)))


@SCENARIOS.of("land.bad_share")
def a_share_not_reduced():
    chain = LandChain()
    chain.register("P")
    return chain, issue(chain, "P", owners((ALICE, 2, 4), (BOB, 1, 2)))


@SCENARIOS.of("land.shares_not_whole")
def shares_summing_to_five_sixths():
    chain = LandChain()
    chain.register("P")
    return chain, issue(chain, "P", owners((ALICE, 1, 2), (BOB, 1, 3)))


@SCENARIOS.of("land.unknown_account")
def an_owner_never_registered():
    chain = LandChain()
    chain.register("P")
    return chain, issue(chain, "P", sole("residents/nobody"))


@SCENARIOS.of("land.no_change")
def a_sale_to_the_same_owner():
    chain = titled("P")
    return chain, sale(chain, "P", sole(ALICE), endorsers=(ALICE, TAX))


@SCENARIOS.of("land.parcel_frozen")
def a_frozen_parcel_is_sold():
    chain = titled("P")
    chain.ok(JUDGE, "freeze", court_order("P"))
    return chain, sale(chain, "P", sole(BOB))


@SCENARIOS.of("land.encumbered")
def a_mortgaged_parcel_is_sold():
    chain = titled("P")
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P"), (ALICE, BANK))
    return chain, sale(chain, "P", sole(BOB))


@SCENARIOS.of("land.unknown_encumbrance")
def an_encumbrance_never_registered_is_released():
    chain = titled("P")
    return chain, chain.tx(REGISTRAR, "release_encumbrance", ReleaseEncumbrance(document=digest("r"), encumbrance=9))


@SCENARIOS.of("land.encumbrance_released")
def an_encumbrance_released_twice():
    chain = titled("P")
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P"), (ALICE, BANK))
    release = ReleaseEncumbrance(document=digest("paid off"), encumbrance=1)
    chain.ok(REGISTRAR, "release_encumbrance", release, (BANK,))
    return chain, chain.tx(REGISTRAR, "release_encumbrance", release, (BANK,))


@SCENARIOS.of("land.already_frozen")
def a_case_freezes_a_parcel_twice():
    chain = titled("P")
    chain.ok(JUDGE, "freeze", court_order("P"))
    return chain, chain.tx(JUDGE, "freeze", court_order("P"))


@SCENARIOS.of("land.not_frozen")
def a_freeze_never_made_is_lifted():
    chain = titled("P")
    return chain, chain.tx(JUDGE, "unfreeze", court_order("P"))


@SCENARIOS.of("land.duplicate_parcel")
def a_parcel_merged_with_itself():
    chain = titled("P")
    return chain, chain.tx(REGISTRAR, "merge", merger("P", "P"), (ALICE,))


@SCENARIOS.of("land.area_not_conserved")
def a_subdivision_that_loses_area():
    chain = titled("P")
    return chain, chain.tx(REGISTRAR, "subdivide", halves("P", 50_000, 49_999), (ALICE,))


@SCENARIOS.of("land.owners_differ")
def parcels_of_different_owners_merged():
    chain = titled("P")
    chain.titled("Q", sole(BOB))
    return chain, chain.tx(REGISTRAR, "merge", merger("P", "Q"), (ALICE, BOB))


@SCENARIOS.of("land.land_use_differs")
def parcels_of_different_land_use_merged():
    chain = titled("P")
    chain.titled("Q", land_use="commercial")
    return chain, chain.tx(REGISTRAR, "merge", merger("P", "Q"), (ALICE,))


def test_the_declared_codes_are_the_ones_the_land_registry_raises():
    check_declaration(land.ERROR_CODES, "land", "land.py")


def test_every_land_code_is_documented_with_its_number():
    check_documented(land.ERROR_CODES, "land.md")


def test_every_land_code_has_a_scenario():
    check_scenarios(land.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", land.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)
