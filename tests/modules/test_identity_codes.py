"""Every identity code: declared once, raised by the module (did.py and credentials.py included), documented
with its number, and produced by a real transaction whose refusal changes nothing (see codesupport)."""

from __future__ import annotations

import pytest

from civichain.modules import identity
from civichain.modules.credentials import RegisterSchema, WithdrawIssuer
from civichain.modules.did import AUTHENTICATION, Service, did_of
from civichain.modules.identity import AddKey, AddService, DeactivateDid, RemoveKey, RemoveService, RotateKey
from civichain.modules.membership import SuspendOrganisation
from tests.modules.codesupport import (Scenarios, check_declaration, check_documented, check_scenario,
                                       check_scenarios)
from tests.modules.idsupport import CIVIL, FINANCE, LAND, TAX, IdChain, public, subject_key

ALICE = subject_key("alice")
SERVICE = Service(endpoint="https://alice.example/inbox", id="inbox", type="Inbox")
SCENARIOS = Scenarios()


def with_alice() -> tuple[IdChain, str]:
    """A chain with Alice's DID (her first key `key-1` serving every purpose)."""
    chain = IdChain()
    return chain, chain.create("alice")


def alice_changes(action: str, schema, chain: IdChain | None = None, did: str | None = None, **fields):
    """A change of Alice's DID signed with her first key, on a chain with her DID unless given one."""
    if chain is None:
        chain, did = with_alice()
    return chain, chain.change_tx(action, schema, did, ALICE, **fields)


def new_key(key_id: str = "phone", **fields) -> dict:
    return dict(new_key=subject_key(key_id), key_id=key_id, purposes=(AUTHENTICATION,), **fields)


def withdrawal() -> WithdrawIssuer:
    return WithdrawIssuer(credential_type="land_certificate", organisation=LAND, reason="merged")


def by_civil_affairs(chain: IdChain, action: str, args) -> tuple[IdChain, bytes]:
    return chain, chain.tx(chain.admins[CIVIL], "identity", action, args)


def land_issuer() -> IdChain:
    """A chain where land-bureau issues land certificates."""
    chain = IdChain()
    chain.land_issuer()
    return chain


def revoked(*indices: int) -> IdChain:
    chain = land_issuer()
    run = chain.block(chain.status_tx(chain.issuer_officer, "revoke", "land_certificate", *indices))
    assert run.receipts[0].code == "ok"
    return chain


# --- DIDs -------------------------------------------------------------------------------------------------

@SCENARIOS.of("identity.did_exists")
def a_key_creates_a_second_did():
    chain, _ = with_alice()
    return chain, chain.create_tx(ALICE)


@SCENARIOS.of("identity.key_in_use")
def a_key_of_one_did_creates_another():
    chain, did = with_alice()
    chain.block(chain.change_tx("add_key", AddKey, did, ALICE, **new_key()))
    return chain, chain.create_tx(subject_key("phone"))


@SCENARIOS.of("identity.bad_controllers")
def controllers_out_of_order():
    chain = IdChain()
    a, b = sorted([chain.create("a"), chain.create("b")])
    return chain, chain.create_tx(ALICE, controllers=(b, a))


@SCENARIOS.of("identity.unknown_did")
def a_change_of_a_did_never_created():
    chain = IdChain()
    ghost = did_of(public(subject_key("ghost")))
    return chain, chain.change_tx("add_service", AddService, ghost, subject_key("ghost"), version=1, service=SERVICE)


@SCENARIOS.of("identity.did_deactivated")
def a_change_of_a_deactivated_did():
    chain, did = with_alice()
    chain.block(chain.change_tx("deactivate_did", DeactivateDid, did, ALICE))
    return alice_changes("add_service", AddService, chain, did, service=SERVICE)


@SCENARIOS.of("identity.service_exists")
def a_did_created_with_a_service_id_twice():
    chain = IdChain()
    twice = (SERVICE, Service(endpoint="https://x.example", id="inbox", type="T"))
    return chain, chain.create_tx(ALICE, services=twice)


@SCENARIOS.of("identity.bad_proof")
def a_did_created_without_its_keys_signature():
    chain = IdChain()
    return chain, chain.create_tx(ALICE, sign_with=subject_key("mallory"))


@SCENARIOS.of("identity.key_exists")
def a_key_id_added_twice():
    return alice_changes("add_key", AddKey, **new_key("key-1"))


@SCENARIOS.of("identity.too_many_keys")
def a_ninth_key():
    chain, did = with_alice()
    for i in range(2, 9):
        run = chain.block(chain.change_tx("add_key", AddKey, did, ALICE, **new_key(f"key-{i}")))
        assert run.receipts[0].code == "ok"
    return alice_changes("add_key", AddKey, chain, did, **new_key("key-9"))


@SCENARIOS.of("identity.bad_purposes")
def purposes_out_of_order():
    return alice_changes("add_key", AddKey, **{**new_key(), "purposes": ("capability_invocation", "assertion_method")})


@SCENARIOS.of("identity.unknown_key")
def a_key_id_the_document_lacks_is_rotated():
    return alice_changes("rotate_key", RotateKey, new_key=subject_key("new"), key_id="nope")


@SCENARIOS.of("identity.last_key")
def the_last_capability_key_removed():
    return alice_changes("remove_key", RemoveKey, key_id="key-1")


@SCENARIOS.of("identity.too_many_services")
def a_ninth_service():
    chain = IdChain()
    services = tuple(Service(endpoint=f"https://s{i}.example", id=f"s{i}", type="T") for i in range(8))
    did = chain.create("alice", services=services)
    return alice_changes("add_service", AddService, chain, did, service=SERVICE)


@SCENARIOS.of("identity.unknown_service")
def a_service_the_document_lacks_is_removed():
    return alice_changes("remove_service", RemoveService, service_id="nope")


@SCENARIOS.of("identity.stale_version")
def a_change_signed_for_an_earlier_version():
    chain, did = with_alice()
    chain.block(chain.change_tx("add_service", AddService, did, ALICE, service=SERVICE))
    return alice_changes("remove_service", RemoveService, chain, did, service_id="inbox", version=1)


@SCENARIOS.of("identity.not_controller")
def a_change_signed_by_a_stranger():
    chain, did = with_alice()
    stranger = chain.create("stranger")
    return chain, chain.change_tx("add_service", AddService, did, subject_key("stranger"), signer=f"{stranger}#key-1",
                                  service=SERVICE)


@SCENARIOS.of("identity.not_capability_key")
def a_change_signed_by_an_authentication_key():
    chain, did = with_alice()
    chain.block(chain.change_tx("add_key", AddKey, did, ALICE, **new_key("login")))
    return chain, chain.change_tx("add_service", AddService, did, subject_key("login"), signer=f"{did}#login",
                                  service=SERVICE)


@SCENARIOS.of("identity.bad_key_proof")
def a_key_brought_in_without_its_own_signature():
    return alice_changes("add_key", AddKey, **new_key(key_proof_key=ALICE))


# --- issuers, schemas and status lists -------------------------------------------------------------------

@SCENARIOS.of("identity.unknown_organisation")
def an_issuer_of_no_organisation():
    chain, did = with_alice()
    return chain, chain.register_issuer("court", "verdict", did)


@SCENARIOS.of("identity.organisation_suspended")
def an_issuer_of_a_suspended_organisation():
    chain = IdChain()
    did = chain.create("tax seal", sender=chain.admins[TAX])
    chain.block(chain.propose(chain.admins[LAND], "suspend_organisation", SuspendOrganisation(id=TAX, reason="merged")))
    chain.block(chain.vote(chain.admins[FINANCE], 1), chain.vote(chain.admins[CIVIL], 1))
    return chain, chain.register_issuer(TAX, "tax_clearance", did)


@SCENARIOS.of("identity.issuer_exists")
def an_issuer_registered_twice():
    chain = IdChain()
    did = chain.land_issuer()
    return chain, chain.register_issuer(LAND, "land_certificate", did)


@SCENARIOS.of("identity.foreign_did")
def an_issuer_signing_with_another_organisations_did():
    chain = IdChain()
    finance_did = chain.create("finance seal", sender=chain.admins[FINANCE])
    return chain, chain.register_issuer(LAND, "land_certificate", finance_did)


@SCENARIOS.of("identity.unknown_issuer")
def an_issuer_never_registered_is_withdrawn():
    return by_civil_affairs(IdChain(), "withdraw_issuer", withdrawal())


@SCENARIOS.of("identity.issuer_withdrawn")
def an_issuer_withdrawn_twice():
    chain = land_issuer()
    chain.block(chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer", withdrawal()))
    return by_civil_affairs(chain, "withdraw_issuer", withdrawal())


@SCENARIOS.of("identity.not_issuer")
def another_organisation_revokes_land_certificates():
    chain = land_issuer()
    return chain, chain.status_tx(chain.admins[FINANCE], "revoke", "land_certificate", 1)


@SCENARIOS.of("identity.schema_exists")
def a_schema_registered_twice():
    chain = land_issuer()
    schema = RegisterSchema(credential_type="land_certificate", digest=bytes(32), title="Land certificate v1")
    chain.block(chain.tx(chain.issuer_officer, "identity", "register_schema", schema))
    return chain, chain.tx(chain.issuer_officer, "identity", "register_schema", schema)


@SCENARIOS.of("identity.bad_indices")
def indices_out_of_order():
    chain = land_issuer()
    return chain, chain.status_tx(chain.issuer_officer, "revoke", "land_certificate", 5, 3)


@SCENARIOS.of("identity.already_revoked")
def a_credential_revoked_twice():
    chain = revoked(3)
    return chain, chain.status_tx(chain.issuer_officer, "revoke", "land_certificate", 2, 3)


@SCENARIOS.of("identity.not_revoked")
def a_credential_in_force_unrevoked():
    chain = revoked(3)
    return chain, chain.status_tx(chain.issuer_officer, "unrevoke", "land_certificate", 4)


def test_the_declared_codes_are_the_ones_identity_raises():
    check_declaration(identity.ERROR_CODES, "identity", "identity.py", "did.py", "credentials.py")


def test_every_identity_code_is_documented_with_its_number():
    check_documented(identity.ERROR_CODES, "identity.md")


def test_every_identity_code_has_a_scenario():
    check_scenarios(identity.ERROR_CODES, SCENARIOS)


@pytest.mark.parametrize("code", identity.ERROR_CODES)
def test_the_scenario_gets_its_code_and_changes_nothing(code):
    check_scenario(SCENARIOS, code)
