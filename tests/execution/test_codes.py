"""Error codes and their ABCI numbers: a number once given never changes, and every code a module raises is one
some module declares (tests/modules/test_*_codes.py check each module's declaration against its sources)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from civichain.execution.codes import all_codes, codespace_of, number_of
from civichain.modules import funds, governance, identity, land, notary, policy, registry

MODULES = Path(__file__).resolve().parents[2] / "src/civichain/modules"
DECLARED = (policy, registry, notary, governance, land, funds, identity)
CODE = re.compile(r"^(auth|registry|notary|governance|land|funds|identity)\.[a-z_]+$")

# The numbers as released, block by block: each block's codes in number order from its base.
RELEASED = {
    100: "codec.malformed codec.not_canonical tx.oversize tx.wrong_chain tx.bad_signature tx.stale_nonce "
         "tx.duplicate_nonce tx.nonce_too_far tx.nonce_gap tx.expired tx.expiry_too_far tx.unknown_module "
         "tx.unknown_action tx.bad_arguments auth.unknown_account auth.account_suspended auth.bad_endorsement "
         "auth.duplicate_endorsement tx.mempool_full auth.organisation_suspended",
    120: "auth.not_permitted auth.missing_endorsement",
    200: "registry.not_admin registry.bad_account_id registry.account_exists registry.unknown_account "
         "registry.cannot_suspend_self registry.already_suspended registry.not_suspended "
         "registry.rotation_not_permitted registry.same_key",
    300: "notary.not_permitted notary.already_anchored notary.not_found notary.already_revoked",
    400: "governance.not_admin governance.unknown_kind governance.bad_payload governance.bad_expiry "
         "governance.bad_execution_height governance.unknown_proposal governance.proposal_expired "
         "governance.proposal_closed governance.not_eligible governance.already_voted governance.organisation_exists "
         "governance.bad_account_id governance.account_exists governance.unknown_organisation "
         "governance.already_suspended governance.not_suspended governance.no_organisation_left "
         "governance.organisation_suspended governance.duplicate_validator governance.unknown_validator "
         "governance.no_validator_left governance.duplicate_node governance.unknown_observer governance.unknown_param "
         "governance.bad_param",
    500: "land.parcel_exists land.unknown_parcel land.parcel_retired land.title_exists land.no_title land.stale_title "
         "land.duplicate_owner land.bad_share land.shares_not_whole land.unknown_account land.no_change "
         "land.parcel_frozen land.encumbered land.unknown_encumbrance land.encumbrance_released land.already_frozen "
         "land.not_frozen land.duplicate_parcel land.area_not_conserved land.owners_differ land.land_use_differs",
    600: "funds.year_exists funds.unknown_year funds.year_closed funds.unsettled_commitments funds.id_taken "
         "funds.unknown_appropriation funds.unknown_programme funds.unknown_allocation funds.unknown_commitment "
         "funds.unknown_disbursement funds.unknown_department funds.unknown_payee funds.year_mismatch "
         "funds.exceeds_appropriation funds.exceeds_allocation funds.exceeds_commitment funds.below_allocated "
         "funds.below_committed funds.below_disbursed funds.no_change funds.commitment_cancelled "
         "funds.contract_mismatch funds.invoice_already_paid funds.already_reversed funds.year_total_too_large",
    700: "identity.did_exists identity.key_in_use identity.bad_controllers identity.unknown_did "
         "identity.did_deactivated identity.service_exists identity.bad_proof identity.key_exists "
         "identity.too_many_keys identity.bad_purposes identity.unknown_key identity.last_key "
         "identity.too_many_services identity.unknown_service identity.stale_version identity.not_controller "
         "identity.not_capability_key identity.bad_key_proof identity.unknown_organisation "
         "identity.organisation_suspended identity.issuer_exists identity.foreign_did identity.unknown_issuer "
         "identity.issuer_withdrawn identity.not_issuer identity.schema_exists identity.bad_indices "
         "identity.already_revoked identity.not_revoked",
    900: "p2p.unknown_node p2p.bad_node_id p2p.bad_address p2p.not_ready query.unknown_path",
}


def test_a_number_once_released_never_changes():
    for base, codes in RELEASED.items():
        for offset, code in enumerate(codes.split()):
            assert number_of(code) == base + offset, f"{code} was number {base + offset}"


def test_every_number_is_given_once_and_each_module_numbers_its_codes_in_one_block():
    numbers = list(all_codes().values())
    assert len(numbers) == len(set(numbers))
    for module in DECLARED:
        found = [number_of(code) for code in module.ERROR_CODES]
        assert found == list(range(found[0], found[0] + len(found))), module.__name__


def test_the_answer_for_ok_and_for_a_code_without_a_number():
    assert (number_of("ok"), codespace_of("ok")) == (0, "")
    assert (number_of("land.someday"), codespace_of("land.someday")) == (1, "land")


def test_no_module_raises_a_code_that_no_module_declares():
    declared = {code for module in DECLARED for code in module.ERROR_CODES}
    for path in sorted(MODULES.glob("*.py")):
        literals = {node.value for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value)}
        assert literals <= declared, f"{path.name} raises {sorted(literals - declared)}"
