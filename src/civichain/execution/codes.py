"""Stable numbers for error codes, as CometBFT's `code` field carries them.

The string code (`module.reason`) is the contract; the number is its ABCI form. Numbers are never reused:
add new codes at the end of their module's list.
"""

from __future__ import annotations

OK = 0
UNKNOWN = 1

_CODES: dict[str, int] = {}


def _register(base: int, codes: list[str]) -> None:
    for offset, code in enumerate(codes):
        _CODES[code] = base + offset


_register(100, [
    "codec.malformed", "codec.not_canonical", "tx.oversize", "tx.wrong_chain", "tx.bad_signature",
    "tx.stale_nonce", "tx.duplicate_nonce", "tx.nonce_too_far", "tx.nonce_gap", "tx.expired",
    "tx.expiry_too_far", "tx.unknown_module", "tx.unknown_action", "tx.bad_arguments",
    "auth.unknown_account", "auth.account_suspended", "auth.bad_endorsement", "auth.duplicate_endorsement",
    "tx.mempool_full", "auth.organisation_suspended", "auth.not_permitted", "auth.missing_endorsement",
])
_register(200, [
    "registry.not_admin", "registry.bad_account_id", "registry.account_exists", "registry.unknown_account",
    "registry.cannot_suspend_self", "registry.already_suspended", "registry.not_suspended",
    "registry.rotation_not_permitted", "registry.same_key",
])
_register(300, [
    "notary.not_permitted", "notary.already_anchored", "notary.not_found", "notary.already_revoked",
])
_register(400, [
    "governance.not_admin", "governance.unknown_kind", "governance.bad_payload", "governance.bad_expiry",
    "governance.bad_execution_height", "governance.unknown_proposal", "governance.proposal_expired",
    "governance.proposal_closed", "governance.not_eligible", "governance.already_voted",
    "governance.organisation_exists", "governance.bad_account_id", "governance.account_exists",
    "governance.unknown_organisation", "governance.already_suspended", "governance.not_suspended",
    "governance.no_organisation_left", "governance.organisation_suspended", "governance.duplicate_validator",
    "governance.unknown_validator", "governance.no_validator_left", "governance.duplicate_node",
    "governance.unknown_observer", "governance.unknown_param", "governance.bad_param",
])
_register(700, [
    "identity.did_exists", "identity.key_in_use", "identity.bad_controllers", "identity.unknown_did",
    "identity.did_deactivated", "identity.service_exists", "identity.bad_proof", "identity.key_exists",
    "identity.too_many_keys", "identity.bad_purposes", "identity.unknown_key", "identity.last_key",
    "identity.too_many_services", "identity.unknown_service", "identity.stale_version", "identity.not_controller",
    "identity.not_capability_key", "identity.bad_key_proof", "identity.unknown_organisation",
    "identity.organisation_suspended", "identity.issuer_exists", "identity.foreign_did", "identity.unknown_issuer",
    "identity.issuer_withdrawn", "identity.not_issuer", "identity.schema_exists", "identity.bad_indices",
    "identity.already_revoked", "identity.not_revoked",
])
_register(500, [
    "land.parcel_exists", "land.unknown_parcel", "land.parcel_retired", "land.title_exists", "land.no_title",
    "land.stale_title", "land.duplicate_owner", "land.bad_share", "land.shares_not_whole", "land.unknown_account",
    "land.no_change", "land.parcel_frozen", "land.encumbered", "land.unknown_encumbrance",
    "land.encumbrance_released", "land.already_frozen", "land.not_frozen", "land.duplicate_parcel",
    "land.area_not_conserved", "land.owners_differ", "land.land_use_differs",
])
_register(600, [
    "funds.year_exists", "funds.unknown_year", "funds.year_closed", "funds.unsettled_commitments",
    "funds.id_taken", "funds.unknown_appropriation", "funds.unknown_programme", "funds.unknown_allocation",
    "funds.unknown_commitment", "funds.unknown_disbursement", "funds.unknown_department", "funds.unknown_payee",
    "funds.year_mismatch", "funds.exceeds_appropriation", "funds.exceeds_allocation", "funds.exceeds_commitment",
    "funds.below_allocated", "funds.below_committed", "funds.below_disbursed", "funds.no_change",
    "funds.commitment_cancelled", "funds.contract_mismatch", "funds.invoice_already_paid", "funds.already_reversed",
    "funds.year_total_too_large",
])
# Answers to CometBFT's peer-filter queries (ABCI Query `/p2p/filter/...`), not transaction receipts.
_register(900, [
    "p2p.unknown_node", "p2p.bad_node_id", "p2p.bad_address", "p2p.not_ready", "query.unknown_path",
])


def number_of(code: str) -> int:
    """Return the ABCI number of a code: 0 for "ok", 1 for a code that has no number yet."""
    if code == "ok":
        return OK
    return _CODES.get(code, UNKNOWN)


def codespace_of(code: str) -> str:
    """Return the ABCI codespace of a code: the part before the dot."""
    return "" if code == "ok" else code.split(".", 1)[0]


def all_codes() -> dict[str, int]:
    """Return every registered code and its number."""
    return dict(_CODES)
