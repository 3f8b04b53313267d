"""The land endpoints over a real store: a parcel, its title and encumbrances each with a proof, at any retained
height; its history, each entry with its transaction and inclusion proof against one checkpoint."""

from __future__ import annotations

import base64
import copy

import msgspec
import pytest

from civichain.api.server import create_app
from civichain.client.land import AnswerMismatch, check_parcel_answer, check_record_answer
from civichain.client.proofs import check_entry_inclusion
from civichain.codec import decode
from civichain.log import ProofError
from civichain.modules.land import (AddEncumbrance, Encumbrance, FreezeParcel, IssueTitle, RegisterParcel, Title,
                                    Transfer)
from civichain.node.config import NodeConfig
from civichain.state import StateProofError
from civichain.types import Checkpoint
from tests.api.test_governance_api import Api
from tests.conftest import CHAIN, open_ledger, run_block
from tests.modules.landsupport import ALICE, BOB, CAROL, JUDGE, REGISTRAR, TAX, LandChain, digest, sole


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """P-1: registered, titled to Alice, an easement for Carol, sold to Bob, frozen for a case."""
    home = tmp_path_factory.mktemp("land-api")
    chain = LandChain()
    ledger = open_ledger(home)
    ledger.init_chain(CHAIN, msgspec.json.encode(chain.genesis))

    def commit(sender, action, args, endorsers=()):
        """Run a transaction in the in-memory chain (which keeps the nonces) and commit it in the ledger."""
        raw = chain.tx(sender, action, args, endorsers)
        assert chain.block(raw).receipts[0].code == "ok"
        run_block(ledger, [raw])

    commit(REGISTRAR, "register_parcel", RegisterParcel(area_dm2=12_345, boundary=digest("survey"), id="P-1",
                                                        land_use="residential", location="东城区 1号"))
    commit(REGISTRAR, "issue_title", IssueTitle(deed=digest("deed"), owners=sole(ALICE), parcel="P-1"))
    commit(REGISTRAR, "add_encumbrance", AddEncumbrance(blocking=False, document=digest("easement"), holder=CAROL,
                                                        kind="easement", parcel="P-1"), (ALICE, CAROL))
    commit(REGISTRAR, "transfer", Transfer(deed=digest("contract"), owners=sole(BOB), parcel="P-1", title=1),
           (ALICE, BOB, TAX))
    commit(JUDGE, "freeze", FreezeParcel(case="case-1", order=digest("order"), parcel="P-1"))
    commit(REGISTRAR, "add_encumbrance", AddEncumbrance(blocking=True, document=digest("lien"), holder=TAX,
                                                        kind="lien", parcel="P-1"), (TAX,))
    ledger.store.close()
    config = NodeConfig.model_validate({
        "node": {"name": "node0", "organisation": "land-bureau"}, "abci": {"port": 1}, "api": {"port": 2},
        "cometbft": {"rpc_port": 3, "p2p_port": 4}, "storage": {"path": "civichain.db"}})
    return Api(create_app(home, config))


async def test_a_parcel_comes_with_its_title_and_encumbrances_each_proved_at_one_height(api):
    reply = await api.get("/v1/land/parcels/P-1")
    assert reply.status_code == 200
    answer = reply.json()
    parcel = check_parcel_answer(answer)
    assert parcel.title == 2 and parcel.encumbrances == (1, 2) and [f.case for f in parcel.freezes] == ["case-1"]
    assert answer["title"]["record"]["owners"] == [{"owner": BOB, "numerator": 1, "denominator": 1}]
    assert [e["record"]["kind"] for e in answer["encumbrances"]] == ["easement", "lien"]
    assert answer["parcel"]["record"]["area_dm2"] == 12_345 and answer["height"] == 6


async def test_an_answer_leaving_out_an_encumbrance_or_altering_a_record_does_not_check(api):
    answer = (await api.get("/v1/land/parcels/P-1")).json()
    dropped = copy.deepcopy(answer)
    dropped["encumbrances"].pop()
    with pytest.raises(AnswerMismatch):
        check_parcel_answer(dropped)
    altered = copy.deepcopy(answer)
    altered["title"]["record"]["owners"][0]["owner"] = ALICE
    with pytest.raises(AnswerMismatch):
        check_parcel_answer(altered)
    forged = copy.deepcopy(answer)
    forged["parcel"]["state"]["value"] = forged["title"]["state"]["value"]
    with pytest.raises(StateProofError):
        check_parcel_answer(forged)
    with pytest.raises(AnswerMismatch):
        check_parcel_answer(answer, state_root=b"\x00" * 32)


async def checkpoint_of(api, height: int) -> Checkpoint:
    """The checkpoint the app hash of `height` commits to, as the block answer gives it."""
    c = (await api.get(f"/v1/blocks/{height}")).json()["checkpoint"]
    return Checkpoint(c["chain_id"], c["height"], c["log_size"], bytes.fromhex(c["log_root"]),
                      bytes.fromhex(c["state_root"]), bytes.fromhex(c["receipts_root"]), c["time_ns"])


async def test_the_history_lists_every_event_in_order_with_its_transaction_and_inclusion_proof(api):
    answer = (await api.get("/v1/land/parcels/P-1/history")).json()
    entries = answer["entries"]
    assert [e["type"] for e in entries] == ["registered", "title_issued", "encumbered", "transferred", "frozen",
                                            "encumbered"]
    assert [e["height"] for e in entries] == [1, 2, 3, 4, 5, 6] and answer["next_cursor"] is None
    assert entries[3]["attributes"]["owners"] == f"{BOB}=1/1"
    checkpoint = await checkpoint_of(api, 6)
    assert answer["checkpoint"]["height"] == 6 and answer["checkpoint"]["log_root"] == checkpoint.log_root.hex()
    for entry in entries:
        tx = check_entry_inclusion(entry, checkpoint)
        assert tx.body.module == "land" and entry["tx"]["decoded"]["body"]["module"] == "land"
        assert entry["inclusion"]["log_index"] == entry["height"] - 1     # one transaction per block
        committed = (await api.get(f"/v1/txs/{entry['tx_id']}")).json()
        assert base64.b64decode(entry["tx"]["bytes"]).hex() == committed["tx_bytes"]


async def test_a_history_entry_whose_proof_or_bytes_were_altered_does_not_check(api):
    answer = (await api.get("/v1/land/parcels/P-1/history")).json()
    checkpoint = await checkpoint_of(api, 6)
    entry = answer["entries"][2]
    flipped = copy.deepcopy(entry)
    flipped["inclusion"]["proof"][0] = "00" * 32
    with pytest.raises(ProofError):
        check_entry_inclusion(flipped, checkpoint)
    other = copy.deepcopy(entry)
    other["tx"]["bytes"] = answer["entries"][3]["tx"]["bytes"]
    with pytest.raises(AnswerMismatch):           # the tx id is no longer the hash of the bytes
        check_entry_inclusion(other, checkpoint)
    moved = copy.deepcopy(entry)
    moved["inclusion"]["log_index"] = 3
    with pytest.raises(ProofError):
        check_entry_inclusion(moved, checkpoint)
    with pytest.raises(AnswerMismatch):          # a proof against another log than the verified checkpoint's
        check_entry_inclusion(entry, await checkpoint_of(api, 4))
    at_4 = await checkpoint_of(api, 4)
    older = (await api.get("/v1/land/parcels/P-1/history", {"height": 4})).json()["entries"][2]
    check_entry_inclusion(older, at_4)
    # The proof in the log of 6 entries, presented as one in the log of 4: it does not lead to that root.
    older["inclusion"] = {**entry["inclusion"], "log_size": 4, "log_root": at_4.log_root.hex()}
    with pytest.raises(ProofError):
        check_entry_inclusion(older, at_4)


async def test_the_history_comes_in_pages_all_proved_against_one_checkpoint(api):
    first = (await api.get("/v1/land/parcels/P-1/history", {"limit": 4})).json()
    assert len(first["entries"]) == 4 and first["next_cursor"] == "4.0.0"
    rest = (await api.get("/v1/land/parcels/P-1/history", {"limit": 4, "cursor": first["next_cursor"]})).json()
    assert [e["type"] for e in rest["entries"]] == ["frozen", "encumbered"] and rest["next_cursor"] is None
    assert first["checkpoint"] == rest["checkpoint"]


async def test_the_history_as_of_an_earlier_checkpoint_stops_there_and_proves_against_it(api):
    answer = (await api.get("/v1/land/parcels/P-1/history", {"height": 3, "limit": 2})).json()
    assert answer["checkpoint"]["height"] == 3 and answer["next_cursor"] == "2.0.0"
    rest = (await api.get("/v1/land/parcels/P-1/history", {"height": 3, "cursor": "2.0.0"})).json()
    assert [e["type"] for e in rest["entries"]] == ["encumbered"] and rest["next_cursor"] is None
    checkpoint = await checkpoint_of(api, 3)
    for entry in answer["entries"] + rest["entries"]:
        check_entry_inclusion(entry, checkpoint)


async def test_the_parcel_and_its_records_at_a_past_height(api):
    answer = (await api.get("/v1/land/parcels/P-1", {"height": 3})).json()
    parcel = check_parcel_answer(answer, (await checkpoint_of(api, 3)).state_root)
    assert answer["height"] == 3 and parcel.title == 1 and parcel.encumbrances == (1,)
    assert answer["title"]["record"]["owners"] == [{"owner": ALICE, "numerator": 1, "denominator": 1}]
    before = await api.get("/v1/land/encumbrances/2", {"height": 5})
    assert before.status_code == 404 and before.json()["error"]["code"] == "land.unknown_encumbrance"
    lien = (await api.get("/v1/land/encumbrances/2")).json()
    assert check_record_answer(lien, Encumbrance).kind == "lien" and lien["state"]["height"] == 6
    assert decode(bytes.fromhex(lien["state"]["value"]), Encumbrance).holder == TAX


async def test_an_ended_title_is_still_readable_with_its_proof(api):
    answer = (await api.get("/v1/land/titles/1")).json()
    title = check_record_answer(answer, Title)
    assert (title.status, title.successors) == ("ended", (2,))


@pytest.mark.parametrize("path, status, code", [
    ("/v1/land/parcels/P-404", 404, "land.unknown_parcel"),
    ("/v1/land/parcels/P-404/history", 404, "land.unknown_parcel"),
    ("/v1/land/parcels/bad%20id", 422, "api.bad_request"),
    ("/v1/land/titles/99", 404, "land.unknown_title"),
    ("/v1/land/titles/0", 422, "api.bad_request"),
    ("/v1/land/encumbrances/99", 404, "land.unknown_encumbrance"),
    ("/v1/land/parcels/P-1/history?cursor=x", 422, "api.bad_request"),
    ("/v1/land/parcels/P-1/history?cursor=99999999999999999999.0.0", 422, "api.bad_request"),
    ("/v1/land/parcels/P-1/history?height=99", 404, "ledger.no_such_block"),
    ("/v1/land/parcels/P-1/history?limit=0", 422, "api.bad_request"),
    ("/v1/land/parcels/P-1?height=0", 422, "api.bad_request"),
    ("/v1/land/parcels/P-1?height=99", 404, "ledger.no_such_block"),
    ("/v1/land/titles/1?height=abc", 422, "api.bad_request"),
])
async def test_bad_requests_get_a_json_error(api, path, status, code):
    reply = await api.get(path)
    assert reply.status_code == status and reply.json()["error"]["code"] == code
    assert reply.json()["error"]["where"] and reply.json()["error"]["expected"]
