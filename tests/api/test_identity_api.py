"""The identity endpoints over a real store: DID resolution at past heights, the DID of a key, histories (each
entry with its inclusion proof), issuers, schemas and status lists, each answer with a proof that verifies."""

from __future__ import annotations

import msgspec
import pytest

from civichain.api.identity import base58btc
from civichain.api.server import create_app
from civichain.client.proofs import check_entry_inclusion, check_record, check_state_answer
from civichain.modules.credentials import IssuerRecord, RegisterSchema, SchemaRecord
from civichain.modules.did import KeyBinding, Service, did_of
from civichain.modules.identity import AddService, DeactivateDid, RotateKey
from civichain.modules.registry import RotateKey as RotateAccountKey
from civichain.node.config import NodeConfig
from tests.api.test_governance_api import Api
from tests.api.test_land_api import checkpoint_of
from tests.conftest import CHAIN, make_signer, open_ledger, run_block
from tests.ledger.test_governance_ledger import engine_validators
from tests.modules.idsupport import FINANCE, LAND, IdChain, public, subject_key

SCHEMA = bytes.fromhex("5c" * 32)                                               # block 13
SERVICE = Service(endpoint="https://wallet.example/inbox", id="inbox", type="CredentialInbox")


class LedgerIdChain(IdChain):
    """The in-memory identity chain, each block also run and committed by a ledger on SQLite."""

    def __init__(self, home) -> None:
        self.home, self.ledger = home, None
        super().__init__()

    def block(self, *txs: bytes):
        if self.ledger is None:
            self.ledger = open_ledger(self.home)
            self.ledger.init_chain(CHAIN, msgspec.json.encode(self.genesis), engine_validators(self))
        run = super().block(*txs)
        outcome = run_block(self.ledger, list(txs))
        assert [r.code for r in outcome.receipts] == [r.code for r in run.receipts]
        return run


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("identity-api")
    chain = LedgerIdChain(home)                                                   # block 1: officers
    alice, alice_2027 = subject_key("alice"), subject_key("alice 2027")
    did = chain.create("alice")                                                   # 2
    chain.block(chain.change_tx("rotate_key", RotateKey, did, alice, new_key=alice_2027, key_id="key-1"))   # 3
    chain.block(chain.change_tx("add_service", AddService, did, alice_2027, service=SERVICE))             # 4
    chain.block()                                                                 # 5
    chain.block(chain.change_tx("deactivate_did", DeactivateDid, did, alice_2027))                       # 6
    issuer_did = chain.land_issuer()                                              # 7, 8
    chain.block(chain.status_tx(chain.issuer_officer, "revoke", "land_certificate", 0, 5))              # 9
    fresh = make_signer(chain.clerk.account, "clerk 2027")
    chain.block(chain.tx(chain.clerk, "registry", "rotate_key", RotateAccountKey(id=chain.clerk.account,
                                                                                public_key=fresh.public_key)))  # 10
    finance_did = chain.create("finance seal", sender=chain.admins[FINANCE])     # 11
    chain.block(chain.register_issuer(FINANCE, "tax_receipt", finance_did))      # 12
    chain.block(chain.tx(chain.issuer_officer, "identity", "register_schema",
                         RegisterSchema(credential_type="land_certificate", digest=SCHEMA, title="Land certificate v1")))
    chain.ledger.store.close()
    config = NodeConfig.model_validate({
        "node": {"name": "node0", "organisation": "land-bureau"}, "abci": {"port": 1}, "api": {"port": 2},
        "cometbft": {"rpc_port": 3, "p2p_port": 4}, "storage": {"path": "civichain.db"}})
    return Api(create_app(home, config)), chain, did, issuer_did


async def test_a_did_resolves_at_each_height_to_the_document_then_with_a_proof(world):
    api, _, did, _ = world
    keys = {}
    for height in (2, 3, 4, 5, 6, None):
        answer = (await api.get(f"/v1/identity/dids/{did}", {"height": height} if height else None)).json()
        check_state_answer(answer["state"]["key"].encode(), answer["state"])
        assert answer["state"]["key"] == f"identity/did/{did.removeprefix('did:civic:')}"
        keys[height] = [k["public_key"] for k in answer["document"]["keys"]]
        keys[f"v{height}"] = answer["document"]["version"]
        keys[f"s{height}"] = [s["id"] for s in answer["document"]["services"]]
    assert keys[2] == [public(subject_key("alice")).hex()] and keys[3] == [public(subject_key("alice 2027")).hex()]
    assert [keys["s3"], keys["s4"], keys["s5"]] == [[], ["inbox"], ["inbox"]]
    assert [keys[f"v{h}"] for h in (2, 3, 4, 5, 6, None)] == [1, 2, 3, 3, 4, 4]
    assert keys[6] == [] and keys[None] == []
    latest = (await api.get(f"/v1/identity/dids/{did}")).json()
    assert latest["height"] == 13 and latest["did_document_metadata"]["deactivated"] is True


async def test_the_w3c_form_of_a_document(world):
    api, _, did, _ = world
    answer = (await api.get(f"/v1/identity/dids/{did}", {"height": 4})).json()
    w3c, key = answer["did_document"], public(subject_key("alice 2027"))
    assert w3c["id"] == did and w3c["controller"] == [did]
    assert w3c["verificationMethod"] == [{"id": f"{did}#key-1", "type": "Ed25519VerificationKey2020", "controller": did,
                                          "publicKeyMultibase": "z" + base58btc(b"\xed\x01" + key)}]
    assert w3c["authentication"] == w3c["assertionMethod"] == w3c["capabilityInvocation"] == [f"{did}#key-1"]
    assert w3c["service"] == [{"id": f"{did}#inbox", "type": "CredentialInbox",
                               "serviceEndpoint": "https://wallet.example/inbox"}]
    assert answer["did_document_metadata"] == {"created": 2, "updated": 4, "version_id": "3", "deactivated": False,
                                               "registered_by": LAND}


def test_base58btc_matches_known_values():
    assert base58btc(b"hello world") == "StV1DL6CwTryKyV"
    assert base58btc(b"\x00\x00\x01") == "112" and base58btc(b"") == ""


async def test_unknown_dids_and_heights(world):
    api, _, did, _ = world
    before = await api.get(f"/v1/identity/dids/{did}", {"height": 1})
    assert before.status_code == 404 and before.json()["error"]["code"] == "identity.unknown_did"
    assert (await api.get(f"/v1/identity/dids/{did}", {"height": 99})).json()["error"]["code"] == "ledger.no_such_block"
    assert (await api.get("/v1/identity/dids/did:civic:XYZ")).status_code == 422
    assert (await api.get(f"/v1/identity/dids/{did_of(bytes(32))}")).status_code == 404


async def test_a_dids_history_comes_in_pages_with_inclusion_proofs(world):
    api, _, did, _ = world
    first = (await api.get(f"/v1/identity/dids/{did}/history", {"limit": 3})).json()
    rest = (await api.get(f"/v1/identity/dids/{did}/history", {"limit": 3, "cursor": first["next_cursor"]})).json()
    events = first["entries"] + rest["entries"]
    assert [(e["type"], e["height"]) for e in events] == [("did_created", 2), ("key_rotated", 3), ("service_added", 4),
                                                          ("did_deactivated", 6)]
    assert rest["next_cursor"] is None and all(len(e["tx_id"]) == 64 for e in events)
    assert events[1]["attributes"]["previous_key"] == public(subject_key("alice")).hex()
    assert events[1]["attributes"]["version"] == "2"
    checkpoint = await checkpoint_of(api, first["checkpoint"]["height"])
    assert [check_entry_inclusion(e, checkpoint).body.action for e in events] == [
        "create_did", "rotate_key", "add_service", "deactivate_did"]


async def test_an_accounts_history_with_inclusion_proofs(world):
    api, chain, _, _ = world
    clerk = (await api.get(f"/v1/accounts/{chain.clerk.account}/history")).json()
    assert [e["type"] for e in clerk["entries"]] == ["key_rotated"] and clerk["entries"][0]["height"] == 10
    check_entry_inclusion(clerk["entries"][0], await checkpoint_of(api, clerk["checkpoint"]["height"]))
    officer = (await api.get(f"/v1/accounts/{chain.officer.account}/history")).json()
    assert [(e["type"], e["height"], e["attributes"]["roles"]) for e in officer["entries"]] == [
        ("account_added", 1, "identity_officer")]
    unknown = await api.get("/v1/accounts/land-bureau/nobody/history")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "registry.unknown_account"
    account = (await api.get(f"/v1/accounts/{chain.clerk.account}")).json()   # the account route still answers
    assert account["account"]["public_key"] == make_signer(chain.clerk.account, "clerk 2027").public_key.hex()


async def test_issuers_are_listed_with_proofs(world):
    api, _, _, issuer_did = world
    first = (await api.get("/v1/identity/issuers", {"limit": 1})).json()
    rest = (await api.get("/v1/identity/issuers", {"limit": 1, "cursor": first["next_cursor"]})).json()
    answers = first["issuers"] + rest["issuers"]
    assert [(a["issuer"]["organisation"], a["issuer"]["credential_type"]) for a in answers] == [
        (FINANCE, "tax_receipt"), (LAND, "land_certificate")]
    assert answers[1]["issuer"]["did"] == issuer_did
    for answer in answers:
        check_state_answer(answer["state"]["key"].encode(), answer["state"])


async def test_a_status_list_with_its_issuer_both_proved_at_one_height(world):
    api, _, _, _ = world
    answer = (await api.get(f"/v1/identity/status-lists/{LAND}/land_certificate", {"index": 5})).json()
    check_state_answer(answer["state"]["key"].encode(), answer["state"])
    check_state_answer(answer["issuer_state"]["key"].encode(), answer["issuer_state"])
    assert answer["state"]["state_root"] == answer["issuer_state"]["state_root"]
    assert answer["status_list"]["bits"] == "84" and answer["revoked"] is True
    assert (await api.get(f"/v1/identity/status-lists/{LAND}/land_certificate", {"index": 1})).json()["revoked"] is False
    before = (await api.get(f"/v1/identity/status-lists/{LAND}/land_certificate", {"height": 8, "index": 5})).json()
    assert before["status_list"] is None and before["revoked"] is False
    check_state_answer(before["state"]["key"].encode(), before["state"])       # the absence is proved
    empty = (await api.get(f"/v1/identity/status-lists/{FINANCE}/tax_receipt")).json()
    assert empty["status_list"] is None and "index" not in empty
    missing = await api.get(f"/v1/identity/status-lists/{LAND}/land_certificate", {"height": 7})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "identity.unknown_issuer"


async def test_the_did_a_key_belongs_to_and_when_it_was_retired(world):
    api, _, did, _ = world
    old = (await api.get(f"/v1/identity/keys/{public(subject_key('alice')).hex()}")).json()
    binding = check_record(old["record"], old["state"], KeyBinding)
    assert (binding.did, binding.key_id, binding.bound_at, binding.retired_at) == (did, "key-1", 2, 3)
    before = (await api.get(f"/v1/identity/keys/{public(subject_key('alice')).hex()}", {"height": 2})).json()
    assert before["record"]["retired_at"] is None and before["state"]["height"] == 2
    unknown = await api.get(f"/v1/identity/keys/{'ab' * 32}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "identity.unknown_key"


async def test_a_schema_by_its_digest_and_one_issuer_each_with_its_proof(world):
    api, _, _, issuer_did = world
    schema = (await api.get(f"/v1/identity/schemas/{SCHEMA.hex()}")).json()
    record = check_record(schema["record"], schema["state"], SchemaRecord)
    assert (record.credential_type, record.organisation, record.registered_at) == ("land_certificate", LAND, 13)
    issuer = (await api.get(f"/v1/identity/issuers/{LAND}/land_certificate")).json()
    assert check_record(issuer["record"], issuer["state"], IssuerRecord).did == issuer_did
    assert (await api.get(f"/v1/identity/issuers/{LAND}/land_certificate", {"height": 7})).status_code == 404


@pytest.mark.parametrize("path, status, code", [
    ("/v1/identity/keys/xyz", 400, "api.bad_id"),
    ("/v1/identity/keys/" + "ab" * 33, 422, "api.bad_request"),
    ("/v1/identity/schemas/" + "00" * 32, 404, "identity.unknown_schema"),
    ("/v1/identity/schemas/zz", 400, "api.bad_id"),
    ("/v1/identity/issuers/tax-bureau/tax_receipt", 404, "identity.unknown_issuer"),
    ("/v1/identity/issuers/Tax/tax_receipt", 422, "api.bad_request"),
    ("/v1/identity/dids/did:civic:" + "0" * 32 + "/history", 404, "identity.unknown_did"),
    ("/v1/identity/dids/did:civic:xyz/history", 422, "api.bad_request"),
    ("/v1/identity/issuers?height=0", 422, "api.bad_request"),
    ("/v1/accounts/land-bureau/admin?height=99", 404, "ledger.no_such_block"),
])
async def test_bad_identity_requests_get_a_json_error(world, path, status, code):
    reply = await (world[0]).get(path)
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and error["where"] and error["expected"]
