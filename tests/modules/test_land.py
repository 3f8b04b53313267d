"""The land registry: every action, every `land.*` refusal and the policy refusals, each changing nothing."""

from __future__ import annotations

import pytest

from civichain.execution.codes import all_codes, number_of
from civichain.modules import land
from civichain.modules.land import (AddEncumbrance, ChildParcel, CorrectParcel, FreezeParcel, IssueTitle, Merge,
                                    RegisterParcel, ReleaseEncumbrance, Share, Subdivide, Transfer)
from tests.modules.landsupport import (ALICE, BANK, BOB, CAROL, CLERK, JUDGE, REGISTRAR, TAX, LandChain, digest,
                                       owners, sole)

BUYER_AND_BUREAUS = (ALICE, BOB, TAX)     # the seller, the buyer and the tax bureau endorse; the registrar sends


@pytest.fixture
def chain() -> LandChain:
    return LandChain()


def transfer(chain: LandChain, parcel: str, shares, title: int | None = None) -> Transfer:
    return Transfer(deed=digest(f"contract {parcel} {chain.height}"), owners=shares, parcel=parcel,
                    title=title if title is not None else chain.parcel(parcel).title)


def mortgage(parcel: str, blocking: bool = True, kind: str = "mortgage", holder: str = BANK) -> AddEncumbrance:
    return AddEncumbrance(amount_fen=50_000_000_00, blocking=blocking, document=digest(f"{kind} of {parcel}"),
                          holder=holder, kind=kind, parcel=parcel)


def freeze(parcel: str, case: str = "(2026)京0101民初1号") -> FreezeParcel:
    return FreezeParcel(case=case, order=digest(f"order {case}"), parcel=parcel)


def children(parent: str, *areas: int) -> tuple[ChildParcel, ...]:
    return tuple(ChildParcel(area_dm2=area, boundary=digest(f"survey {parent}-{i}"), id=f"{parent}-{i}",
                             location=f"part {i} of {parent}") for i, area in enumerate(areas, start=1))


def merge(parcels, new_id: str = "M-1", area: int = 200_000) -> Merge:
    return Merge(area_dm2=area, boundary=digest(f"survey {new_id}"), document=digest(f"merger {new_id}"), id=new_id,
                 location="the merged plot", parcels=tuple(parcels))


def refused(chain: LandChain, code: str, sender: str, action: str, args, endorsers=()):
    """Run a transaction that must fail with `code` and change nothing but its sender's nonce."""
    before = chain.snapshot_without_nonces()
    receipt = chain.run(sender, action, args, tuple(endorsers))
    assert (receipt.code, receipt.events) == (code, ()), (receipt.code, receipt.got)
    assert receipt.where and receipt.expected and receipt.log_index is not None
    assert chain.snapshot_without_nonces() == before
    return receipt


def event_types(receipt) -> list[tuple[str, str]]:
    return [(e.type, e.key) for e in receipt.events]


def attrs(event) -> dict[str, str]:
    return {a.key: a.value for a in event.attributes}


# --- parcels and titles -----------------------------------------------------------------------------------

def test_a_registered_parcel_has_no_title_until_one_is_issued(chain):
    receipt = chain.ok(REGISTRAR, "register_parcel", RegisterParcel(
        area_dm2=1_234_567, boundary=digest("survey P-1"), id="P-1", land_use="residential", location="东城区 1号"))
    parcel = chain.parcel("P-1")
    assert (parcel.area_dm2, parcel.land_use, parcel.boundary, parcel.title, parcel.status) == (
        1_234_567, "residential", digest("survey P-1"), 0, land.ACTIVE)
    assert event_types(receipt) == [("registered", "P-1")]
    assert attrs(receipt.events[0])["origin"] == "survey"
    assert chain.title("P-1") is None

    receipt = chain.ok(REGISTRAR, "issue_title", IssueTitle(
        deed=digest("deed"), owners=owners((BOB, 2, 3), (ALICE, 1, 3)), parcel="P-1"))
    title = chain.title("P-1")
    assert title.number == 1 and title.cause == land.FIRST_REGISTRATION and title.status == land.CURRENT
    assert title.owners == (Share(ALICE, 1, 3), Share(BOB, 2, 3))          # sorted by owner
    assert event_types(receipt) == [("title_issued", "P-1")]
    assert attrs(receipt.events[0])["owners"] == "residents/alice=1/3,residents/bob=2/3"


def test_registering_an_existing_parcel_id_is_refused(chain):
    chain.register("P-1")
    receipt = refused(chain, "land.parcel_exists", REGISTRAR, "register_parcel", RegisterParcel(
        area_dm2=5, boundary=digest("other"), id="P-1", land_use="forest", location="elsewhere"))
    assert receipt.where == "args.id" and receipt.got == "P-1"


def test_only_a_registrar_of_the_land_bureau_registers_and_titles(chain):
    args = RegisterParcel(area_dm2=5, boundary=digest("s"), id="P-9", land_use="forest", location="hill")
    receipt = refused(chain, "auth.not_permitted", CLERK, "register_parcel", args)
    assert receipt.expected == "a registrar of land-bureau" and receipt.where == "sender"
    chain.register("P-1")
    refused(chain, "auth.not_permitted", ALICE, "issue_title", IssueTitle(deed=digest("d"), owners=sole(ALICE),
                                                                          parcel="P-1"))


def test_a_title_is_issued_once_for_a_known_parcel(chain):
    refused(chain, "land.unknown_parcel", REGISTRAR, "issue_title",
            IssueTitle(deed=digest("d"), owners=sole(ALICE), parcel="P-404"))
    chain.titled("P-1")
    receipt = refused(chain, "land.title_exists", REGISTRAR, "issue_title",
                      IssueTitle(deed=digest("d2"), owners=sole(BOB), parcel="P-1"))
    assert "transfer" in receipt.expected


@pytest.mark.parametrize("shares, code, got", [
    (owners((ALICE, 1, 2), (BOB, 1, 3)), "land.shares_not_whole", "shares summing to 5/6"),
    (owners((ALICE, 1, 2), (BOB, 2, 3)), "land.shares_not_whole", "shares summing to 7/6"),
    (owners((ALICE, 2, 4), (BOB, 1, 2)), "land.bad_share", "2/4"),
    (owners((ALICE, 3, 2)), "land.bad_share", "3/2"),
    (owners((ALICE, 1, 2), (ALICE, 1, 2)), "land.duplicate_owner", ALICE),
    (owners((ALICE, 1, 2), ("residents/nobody", 1, 2)), "land.unknown_account", "residents/nobody"),
])
def test_owners_shares_must_be_reduced_fractions_summing_exactly_to_one(chain, shares, code, got):
    chain.register("P-1")
    receipt = refused(chain, code, REGISTRAR, "issue_title", IssueTitle(deed=digest("d"), owners=shares, parcel="P-1"))
    assert receipt.got == got


def test_many_owners_with_unlike_denominators_sum_exactly(chain):
    shares = owners((ALICE, 1, 3), (BOB, 1, 7), (CAROL, 11, 21))           # 7/21 + 3/21 + 11/21
    chain.titled("P-1", shares)
    assert sum(s.numerator * 21 // s.denominator for s in chain.title("P-1").owners) == 21


# --- transfers --------------------------------------------------------------------------------------------

def test_a_transfer_with_every_endorsement_ends_the_title_and_issues_the_next(chain):
    chain.titled("P-1")
    receipt = chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", owners((BOB, 1, 2), (CAROL, 1, 2))),
                       (ALICE, BOB, CAROL, TAX))
    new = chain.title("P-1")
    assert new.number == 2 and new.cause == land.TRANSFER and new.predecessors == (1,)
    assert new.owners == (Share(BOB, 1, 2), Share(CAROL, 1, 2))
    old = land.load_title(chain.reader(), 1)
    assert (old.status, old.ended_at, old.successors) == (land.ENDED, chain.height, (2,))
    assert event_types(receipt) == [("transferred", "P-1")]
    assert attrs(receipt.events[0])["previous_title"] == "1"


@pytest.mark.parametrize("endorsers, missing", [
    ((ALICE, BOB), "an account of tax-bureau"),
    ((BOB, TAX), ALICE),                        # the seller
    ((ALICE, TAX), BOB),                        # the buyer
])
def test_a_transfer_missing_an_endorsement_is_refused_naming_it(chain, endorsers, missing):
    chain.titled("P-1")
    receipt = refused(chain, "auth.missing_endorsement", REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)),
                      endorsers)
    assert missing in receipt.got
    assert receipt.expected == ("every subject (e.g. every owner) AND a registrar of land-bureau AND an account of "
                                "tax-bureau")


def test_a_transfer_needs_the_land_bureau_registrar_even_when_an_owner_sends_it(chain):
    chain.titled("P-1")
    receipt = refused(chain, "auth.missing_endorsement", ALICE, "transfer", transfer(chain, "P-1", sole(BOB)),
                      (BOB, CLERK, TAX))
    assert "a registrar of land-bureau" in receipt.got
    chain.ok(ALICE, "transfer", transfer(chain, "P-1", sole(BOB)), (BOB, REGISTRAR, TAX))


def test_every_co_owner_must_sign_a_transfer(chain):
    chain.titled("P-1", owners((ALICE, 1, 2), (BOB, 1, 2)))
    refused(chain, "auth.missing_endorsement", REGISTRAR, "transfer", transfer(chain, "P-1", sole(CAROL)),
            (ALICE, CAROL, TAX))
    chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", sole(CAROL)), (ALICE, BOB, CAROL, TAX))


def test_a_co_owner_may_sell_a_share_to_another(chain):
    chain.titled("P-1", owners((ALICE, 1, 2), (BOB, 1, 2)))
    chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", owners((ALICE, 1, 4), (BOB, 3, 4))), (ALICE, BOB, TAX))
    assert chain.title("P-1").owners == (Share(ALICE, 1, 4), Share(BOB, 3, 4))


def test_a_transfer_of_an_unknown_untitled_or_retired_parcel_is_refused(chain):
    refused(chain, "land.unknown_parcel", REGISTRAR, "transfer", transfer(chain, "P-9", sole(BOB), title=1),
            BUYER_AND_BUREAUS)
    chain.register("P-1")
    refused(chain, "land.no_title", REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB), title=1),
            BUYER_AND_BUREAUS)
    chain.titled("P-2")
    chain.ok(REGISTRAR, "subdivide", Subdivide(children=children("P-2", 40_000, 60_000), document=digest("plan"),
                                               parcel="P-2"), (ALICE,))
    receipt = refused(chain, "land.parcel_retired", REGISTRAR, "transfer", transfer(chain, "P-2", sole(BOB)),
                      BUYER_AND_BUREAUS)
    assert "P-2-1,P-2-2" in receipt.got


def test_a_transfer_names_the_current_title(chain):
    chain.titled("P-1")
    chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)), BUYER_AND_BUREAUS)
    receipt = refused(chain, "land.stale_title", REGISTRAR, "transfer", transfer(chain, "P-1", sole(CAROL), title=1),
                      (BOB, CAROL, TAX))
    assert receipt.expected == "the current title of P-1, 2"


def test_a_transfer_to_the_same_owners_and_shares_is_refused(chain):
    chain.titled("P-1", owners((ALICE, 1, 2), (BOB, 1, 2)))
    refused(chain, "land.no_change", REGISTRAR, "transfer", transfer(chain, "P-1", owners((BOB, 1, 2), (ALICE, 1, 2))),
            (ALICE, BOB, TAX))


def test_a_transfer_checks_the_new_owners_shares(chain):
    chain.titled("P-1")
    refused(chain, "land.shares_not_whole", REGISTRAR, "transfer",
            transfer(chain, "P-1", owners((BOB, 1, 2), (CAROL, 1, 3))), (ALICE, BOB, CAROL, TAX))


# --- court freezes ----------------------------------------------------------------------------------------

def test_transfer_of_frozen_parcel_is_refused_until_every_case_lifts_its_freeze(chain):
    chain.titled("P-1")
    receipt = chain.ok(JUDGE, "freeze", freeze("P-1", "case-1"))
    assert event_types(receipt) == [("frozen", "P-1")] and attrs(receipt.events[0])["court"] == JUDGE
    chain.ok(JUDGE, "freeze", freeze("P-1", "case-2"))
    receipt = refused(chain, "land.parcel_frozen", REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)),
                      BUYER_AND_BUREAUS)
    assert receipt.got == "P-1 frozen for case case-1, case-2"
    chain.ok(JUDGE, "unfreeze", freeze("P-1", "case-1"))
    refused(chain, "land.parcel_frozen", REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)), BUYER_AND_BUREAUS)
    receipt = chain.ok(JUDGE, "unfreeze", freeze("P-1", "case-2"))
    assert event_types(receipt) == [("unfrozen", "P-1")]
    chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)), BUYER_AND_BUREAUS)


def test_a_frozen_parcel_gets_no_title_no_new_shape_and_no_mortgage_but_a_lien(chain):
    chain.register("P-1")
    chain.ok(JUDGE, "freeze", freeze("P-1"))
    refused(chain, "land.parcel_frozen", REGISTRAR, "issue_title",
            IssueTitle(deed=digest("d"), owners=sole(ALICE), parcel="P-1"))
    chain.titled("P-2")
    chain.ok(JUDGE, "freeze", freeze("P-2"))
    refused(chain, "land.parcel_frozen", REGISTRAR, "subdivide",
            Subdivide(children=children("P-2", 50_000, 50_000), document=digest("plan"), parcel="P-2"), (ALICE,))
    refused(chain, "land.parcel_frozen", REGISTRAR, "add_encumbrance", mortgage("P-2"), (ALICE, BANK))
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P-2", kind="lien", holder=TAX), (TAX,))


def test_a_case_freezes_a_parcel_once_and_lifts_only_its_own_freeze(chain):
    chain.register("P-1")
    chain.ok(JUDGE, "freeze", freeze("P-1", "case-1"))
    receipt = refused(chain, "land.already_frozen", JUDGE, "freeze", freeze("P-1", "case-1"))
    assert receipt.where == "args.case"
    receipt = refused(chain, "land.not_frozen", JUDGE, "unfreeze", freeze("P-1", "case-9"))
    assert receipt.expected == "one of the cases freezing it: ['case-1']"
    refused(chain, "land.unknown_parcel", JUDGE, "freeze", freeze("P-404"))


def test_only_the_court_freezes_and_unfreezes(chain):
    chain.register("P-1")
    receipt = refused(chain, "auth.not_permitted", REGISTRAR, "freeze", freeze("P-1"))
    assert receipt.expected == "an account of court"
    chain.ok(JUDGE, "freeze", freeze("P-1"))
    refused(chain, "auth.not_permitted", ALICE, "unfreeze", freeze("P-1"))


# --- encumbrances -----------------------------------------------------------------------------------------

def test_a_blocking_mortgage_stops_transfers_until_the_bank_releases_it(chain):
    chain.titled("P-1")
    receipt = chain.ok(REGISTRAR, "add_encumbrance", mortgage("P-1"), (ALICE, BANK))
    assert event_types(receipt) == [("encumbered", "P-1")]
    [record] = land.encumbrances_of(chain.reader(), "P-1")
    assert (record.number, record.kind, record.holder, record.blocking, record.amount_fen) == (
        1, "mortgage", BANK, True, 50_000_000_00)
    receipt = refused(chain, "land.encumbered", REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)),
                      BUYER_AND_BUREAUS)
    assert receipt.got == f"unreleased blocking mortgage 1 held by {BANK}"
    receipt = chain.ok(REGISTRAR, "release_encumbrance", ReleaseEncumbrance(document=digest("paid"), encumbrance=1),
                       (BANK,))
    assert event_types(receipt) == [("encumbrance_released", "P-1")]
    assert land.encumbrances_of(chain.reader(), "P-1") == ()
    assert land.load_encumbrance(chain.reader(), 1).released_at == chain.height
    chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)), BUYER_AND_BUREAUS)


def test_a_non_blocking_easement_stays_on_the_parcel_through_a_transfer(chain):
    chain.titled("P-1")
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P-1", blocking=False, kind="easement", holder=CAROL),
             (ALICE, CAROL))
    chain.ok(REGISTRAR, "transfer", transfer(chain, "P-1", sole(BOB)), BUYER_AND_BUREAUS)
    assert chain.parcel("P-1").encumbrances == (1,)


def test_the_owners_and_the_holder_grant_a_mortgage_and_the_holder_alone_a_lien(chain):
    chain.titled("P-1", owners((ALICE, 1, 2), (BOB, 1, 2)))
    receipt = refused(chain, "auth.missing_endorsement", REGISTRAR, "add_encumbrance", mortgage("P-1"), (ALICE, BANK))
    assert BOB in receipt.got
    refused(chain, "auth.missing_endorsement", REGISTRAR, "add_encumbrance", mortgage("P-1"), (ALICE, BOB))
    refused(chain, "auth.not_permitted", BANK, "add_encumbrance", mortgage("P-1"), (ALICE, BOB))
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P-1", kind="lien", holder=JUDGE), (JUDGE,))


def test_an_encumbrance_needs_a_titled_parcel(chain):
    refused(chain, "land.unknown_parcel", REGISTRAR, "add_encumbrance", mortgage("P-404"), (BANK,))
    chain.register("P-1")
    refused(chain, "land.no_title", REGISTRAR, "add_encumbrance", mortgage("P-1"), (BANK,))


def test_only_the_holder_releases_an_encumbrance_and_only_once(chain):
    chain.titled("P-1")
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P-1"), (ALICE, BANK))
    release = ReleaseEncumbrance(document=digest("paid"), encumbrance=1)
    refused(chain, "auth.missing_endorsement", REGISTRAR, "release_encumbrance", release, (ALICE,))
    refused(chain, "land.unknown_encumbrance", REGISTRAR, "release_encumbrance",
            ReleaseEncumbrance(document=digest("paid"), encumbrance=2), (BANK,))
    chain.ok(REGISTRAR, "release_encumbrance", release, (BANK,))
    receipt = refused(chain, "land.encumbrance_released", REGISTRAR, "release_encumbrance", release, (BANK,))
    assert receipt.got == f"released at height {chain.height - 1}"


# --- subdivision and merger -------------------------------------------------------------------------------

def test_a_subdivision_conserves_area_and_gives_each_part_the_owners_title(chain):
    chain.titled("P-1", owners((ALICE, 1, 2), (BOB, 1, 2)), area=100_000)
    receipt = chain.ok(REGISTRAR, "subdivide", Subdivide(children=children("P-1", 25_000, 75_000),
                                                         document=digest("plan"), parcel="P-1"), (ALICE, BOB))
    parent = chain.parcel("P-1")
    assert (parent.status, parent.successors) == (land.RETIRED, ("P-1-1", "P-1-2"))
    assert chain.title("P-1") is None
    assert land.load_title(chain.reader(), 1).successors == (2, 3)
    for child, area in (("P-1-1", 25_000), ("P-1-2", 75_000)):
        record = chain.parcel(child)
        assert (record.area_dm2, record.land_use, record.origin) == (area, "residential", ("P-1",))
        title = chain.title(child)
        assert title.owners == (Share(ALICE, 1, 2), Share(BOB, 1, 2)) and title.cause == land.SUBDIVISION
    assert event_types(receipt) == [("registered", "P-1-1"), ("title_issued", "P-1-1"), ("registered", "P-1-2"),
                                    ("title_issued", "P-1-2"), ("subdivided", "P-1")]


@pytest.mark.parametrize("parts, code", [
    (children("P-1", 25_000, 74_999), "land.area_not_conserved"),
    (children("P-1", 25_000, 75_001), "land.area_not_conserved"),
    (children("P-1", 50_000, 50_000)[:1] * 2, "land.duplicate_parcel"),
    ((*children("P-1", 50_000), ChildParcel(area_dm2=50_000, boundary=digest("x"), id="P-2", location="x")),
     "land.parcel_exists"),
    ((*children("P-1", 50_000), ChildParcel(area_dm2=50_000, boundary=digest("x"), id="P-1", location="x")),
     "land.parcel_exists"),
])
def test_a_subdivision_that_loses_area_or_reuses_an_id_is_refused(chain, parts, code):
    chain.titled("P-1", area=100_000)
    chain.register("P-2")
    refused(chain, code, REGISTRAR, "subdivide", Subdivide(children=parts, document=digest("plan"), parcel="P-1"),
            (ALICE,))


def test_a_subdivision_needs_every_owner_and_no_encumbrance(chain):
    chain.titled("P-1", owners((ALICE, 1, 2), (BOB, 1, 2)))
    plan = Subdivide(children=children("P-1", 50_000, 50_000), document=digest("plan"), parcel="P-1")
    refused(chain, "auth.missing_endorsement", REGISTRAR, "subdivide", plan, (ALICE,))
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("P-1", blocking=False, kind="easement", holder=CAROL),
             (ALICE, BOB, CAROL))
    receipt = refused(chain, "land.encumbered", REGISTRAR, "subdivide", plan, (ALICE, BOB))
    assert receipt.expected.startswith("no unreleased encumbrance")


def test_a_merger_sums_the_areas_of_parcels_with_the_same_owners(chain):
    shares = owners((ALICE, 1, 3), (BOB, 2, 3))
    chain.titled("A", shares, area=120_000)
    chain.titled("B", shares, area=80_000)
    receipt = chain.ok(REGISTRAR, "merge", merge(["A", "B"], area=200_000), (ALICE, BOB))
    merged = chain.parcel("M-1")
    assert (merged.area_dm2, merged.origin, merged.status) == (200_000, ("A", "B"), land.ACTIVE)
    title = chain.title("M-1")
    assert title.owners == (Share(ALICE, 1, 3), Share(BOB, 2, 3)) and title.predecessors == (1, 2)
    for source in ("A", "B"):
        assert chain.parcel(source).status == land.RETIRED and chain.title(source) is None
    assert event_types(receipt) == [("merged", "A"), ("merged", "B"), ("registered", "M-1"), ("title_issued", "M-1")]


def test_a_merger_of_unlike_parcels_is_refused(chain):
    chain.titled("A", area=120_000)
    chain.titled("B", owners((ALICE, 1, 2), (BOB, 1, 2)), area=80_000)
    chain.titled("C", area=80_000, land_use="commercial")
    chain.titled("D", area=80_000)
    receipt = refused(chain, "land.owners_differ", REGISTRAR, "merge", merge(["A", "B"]), (ALICE, BOB))
    assert receipt.where == "args.parcels[1]"
    refused(chain, "land.land_use_differs", REGISTRAR, "merge", merge(["A", "C"]), (ALICE,))
    refused(chain, "land.area_not_conserved", REGISTRAR, "merge", merge(["A", "D"], area=200_001), (ALICE,))
    refused(chain, "land.duplicate_parcel", REGISTRAR, "merge", merge(["A", "A"]), (ALICE,))
    refused(chain, "land.parcel_exists", REGISTRAR, "merge", merge(["A", "D"], new_id="B"), (ALICE,))
    refused(chain, "land.unknown_parcel", REGISTRAR, "merge", merge(["A", "Z"]), (ALICE,))
    refused(chain, "auth.missing_endorsement", REGISTRAR, "merge", merge(["A", "D"]), ())


def test_a_merger_of_frozen_encumbered_or_retired_parcels_is_refused(chain):
    chain.titled("A", area=120_000)
    chain.titled("B", area=80_000)
    chain.ok(JUDGE, "freeze", freeze("B"))
    refused(chain, "land.parcel_frozen", REGISTRAR, "merge", merge(["A", "B"]), (ALICE,))
    chain.ok(JUDGE, "unfreeze", freeze("B"))
    chain.ok(REGISTRAR, "add_encumbrance", mortgage("A", kind="lien", holder=TAX), (TAX,))
    refused(chain, "land.encumbered", REGISTRAR, "merge", merge(["A", "B"]), (ALICE,))
    chain.ok(REGISTRAR, "release_encumbrance", ReleaseEncumbrance(document=digest("paid"), encumbrance=1), (TAX,))
    chain.ok(REGISTRAR, "merge", merge(["A", "B"]), (ALICE,))
    refused(chain, "land.parcel_retired", REGISTRAR, "merge", merge(["A", "M-1"], new_id="M-2"), (ALICE,))
    refused(chain, "land.parcel_retired", JUDGE, "freeze", freeze("A"))


# --- corrections: two authorities ------------------------------------------------------------------------

def correction(parcel: str = "P-1", land_use: str = "commercial", location: str | None = None) -> CorrectParcel:
    return CorrectParcel(boundary=digest(f"survey {parcel}"), document=digest(f"judgment on {parcel}"),
                         land_use=land_use, location=location or f"Dongcheng District, block of {parcel}",
                         parcel=parcel)


def test_a_correction_changes_the_record_but_not_the_area_and_keeps_the_previous_values(chain):
    chain.titled("P-1")
    receipt = chain.ok(REGISTRAR, "correct_parcel", correction(location="东城区 景山街道 2号"), (TAX,))
    assert event_types(receipt) == [("corrected", "P-1")]
    facts = {a.key: a.value for a in receipt.events[0].attributes}
    assert (facts["land_use"], facts["previous_land_use"]) == ("commercial", "residential")
    assert facts["previous_location"] == "Dongcheng District, block of P-1"
    parcel = chain.parcel("P-1")
    assert (parcel.land_use, parcel.location, parcel.area_dm2) == ("commercial", "东城区 景山街道 2号", 100_000)
    assert chain.title("P-1").owners == (Share(ALICE, 1, 1),)      # the owners are not touched


def test_a_correction_needs_the_registrar_and_the_tax_bureau_or_the_court(chain):
    chain.titled("P-1")
    receipt = refused(chain, "auth.missing_endorsement", REGISTRAR, "correct_parcel", correction(), (CLERK, ALICE))
    assert receipt.expected == "2 of {a registrar of land-bureau, an account of tax-bureau, an account of court}"
    refused(chain, "auth.not_permitted", TAX, "correct_parcel", correction(), (JUDGE,))
    chain.ok(REGISTRAR, "correct_parcel", correction(), (JUDGE,))
    chain.ok(REGISTRAR, "correct_parcel", correction(land_use="residential"), (JUDGE, TAX))


def test_a_correction_of_nothing_or_of_a_frozen_or_retired_parcel_is_refused(chain):
    chain.titled("P-1")
    refused(chain, "land.no_change", REGISTRAR, "correct_parcel", correction(land_use="residential"), (TAX,))
    chain.ok(JUDGE, "freeze", freeze("P-1"))
    refused(chain, "land.parcel_frozen", REGISTRAR, "correct_parcel", correction(), (TAX,))
    chain.ok(JUDGE, "unfreeze", freeze("P-1"))
    chain.ok(REGISTRAR, "subdivide", Subdivide(children=children("P-1", 50_000, 50_000), document=digest("plan"),
                                               parcel="P-1"), (ALICE,))
    refused(chain, "land.parcel_retired", REGISTRAR, "correct_parcel", correction(), (TAX,))
    refused(chain, "land.unknown_parcel", REGISTRAR, "correct_parcel", correction("P-9"), (TAX,))


# --- codes ------------------------------------------------------------------------------------------------

def test_land_codes_have_their_own_block_of_numbers():
    codes = {code: number for code, number in all_codes().items() if code.startswith("land.")}
    assert sorted(codes.values()) == list(range(500, 500 + len(codes)))
    assert number_of("land.parcel_frozen") == 511 and number_of("land.shares_not_whole") == 508
