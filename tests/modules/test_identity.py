"""Identity: DIDs and their documents, issuers, schemas and status lists; every action and every refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from civichain.crypto import ED25519_SHA256
from civichain.modules.credentials import RegisterSchema, WithdrawIssuer, is_revoked, schema_key
from civichain.modules.did import (
    ASSERTION,
    AUTHENTICATION,
    CAPABILITY,
    PURPOSES,
    Service,
    did_of,
    operation_bytes,
    verify_with_document,
)
from civichain.modules.identity import AddKey, AddService, DeactivateDid, RemoveKey, RemoveService, RotateKey
from civichain.modules.membership import SuspendOrganisation
from tests.conftest import CHAIN
from tests.modules.chainsupport import refused
from tests.modules.idsupport import CIVIL, FINANCE, LAND, TAX, IdChain, public, subject_key

SERVICE = Service(endpoint="https://civil-affairs.example.gov.cn/credentials", id="inbox", type="CredentialInbox")


@pytest.fixture
def chain() -> IdChain:
    return IdChain()


def events(run, index: int = 0) -> list[tuple[str, str]]:
    return [(e.type, e.key) for e in run.receipts[index].events]


def attributes(run, index: int = 0, event: int = 0) -> dict[str, str]:
    return {a.key: a.value for a in run.receipts[index].events[event].attributes}


# --- creating DIDs ------------------------------------------------------------------------------------------

def test_a_did_is_derived_from_its_first_key_and_created_with_that_key_signing(chain):
    key = subject_key("alice")
    run = chain.block(chain.create_tx(key, services=(SERVICE,)))
    did = did_of(public(key))
    assert did == "did:civic:" + hashlib.sha256(b"civichain/did/v1\x00" + public(key)).hexdigest()[:32]
    assert run.receipts[0].code == "ok" and events(run) == [("did_created", did)]
    assert attributes(run)["registered_by"] == LAND and attributes(run)["public_key"] == public(key).hex()
    document = chain.document(did)
    assert document.version == 1 and document.active and document.registered_by == LAND
    assert [(k.id, k.public_key, k.purposes) for k in document.keys] == [("key-1", public(key), PURPOSES)]
    assert document.services == (SERVICE,) and document.controllers == ()
    assert chain.binding(key).did == did and chain.binding(key).retired_at is None


def test_a_did_can_name_controllers_whose_keys_may_change_it(chain):
    guardian = chain.create("guardian")
    ward = chain.create("ward", controllers=(guardian,))
    run = chain.block(chain.change_tx("add_service", AddService, ward, subject_key("guardian"), signer=f"{guardian}#key-1",
                                      service=SERVICE))
    assert run.receipts[0].code == "ok" and chain.document(ward).services == (SERVICE,)
    assert attributes(run)["signer"] == f"{guardian}#key-1"


def test_only_admins_and_identity_officers_create_dids(chain):
    refused(chain, chain.create_tx(subject_key("bob"), sender=chain.clerk), "auth.not_permitted")
    assert chain.block(chain.create_tx(subject_key("bob"), sender=chain.admins[TAX])).receipts[0].code == "ok"


def test_a_key_creates_one_did(chain):
    chain.create("alice")
    refused(chain, chain.create_tx(subject_key("alice")), "identity.did_exists")


def test_a_key_bound_to_another_did_cannot_create_one(chain):
    did = chain.create("alice")
    extra = subject_key("alice second key")
    chain.block(chain.change_tx("add_key", AddKey, did, subject_key("alice"), new_key=extra, key_id="phone",
                                purposes=(AUTHENTICATION,)))
    refused(chain, chain.create_tx(extra), "identity.key_in_use")


def test_create_refuses_a_request_not_signed_by_the_new_key(chain):
    refused(chain, chain.create_tx(subject_key("alice"), sign_with=subject_key("mallory")), "identity.bad_proof")


def test_controllers_must_be_other_active_dids_sorted_once(chain):
    a, b = sorted([chain.create("a"), chain.create("b")])
    refused(chain, chain.create_tx(subject_key("c"), controllers=(b, a)), "identity.bad_controllers")
    refused(chain, chain.create_tx(subject_key("c"), controllers=(a, a)), "identity.bad_controllers")
    refused(chain, chain.create_tx(subject_key("c"), controllers=(did_of(public(subject_key("c"))),)),
            "identity.bad_controllers")
    refused(chain, chain.create_tx(subject_key("c"), controllers=(did_of(public(subject_key("nobody"))),)),
            "identity.unknown_did")
    chain.block(chain.change_tx("deactivate_did", DeactivateDid, a, subject_key("a")))
    refused(chain, chain.create_tx(subject_key("c"), controllers=(a,)), "identity.did_deactivated")


def test_create_refuses_a_service_id_twice(chain):
    twice = (SERVICE, Service(endpoint="https://elsewhere.example", id=SERVICE.id, type="Other"))
    refused(chain, chain.create_tx(subject_key("alice"), services=twice), "identity.service_exists")


# --- keys ---------------------------------------------------------------------------------------------------

def test_a_key_is_added_with_its_purposes_and_its_own_proof(chain):
    did = chain.create("alice")
    phone = subject_key("alice phone")
    run = chain.block(chain.change_tx("add_key", AddKey, did, subject_key("alice"), new_key=phone, key_id="phone",
                                      purposes=(ASSERTION, AUTHENTICATION)))
    assert run.receipts[0].code == "ok" and events(run) == [("key_added", did)]
    document = chain.document(did)
    assert document.version == 2 and document.key("phone").purposes == (ASSERTION, AUTHENTICATION)
    assert chain.binding(phone).key_id == "phone"
    message = b"a credential"
    assert verify_with_document(document, "phone", ASSERTION, message, ED25519_SHA256.sign(phone, message))
    assert not verify_with_document(document, "phone", CAPABILITY, message, ED25519_SHA256.sign(phone, message))


def test_rotation_replaces_the_key_and_retires_the_old_one_for_good(chain):
    did = chain.create("alice")
    old, new = subject_key("alice"), subject_key("alice 2027")
    run = chain.block(chain.change_tx("rotate_key", RotateKey, did, old, new_key=new, key_id="key-1"))
    assert run.receipts[0].code == "ok" and events(run) == [("key_rotated", did)]
    assert attributes(run)["previous_key"] == public(old).hex() and attributes(run)["public_key"] == public(new).hex()
    document = chain.document(did)
    assert document.key("key-1").public_key == public(new) and document.key("key-1").purposes == PURPOSES
    assert document.key("key-1").since == chain.height and document.version == 2
    assert chain.binding(old).retired_at == chain.height and chain.binding(new).retired_at is None
    message = b"signed after the rotation"
    assert not verify_with_document(document, "key-1", ASSERTION, message, ED25519_SHA256.sign(old, message))
    assert verify_with_document(document, "key-1", ASSERTION, message, ED25519_SHA256.sign(new, message))
    # The old key no longer signs changes, and can never be brought back.
    refused(chain, chain.change_tx("add_service", AddService, did, old, service=SERVICE), "identity.bad_proof")
    refused(chain, chain.change_tx("add_key", AddKey, did, new, new_key=old, key_id="back", purposes=(AUTHENTICATION,)),
            "identity.key_in_use")


def test_a_removed_key_is_retired(chain):
    did = chain.create("alice")
    phone = subject_key("alice phone")
    chain.block(chain.change_tx("add_key", AddKey, did, subject_key("alice"), new_key=phone, key_id="phone",
                                purposes=(CAPABILITY,)))
    run = chain.block(chain.change_tx("remove_key", RemoveKey, did, phone, signer=f"{did}#phone", key_id="key-1"))
    assert run.receipts[0].code == "ok" and events(run) == [("key_removed", did)]
    assert [k.id for k in chain.document(did).keys] == ["phone"]
    assert chain.binding(subject_key("alice")).retired_at == chain.height


def test_add_key_refusals(chain):
    did = chain.create("alice")
    alice = subject_key("alice")
    refused(chain, chain.change_tx("add_key", AddKey, did, alice, new_key=subject_key("k"), key_id="key-1",
                                   purposes=(AUTHENTICATION,)), "identity.key_exists")
    refused(chain, chain.change_tx("add_key", AddKey, did, alice, new_key=subject_key("k"), key_id="k",
                                   purposes=(AUTHENTICATION, ASSERTION)), "identity.bad_purposes")
    refused(chain, chain.change_tx("add_key", AddKey, did, alice, new_key=subject_key("k"), key_id="k",
                                   purposes=(AUTHENTICATION, AUTHENTICATION)), "identity.bad_purposes")
    refused(chain, chain.change_tx("add_key", AddKey, did, alice, new_key=alice, key_id="k", purposes=(AUTHENTICATION,)),
            "identity.key_in_use")
    refused(chain, chain.change_tx("add_key", AddKey, did, alice, new_key=subject_key("k"), key_proof_key=alice,
                                   key_id="k", purposes=(AUTHENTICATION,)), "identity.bad_key_proof")


def test_a_document_holds_at_most_eight_keys(chain):
    did = chain.create("alice")
    for i in range(2, 9):
        run = chain.block(chain.change_tx("add_key", AddKey, did, subject_key("alice"), new_key=subject_key(f"k{i}"),
                                          key_id=f"key-{i}", purposes=(AUTHENTICATION,)))
        assert run.receipts[0].code == "ok"
    refused(chain, chain.change_tx("add_key", AddKey, did, subject_key("alice"), new_key=subject_key("k9"),
                                   key_id="key-9", purposes=(AUTHENTICATION,)), "identity.too_many_keys")


def test_rotate_and_remove_refusals(chain):
    did = chain.create("alice")
    alice = subject_key("alice")
    refused(chain, chain.change_tx("rotate_key", RotateKey, did, alice, new_key=subject_key("n"), key_id="nope"),
            "identity.unknown_key")
    refused(chain, chain.change_tx("remove_key", RemoveKey, did, alice, key_id="nope"), "identity.unknown_key")
    refused(chain, chain.change_tx("remove_key", RemoveKey, did, alice, key_id="key-1"), "identity.last_key")


# --- who may change a document ------------------------------------------------------------------------------

def test_a_change_must_be_signed_by_a_capability_key_of_the_did_or_a_controller(chain):
    did, stranger = chain.create("alice"), chain.create("stranger")
    alice, login = subject_key("alice"), subject_key("alice login")
    chain.block(chain.change_tx("add_key", AddKey, did, alice, new_key=login, key_id="login", purposes=(AUTHENTICATION,)))
    refused(chain, chain.change_tx("add_service", AddService, did, subject_key("stranger"), signer=f"{stranger}#key-1",
                                   service=SERVICE), "identity.not_controller")
    refused(chain, chain.change_tx("add_service", AddService, did, alice, signer=f"{did}#key-7", service=SERVICE),
            "identity.unknown_key")
    refused(chain, chain.change_tx("add_service", AddService, did, login, signer=f"{did}#login", service=SERVICE),
            "identity.not_capability_key")
    refused(chain, chain.change_tx("add_service", AddService, did, subject_key("mallory"), service=SERVICE),
            "identity.bad_proof")


def test_a_change_names_the_version_it_applies_to_so_it_applies_once(chain):
    did = chain.create("alice")
    tx = chain.change_tx("add_service", AddService, did, subject_key("alice"), service=SERVICE)
    chain.block(tx)
    replayed = chain.change_tx("add_service", AddService, did, subject_key("alice"), version=1,
                               service=Service(endpoint="https://x.example", id="other", type="T"))
    refused(chain, replayed, "identity.stale_version")


def test_a_signature_is_for_one_chain_and_one_action():
    args = RemoveService(did=did_of(b"\x01" * 32), proof=b"", service_id="a", signer=did_of(b"\x01" * 32) + "#key-1", version=1)
    assert operation_bytes(CHAIN, "remove_service", args) != operation_bytes("other-chain", "remove_service", args)
    assert operation_bytes(CHAIN, "remove_service", args) != operation_bytes(CHAIN, "remove_key", args)


def test_changes_of_an_unknown_did_are_refused(chain):
    ghost = did_of(public(subject_key("ghost")))
    refused(chain, chain.change_tx("add_service", AddService, ghost, subject_key("ghost"), version=1, service=SERVICE),
            "identity.unknown_did")


def test_a_controller_deactivated_no_longer_signs(chain):
    guardian = chain.create("guardian")
    ward = chain.create("ward", controllers=(guardian,))
    chain.block(chain.change_tx("deactivate_did", DeactivateDid, guardian, subject_key("guardian")))
    refused(chain, chain.change_tx("add_service", AddService, ward, subject_key("guardian"), signer=f"{guardian}#key-1",
                                   service=SERVICE), "identity.did_deactivated")


# --- services -----------------------------------------------------------------------------------------------

def test_services_are_added_and_removed(chain):
    did = chain.create("alice")
    alice = subject_key("alice")
    run = chain.block(chain.change_tx("add_service", AddService, did, alice, service=SERVICE))
    assert events(run) == [("service_added", did)] and chain.document(did).services == (SERVICE,)
    refused(chain, chain.change_tx("add_service", AddService, did, alice, service=SERVICE), "identity.service_exists")
    refused(chain, chain.change_tx("remove_service", RemoveService, did, alice, service_id="nope"),
            "identity.unknown_service")
    run = chain.block(chain.change_tx("remove_service", RemoveService, did, alice, service_id=SERVICE.id))
    assert events(run) == [("service_removed", did)] and chain.document(did).services == ()
    assert chain.document(did).version == 3


def test_a_document_holds_at_most_eight_services(chain):
    services = tuple(Service(endpoint=f"https://s{i}.example", id=f"s{i}", type="T") for i in range(8))
    did = chain.create("alice", services=services)
    refused(chain, chain.change_tx("add_service", AddService, did, subject_key("alice"), service=SERVICE),
            "identity.too_many_services")


# --- deactivation -------------------------------------------------------------------------------------------

def test_deactivation_is_final_and_retires_every_key(chain):
    did = chain.create("alice", services=(SERVICE,))
    alice = subject_key("alice")
    run = chain.block(chain.change_tx("deactivate_did", DeactivateDid, did, alice))
    assert run.receipts[0].code == "ok" and events(run) == [("did_deactivated", did)]
    document = chain.document(did)
    assert document.deactivated_at == chain.height and not document.active
    assert document.keys == () and document.services == () and document.version == 2
    assert chain.binding(alice).retired_at == chain.height
    refused(chain, chain.change_tx("add_service", AddService, did, alice, service=SERVICE), "identity.did_deactivated")
    refused(chain, chain.change_tx("deactivate_did", DeactivateDid, did, alice), "identity.did_deactivated")
    refused(chain, chain.create_tx(alice), "identity.did_exists")


# --- issuers ------------------------------------------------------------------------------------------------

def test_civil_affairs_registers_and_withdraws_issuers(chain):
    did = chain.create("land-bureau seal")
    run = chain.block(chain.register_issuer(LAND, "land_certificate", did))
    assert run.receipts[0].code == "ok" and events(run) == [("issuer_registered", "land-bureau/land_certificate")]
    record = chain.issuer(LAND, "land_certificate")
    assert record.did == did and record.active and record.registered_by == chain.admins[CIVIL].account
    run = chain.block(chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer",
                               WithdrawIssuer(credential_type="land_certificate", organisation=LAND, reason="merged")))
    assert events(run) == [("issuer_withdrawn", "land-bureau/land_certificate")]
    assert chain.issuer(LAND, "land_certificate").withdrawn_at == chain.height
    # registered again later, with the same status list
    assert chain.block(chain.register_issuer(LAND, "land_certificate", did)).receipts[0].code == "ok"
    assert chain.issuer(LAND, "land_certificate").active


def test_only_civil_affairs_admins_decide_issuers(chain):
    did = chain.create("land-bureau seal")
    refused(chain, chain.register_issuer(LAND, "land_certificate", did, sender=chain.admins[LAND]), "auth.not_permitted")
    refused(chain, chain.tx(chain.admins[FINANCE], "identity", "withdraw_issuer",
                            WithdrawIssuer(credential_type="x", organisation=LAND, reason="r")), "auth.not_permitted")


def test_register_issuer_refusals(chain):
    did = chain.create("land-bureau seal")
    finance_did = chain.create("finance seal", sender=chain.admins[FINANCE])
    refused(chain, chain.register_issuer("court", "verdict", did), "identity.unknown_organisation")
    refused(chain, chain.register_issuer(LAND, "land_certificate", did_of(public(subject_key("x")))),
            "identity.unknown_did")
    refused(chain, chain.register_issuer(LAND, "land_certificate", finance_did), "identity.foreign_did")
    chain.block(chain.register_issuer(LAND, "land_certificate", did))
    refused(chain, chain.register_issuer(LAND, "land_certificate", did), "identity.issuer_exists")
    chain.block(chain.change_tx("deactivate_did", DeactivateDid, did, subject_key("land-bureau seal")))
    refused(chain, chain.register_issuer(LAND, "other_certificate", did), "identity.did_deactivated")


def test_a_suspended_organisation_is_not_registered_as_an_issuer(chain):
    did = chain.create("tax seal", sender=chain.admins[TAX])
    payload = SuspendOrganisation(id=TAX, reason="merged into finance")
    chain.block(chain.propose(chain.admins[LAND], "suspend_organisation", payload))
    chain.block(chain.vote(chain.admins[FINANCE], 1), chain.vote(chain.admins[CIVIL], 1))
    refused(chain, chain.register_issuer(TAX, "tax_clearance", did), "identity.organisation_suspended")


def test_withdraw_issuer_refusals(chain):
    withdraw = WithdrawIssuer(credential_type="land_certificate", organisation=LAND, reason="r")
    refused(chain, chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer", withdraw), "identity.unknown_issuer")
    chain.land_issuer()
    chain.block(chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer", withdraw))
    refused(chain, chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer", withdraw), "identity.issuer_withdrawn")


# --- schemas ------------------------------------------------------------------------------------------------

def test_an_issuer_registers_a_schema_by_its_digest_once(chain):
    chain.land_issuer()
    digest = hashlib.sha256(b'{"title": "Land certificate v1"}').digest()
    schema = RegisterSchema(credential_type="land_certificate", digest=digest, title="Land certificate v1")
    run = chain.block(chain.tx(chain.issuer_officer, "identity", "register_schema", schema))
    assert run.receipts[0].code == "ok" and events(run) == [("schema_registered", digest.hex())]
    assert chain.state[schema_key(digest)]
    refused(chain, chain.tx(chain.admins[LAND], "identity", "register_schema", schema), "identity.schema_exists")
    other = RegisterSchema(credential_type="land_certificate", digest=bytes(32), title="t")
    refused(chain, chain.tx(chain.admins[FINANCE], "identity", "register_schema", other), "identity.not_issuer")
    refused(chain, chain.tx(chain.clerk, "identity", "register_schema", other), "auth.not_permitted")
    chain.block(chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer",
                         WithdrawIssuer(credential_type="land_certificate", organisation=LAND, reason="r")))
    refused(chain, chain.tx(chain.admins[LAND], "identity", "register_schema", other), "identity.issuer_withdrawn")


# --- status lists -------------------------------------------------------------------------------------------

def test_the_issuer_revokes_and_unrevokes_bits_of_its_status_list(chain):
    chain.land_issuer()
    run = chain.block(chain.status_tx(chain.issuer_officer, "revoke", "land_certificate", 0, 9, 17))
    assert run.receipts[0].code == "ok" and events(run) == [("revoked", "land-bureau/land_certificate")]
    assert attributes(run)["indices"] == "0,9,17" and attributes(run)["revoked"] == "3"
    listed = chain.status_list(LAND, "land_certificate")
    assert listed.bits == bytes([0b1000_0000, 0b0100_0000, 0b0100_0000]) and listed.revoked == 3
    assert [i for i in range(30) if is_revoked(listed.bits, i)] == [0, 9, 17]
    run = chain.block(chain.status_tx(chain.admins[LAND], "unrevoke", "land_certificate", 17))
    assert events(run) == [("unrevoked", "land-bureau/land_certificate")]
    # trailing zero bytes are trimmed: one set of revoked indices has one byte form
    assert chain.status_list(LAND, "land_certificate").bits == bytes([0b1000_0000, 0b0100_0000])


def test_only_the_issuers_own_staff_change_its_status_list(chain):
    chain.land_issuer()
    refused(chain, chain.status_tx(chain.admins[FINANCE], "revoke", "land_certificate", 1), "identity.not_issuer")
    refused(chain, chain.status_tx(chain.clerk, "revoke", "land_certificate", 1), "auth.not_permitted")
    refused(chain, chain.status_tx(chain.admins[LAND], "revoke", "marriage_certificate", 1), "identity.not_issuer")


def test_status_changes_refusals(chain):
    chain.land_issuer()
    refused(chain, chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 5, 3), "identity.bad_indices")
    refused(chain, chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 3, 3), "identity.bad_indices")
    refused(chain, chain.status_tx(chain.admins[LAND], "unrevoke", "land_certificate", 3), "identity.not_revoked")
    chain.block(chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 3))
    refused(chain, chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 2, 3), "identity.already_revoked")


def test_a_withdrawn_issuer_may_still_revoke_but_never_unrevoke(chain):
    chain.land_issuer()
    chain.block(chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 1))
    chain.block(chain.tx(chain.admins[CIVIL], "identity", "withdraw_issuer",
                         WithdrawIssuer(credential_type="land_certificate", organisation=LAND, reason="closed")))
    assert chain.block(chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 2)).receipts[0].code == "ok"
    refused(chain, chain.status_tx(chain.admins[LAND], "unrevoke", "land_certificate", 1), "identity.issuer_withdrawn")


def test_indices_past_the_largest_list_are_refused_at_admission(chain):
    chain.land_issuer()
    run = chain.block(chain.status_tx(chain.admins[LAND], "revoke", "land_certificate", 131_072))
    assert run.receipts[0].code == "tx.bad_arguments"



def test_the_worked_example_in_the_docs():
    from civichain.api.identity import base58btc

    first = ED25519_SHA256.public_key(hashlib.sha256(b"example: alice first key").digest())
    new = ED25519_SHA256.public_key(hashlib.sha256(b"example: alice 2027 key").digest())
    did = did_of(first)
    assert first.hex() == "fc44bed5462997e36bb78d1f5d3ebba1a05ab186b114eef3217cea8dad9d314d"
    assert did == "did:civic:b0c82ff7a13a94df135df73ac795a883"
    assert "z" + base58btc(b"\xed\x01" + first) == "z6MkwS1aqGvfjmLPQ1Tqzt5mAmccLdTEovASV67ba5osH6b6"
    assert new.hex() == "52a2dc4f27bb1083683e9e7add49203aab268885df8364d58e921be89c89b9d4"
    args = RotateKey(did=did, key_id="key-1", key_proof=b"", proof=b"", public_key=new, signer=f"{did}#key-1", version=1)
    message = operation_bytes("civichain-3f2a1c", "rotate_key", args)
    assert len(message) == 249
    assert message.startswith(b"civichain/did-operation/v1\x00\x92\xb0civichain-3f2a1c\xaarotate_key")
    docs = (Path(__file__).resolve().parents[2] / "docs/modules/identity.md").read_text()
    for value in (first.hex(), did, new.hex(), "z6MkwS1aqGvfjmLPQ1Tqzt5mAmccLdTEovASV67ba5osH6b6", "249 bytes"):
        assert value in docs
