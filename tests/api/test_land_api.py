"""The land endpoints over a real store: a parcel, its title and encumbrances each with a proof; its history."""

from __future__ import annotations

import copy

import msgspec
import pytest

from civichain.api.server import create_app
from civichain.client.land import AnswerMismatch, check_parcel_answer, check_record_answer
from civichain.modules.land import AddEncumbrance, FreezeParcel, IssueTitle, RegisterParcel, Title, Transfer
from civichain.node.config import NodeConfig
from civichain.state import StateProofError
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


async def test_the_history_lists_every_event_in_order_with_its_transaction(api):
    answer = (await api.get("/v1/land/parcels/P-1/history")).json()
    assert [e["type"] for e in answer["events"]] == ["registered", "title_issued", "encumbered", "transferred",
                                                     "frozen", "encumbered"]
    assert [e["height"] for e in answer["events"]] == [1, 2, 3, 4, 5, 6] and answer["next_cursor"] is None
    assert answer["events"][3]["attributes"]["owners"] == f"{BOB}=1/1"
    for event in answer["events"]:
        tx = (await api.get(f"/v1/txs/{event['tx_id']}")).json()
        assert tx["height"] == event["height"] and tx["tx"]["body"]["module"] == "land"


async def test_the_history_comes_in_pages(api):
    first = (await api.get("/v1/land/parcels/P-1/history", {"limit": 4})).json()
    assert len(first["events"]) == 4 and first["next_cursor"] == "4.0.0"
    rest = (await api.get("/v1/land/parcels/P-1/history", {"limit": 4, "cursor": first["next_cursor"]})).json()
    assert [e["type"] for e in rest["events"]] == ["frozen", "encumbered"] and rest["next_cursor"] is None


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
])
async def test_bad_requests_get_a_json_error(api, path, status, code):
    reply = await api.get(path)
    assert reply.status_code == status and reply.json()["error"]["code"] == code
