"""Governance: proposals, votes, thresholds, execution at a defined height, and every refusal code."""

from __future__ import annotations

import msgspec
import pytest

from civichain.codec import encode
from civichain.modules.governance import EXECUTED, EXPIRED, FAILED, OPEN, PASSED, REJECTED, ChangeParam
from civichain.modules.membership import (
    AddOrganisation,
    AddValidator,
    AdmitObserver,
    RemoveObserver,
    RemoveValidator,
    ReinstateOrganisation,
    SetValidatorPower,
    SuspendOrganisation,
    load_node,
    load_organisation,
)
from civichain.modules.notary import Anchor
from civichain.types import ValidatorUpdate
from tests.conftest import make_signer
from tests.modules.govsupport import GovChain, node_id, validator_key

NEW_KEY = validator_key("new")
NEW_NODE = node_id("new")


def add_validator(org: str = "land-bureau", key: bytes = NEW_KEY, node: str = NEW_NODE, power: int = 5):
    return AddValidator(node_id=node, organisation=org, power=power, pub_key=key)


def codes(run) -> list[str]:
    return [r.code for r in run.receipts]


def event_types(receipt) -> list[str]:
    return [e.type for e in receipt.events]


# --- the happy path --------------------------------------------------------------------------------------

def test_a_proposal_passes_at_the_threshold_and_executes_at_the_end_of_that_block():
    chain = GovChain(3)   # 2/3 of 3 organisations: two approvals
    land, finance = chain.admins["land-bureau"], chain.admins["finance-bureau"]
    first = chain.block(chain.propose(land, "add_validator", add_validator()))
    assert codes(first) == ["ok"] and chain.proposal(1).status == OPEN
    assert event_types(first.receipts[0]) == ["proposed"]
    assert first.validator_updates == [] and first.block_receipts == []
    second = chain.block(chain.vote(finance, 1))
    assert codes(second) == ["ok"]
    assert event_types(second.receipts[0]) == ["voted", "passed"]
    proposal = chain.proposal(1)
    assert proposal.status == EXECUTED and proposal.decided_at == proposal.executed_at == 2
    assert proposal.outcome == "ok"
    assert second.validator_updates == [ValidatorUpdate(NEW_KEY, 5)]
    [block_receipt] = second.block_receipts
    assert block_receipt.of_block and block_receipt.code == "ok" and block_receipt.where == "governance proposal 1"
    assert event_types(block_receipt) == ["validator_added", "executed"]
    assert chain.validators().find(NEW_KEY).organisation == "land-bureau"
    assert load_node(chain.reader(), NEW_NODE).role == "validator"


def test_a_proposal_below_the_threshold_stays_open():
    chain = GovChain(4)   # 2/3 of 4: three approvals
    chain.block(chain.propose(chain.admins["land-bureau"], "add_validator", add_validator()))
    chain.block(chain.vote(chain.admins["finance-bureau"], 1))
    assert chain.proposal(1).status == OPEN and chain.proposal(1).approvals() == 2
    run = chain.block(chain.vote(chain.admins["tax-bureau"], 1))
    assert chain.proposal(1).status == EXECUTED and run.validator_updates == [ValidatorUpdate(NEW_KEY, 5)]


def test_a_single_organisation_passes_its_own_proposal_at_once():
    chain = GovChain(1)
    run = chain.block(chain.propose(chain.admins["land-bureau"], "set_validator_power",
                                    SetValidatorPower(power=30, pub_key=validator_key("v0"))))
    assert chain.proposal(1).status == EXECUTED
    assert run.validator_updates == [ValidatorUpdate(validator_key("v0"), 30)]


def test_a_named_execution_height_is_kept_even_when_the_proposal_passes_earlier():
    chain = GovChain(3)
    land, finance = chain.admins["land-bureau"], chain.admins["finance-bureau"]
    chain.block(chain.propose(land, "remove_validator", RemoveValidator(pub_key=validator_key("v2")), execute_at=6))
    chain.block(chain.vote(finance, 1))
    assert chain.proposal(1).status == PASSED and chain.proposal(1).due() == 6
    runs = chain.blocks_until(6)
    assert [r.validator_updates for r in runs[:-1]] == [[], [], []]
    assert runs[-1].validator_updates == [ValidatorUpdate(validator_key("v2"), 0)]
    assert chain.proposal(1).status == EXECUTED and chain.proposal(1).executed_at == 6
    assert load_node(chain.reader(), node_id("v2")) is None


def test_a_proposal_that_passes_after_its_named_height_executes_as_soon_as_it_passes():
    chain = GovChain(3)
    chain.block(chain.propose(chain.admins["land-bureau"], "admit_observer",
                              AdmitObserver(node_id=NEW_NODE, operator="University"), execute_at=3, expires_at=10))
    chain.blocks_until(4)
    run = chain.block(chain.vote(chain.admins["tax-bureau"], 1))
    assert chain.proposal(1).status == EXECUTED and chain.proposal(1).executed_at == 5
    assert run.block_receipts[0].code == "ok"


def test_a_proposal_that_does_not_pass_expires_at_the_end_of_its_expiry_height():
    chain = GovChain(3)
    chain.block(chain.propose(chain.admins["land-bureau"], "add_validator", add_validator(), expires_at=4))
    runs = chain.blocks_until(4)
    assert chain.proposal(1).status == EXPIRED and chain.proposal(1).decided_at == 4
    assert [r.code for r in runs[-1].block_receipts] == ["ok"]
    assert event_types(runs[-1].block_receipts[0]) == ["expired"]
    late = chain.block(chain.vote(chain.admins["finance-bureau"], 1))
    assert codes(late) == ["governance.proposal_expired"]


def test_a_proposal_that_can_no_longer_pass_is_rejected_and_closed():
    chain = GovChain(3)
    chain.block(chain.propose(chain.admins["land-bureau"], "add_validator", add_validator()))
    run = chain.block(chain.vote(chain.admins["finance-bureau"], 1, approve=False),
                      chain.vote(chain.admins["tax-bureau"], 1, approve=False))
    assert codes(run) == ["ok", "ok"]
    assert event_types(run.receipts[1]) == ["voted", "rejected"]
    assert chain.proposal(1).status == REJECTED
    assert run.validator_updates == [] and run.block_receipts == []


def test_validator_changes_are_returned_once_for_each_key_and_sum_up_in_the_set():
    chain = GovChain(1)
    admin = chain.admins["land-bureau"]
    v0 = validator_key("v0")
    run = chain.block(chain.propose(admin, "add_validator", add_validator(power=7), execute_at=2),
                      chain.propose(admin, "set_validator_power", SetValidatorPower(power=11, pub_key=v0), execute_at=2),
                      chain.propose(admin, "set_validator_power", SetValidatorPower(power=9, pub_key=v0), execute_at=2))
    assert codes(run) == ["ok", "ok", "ok"] and run.validator_updates == []
    run = chain.block()
    assert [r.code for r in run.block_receipts] == ["ok", "ok", "ok"]
    assert run.validator_updates == sorted([ValidatorUpdate(NEW_KEY, 7), ValidatorUpdate(v0, 9)], key=lambda u: u.pub_key)
    assert chain.validators().total_power() == 16


def test_change_param_sets_a_new_threshold_for_later_proposals_only():
    chain = GovChain(4)
    land, finance, tax = (chain.admins[o] for o in ("land-bureau", "finance-bureau", "tax-bureau"))
    chain.block(chain.propose(land, "add_validator", add_validator()))            # proposal 1 at 2/3
    chain.block(chain.propose(land, "change_param", ChangeParam(name="governance_threshold", value="1/2")))
    # 1/2 must be more than half: refused at proposal time
    assert chain.proposal(1).status == OPEN
    chain.block(chain.propose(land, "change_param", ChangeParam(name="governance_threshold", value="3/4")))
    chain.block(chain.vote(finance, 2), chain.vote(tax, 2))
    assert chain.params().threshold_numerator == 3 and chain.params().threshold_denominator == 4
    assert chain.proposal(1).threshold_numerator == 2          # fixed when proposal 1 was made
    chain.block(chain.vote(finance, 1), chain.vote(tax, 1))
    assert chain.proposal(1).status == EXECUTED


def test_proposal_lifetime_can_be_changed():
    chain = GovChain(1)
    chain.block(chain.propose(chain.admins["land-bureau"], "change_param",
                              ChangeParam(name="proposal_lifetime", value="20")))
    assert chain.params().proposal_lifetime == 20
    run = chain.block(chain.propose(chain.admins["land-bureau"], "add_validator", add_validator(), expires_at=50))
    assert codes(run) == ["governance.bad_expiry"]


def test_a_suspended_organisation_cannot_transact_nor_vote_and_is_left_out_of_new_electorates():
    chain = GovChain(3)
    land, finance, tax = (chain.admins[o] for o in ("land-bureau", "finance-bureau", "tax-bureau"))
    chain.block(chain.propose(land, "suspend_organisation", SuspendOrganisation(id="tax-bureau", reason="merged")))
    chain.block(chain.vote(finance, 1))
    assert not load_organisation(chain.reader(), "tax-bureau").active
    refused = chain.block(chain.vote(tax, 1))
    assert codes(refused) == ["auth.organisation_suspended"] and refused.receipts[0].log_index is None
    chain.block(chain.propose(land, "add_validator", add_validator()))
    assert chain.proposal(2).electorate == ("finance-bureau", "land-bureau")
    chain.block(chain.vote(finance, 2))
    assert chain.proposal(2).status == EXECUTED
    chain.block(chain.propose(land, "reinstate_organisation", ReinstateOrganisation(id="tax-bureau")))
    chain.block(chain.vote(finance, 3))
    assert load_organisation(chain.reader(), "tax-bureau").active
    assert codes(chain.block(chain.tx(tax, "notary", "anchor", Anchor(digest=bytes(32), title="back")))) == ["ok"]


def test_an_added_organisation_gets_an_admin_who_can_vote_on_later_proposals():
    chain = GovChain(1)
    newcomer = make_signer("court/admin")
    chain.block(chain.propose(chain.admins["land-bureau"], "add_organisation",
                              AddOrganisation(admin_account="court/admin", admin_public_key=newcomer.public_key,
                                              id="court", name_en="People's Court", name_zh="人民法院")))
    assert load_organisation(chain.reader(), "court").active
    chain.block(chain.propose(chain.admins["land-bureau"], "add_validator", add_validator(org="court")))
    assert chain.proposal(2).electorate == ("court", "land-bureau") and chain.proposal(2).status == OPEN
    chain.block(chain.vote(newcomer, 2))
    assert chain.proposal(2).status == EXECUTED


def test_observers_are_admitted_and_removed():
    chain = GovChain(1)
    admin = chain.admins["land-bureau"]
    chain.block(chain.propose(admin, "admit_observer", AdmitObserver(node_id=NEW_NODE, operator="Peking University")))
    assert load_node(chain.reader(), NEW_NODE).operator == "Peking University"
    chain.block(chain.propose(admin, "remove_observer", RemoveObserver(node_id=NEW_NODE)))
    assert load_node(chain.reader(), NEW_NODE) is None


def test_a_change_no_longer_possible_when_due_fails_and_changes_nothing():
    chain = GovChain(3, validators=2)
    land, finance = chain.admins["land-bureau"], chain.admins["finance-bureau"]
    chain.block(chain.propose(land, "remove_validator", RemoveValidator(pub_key=validator_key("v0")), execute_at=5),
                chain.propose(land, "remove_validator", RemoveValidator(pub_key=validator_key("v1")), execute_at=5))
    chain.block(chain.vote(finance, 1), chain.vote(finance, 2))
    runs = chain.blocks_until(5)
    assert [r.code for r in runs[-1].block_receipts] == ["ok", "governance.no_validator_left"]
    assert runs[-1].validator_updates == [ValidatorUpdate(validator_key("v0"), 0)]
    failed = chain.proposal(2)
    assert failed.status == FAILED and failed.outcome == "governance.no_validator_left" and failed.executed_at == 5
    assert [v.pub_key for v in chain.validators().validators] == [validator_key("v1")]


def test_a_proposal_executes_exactly_once():
    chain = GovChain(1)
    chain.block(chain.propose(chain.admins["land-bureau"], "set_validator_power",
                              SetValidatorPower(power=11, pub_key=validator_key("v0")), expires_at=8))
    later = chain.blocks_until(10)
    assert all(r.block_receipts == [] and r.validator_updates == [] for r in later)


# --- every refusal, each with its code, changing nothing -------------------------------------------------

def refused_at_proposal(chain: GovChain, kind: str, payload, **kw) -> str:
    before = chain.snapshot_without_nonces()
    run = chain.block(chain.propose(chain.admins["land-bureau"], kind, payload, **kw))
    assert chain.snapshot_without_nonces() == before, "a refused proposal changed the state"
    assert run.receipts[0].log_index is not None       # the attempt is logged and its nonce consumed
    return run.receipts[0].code


@pytest.mark.parametrize("kind, payload, code", [
    ("add_validator", add_validator(key=validator_key("v1")), "governance.duplicate_validator"),
    ("add_validator", add_validator(node=node_id("v1")), "governance.duplicate_node"),
    ("add_validator", add_validator(org="nowhere"), "governance.unknown_organisation"),
    ("remove_validator", RemoveValidator(pub_key=NEW_KEY), "governance.unknown_validator"),
    ("set_validator_power", SetValidatorPower(power=3, pub_key=NEW_KEY), "governance.unknown_validator"),
    ("remove_observer", RemoveObserver(node_id=NEW_NODE), "governance.unknown_observer"),
    ("remove_observer", RemoveObserver(node_id=node_id("v0")), "governance.unknown_observer"),
    ("admit_observer", AdmitObserver(node_id=node_id("v2"), operator="x"), "governance.duplicate_node"),
    ("add_organisation", AddOrganisation(admin_account="tax-bureau/boss", admin_public_key=bytes(32), id="tax-bureau",
                                         name_en="Tax", name_zh="税务局"), "governance.organisation_exists"),
    ("add_organisation", AddOrganisation(admin_account="land-bureau/boss", admin_public_key=bytes(32), id="court",
                                         name_en="Court", name_zh="法院"), "governance.bad_account_id"),
    ("suspend_organisation", SuspendOrganisation(id="nowhere", reason="r"), "governance.unknown_organisation"),
    ("reinstate_organisation", ReinstateOrganisation(id="tax-bureau"), "governance.not_suspended"),
    ("change_param", ChangeParam(name="max_tx_bytes", value="100"), "governance.unknown_param"),
    ("change_param", ChangeParam(name="governance_threshold", value="1/2"), "governance.bad_param"),
    ("change_param", ChangeParam(name="governance_threshold", value="4/3"), "governance.bad_param"),
    ("change_param", ChangeParam(name="governance_threshold", value="02/3"), "governance.bad_param"),
    ("change_param", ChangeParam(name="proposal_lifetime", value="5"), "governance.bad_param"),
    ("change_param", ChangeParam(name="proposal_lifetime", value="ten"), "governance.bad_param"),
    ("no_such_kind", ChangeParam(name="x", value="y"), "governance.unknown_kind"),
    ("add_validator", ChangeParam(name="x", value="y"), "governance.bad_payload"),
    ("add_validator", {"node_id": NEW_NODE}, "governance.bad_payload"),
])
def test_a_bad_proposal_is_refused_with_its_code(kind, payload, code):
    assert refused_at_proposal(GovChain(3), kind, payload) == code


def test_a_non_canonical_payload_is_refused():
    chain = GovChain(3)
    fields = msgspec.msgpack.decode(encode(add_validator()))
    unsorted = msgspec.msgpack.Encoder().encode(dict(reversed(list(fields.items()))))
    assert refused_at_proposal(chain, "add_validator", None, raw_payload=unsorted) == "governance.bad_payload"


def test_expiry_and_execution_heights_out_of_range_are_refused():
    chain = GovChain(3, lifetime=20)
    assert refused_at_proposal(chain, "add_validator", add_validator(), expires_at=1) == "governance.bad_expiry"
    assert refused_at_proposal(chain, "add_validator", add_validator(), expires_at=100) == "governance.bad_expiry"
    assert refused_at_proposal(chain, "add_validator", add_validator(), expires_at=10,
                               execute_at=11) == "governance.bad_execution_height"
    assert refused_at_proposal(chain, "add_validator", add_validator(), execute_at=chain.height) == \
        "governance.bad_execution_height"


def test_an_existing_account_cannot_become_a_new_organisations_admin():
    chain = GovChain(3)
    # Only a genesis could hold an account under a future organisation's id: plant one as a genesis would.
    chain.state[b"registry/account/court/admin"] = chain.state[b"registry/account/land-bureau/admin"]
    code = refused_at_proposal(chain, "add_organisation",
                               AddOrganisation(admin_account="court/admin", admin_public_key=bytes(32), id="court",
                                               name_en="Court", name_zh="法院"))
    assert code == "governance.account_exists"


def test_suspension_rules():
    chain = GovChain(2, threshold=(1, 1))
    land, finance = chain.admins["land-bureau"], chain.admins["finance-bureau"]
    chain.block(chain.propose(land, "suspend_organisation", SuspendOrganisation(id="finance-bureau", reason="r")))
    chain.block(chain.vote(finance, 1))
    assert chain.proposal(1).status == EXECUTED
    assert refused_at_proposal(chain, "suspend_organisation",
                               SuspendOrganisation(id="finance-bureau", reason="again")) == "governance.already_suspended"
    assert refused_at_proposal(chain, "suspend_organisation",
                               SuspendOrganisation(id="land-bureau", reason="last")) == "governance.no_organisation_left"
    assert refused_at_proposal(chain, "add_validator", add_validator(org="finance-bureau")) == \
        "governance.organisation_suspended"


def test_the_last_validator_cannot_be_removed():
    chain = GovChain(1)
    assert refused_at_proposal(chain, "remove_validator", RemoveValidator(pub_key=validator_key("v0"))) == \
        "governance.no_validator_left"


def test_only_admins_propose_and_vote():
    chain = GovChain(3)
    run = chain.block(chain.propose(chain.clerk, "add_validator", add_validator()))
    assert codes(run) == ["governance.not_admin"]
    chain.block(chain.propose(chain.admins["tax-bureau"], "add_validator", add_validator()))
    assert codes(chain.block(chain.vote(chain.clerk, 1))) == ["governance.not_admin"]


def test_vote_refusals():
    chain = GovChain(3)
    land, finance, tax = (chain.admins[o] for o in ("land-bureau", "finance-bureau", "tax-bureau"))
    chain.block(chain.propose(land, "add_validator", add_validator()))
    before = chain.snapshot_without_nonces()
    run = chain.block(chain.vote(land, 1), chain.vote(finance, 99))
    assert codes(run) == ["governance.already_voted", "governance.unknown_proposal"]
    assert chain.snapshot_without_nonces() == before
    chain.block(chain.vote(finance, 1))
    assert codes(chain.block(chain.vote(tax, 1))) == ["governance.proposal_closed"]


def test_an_organisation_added_after_a_proposal_is_not_in_its_electorate():
    chain = GovChain(2)
    land, finance = chain.admins["land-bureau"], chain.admins["finance-bureau"]
    newcomer = make_signer("court/admin")
    chain.block(chain.propose(land, "add_validator", add_validator()))
    chain.block(chain.propose(land, "add_organisation",
                              AddOrganisation(admin_account="court/admin", admin_public_key=newcomer.public_key,
                                              id="court", name_en="Court", name_zh="法院")))
    chain.block(chain.vote(finance, 2))
    assert chain.proposal(2).status == EXECUTED and chain.proposal(1).status == OPEN
    before = chain.snapshot_without_nonces()
    assert codes(chain.block(chain.vote(newcomer, 1))) == ["governance.not_eligible"]
    assert chain.snapshot_without_nonces() == before
