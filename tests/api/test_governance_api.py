"""The governance endpoints over a real store: pages of proposals and the validator set, each with a proof."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from civichain.api.server import create_app
from civichain.client.proofs import check_state_answer
from civichain.modules.membership import AdmitObserver
from civichain.node.config import NodeConfig
from tests.conftest import CHAIN, open_ledger, run_block
from tests.ledger.test_governance_ledger import engine_validators, proposal_tx
from tests.modules.govsupport import GovChain, node_id


class Api:
    """Requests to the API application in this process (no server, no port)."""

    def __init__(self, app) -> None:
        self.app = app

    async def get(self, path: str, params: dict | None = None) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://api") as client:
            return await client.get(path, params=params)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    home = tmp_path_factory.mktemp("api")
    gov = GovChain(2, validators=2)
    ledger = open_ledger(home)
    ledger.init_chain(CHAIN, msgspec.json.encode(gov.genesis), engine_validators(gov))
    land = gov.admins["land-bureau"]
    run_block(ledger, [proposal_tx(gov, land, i, "admit_observer", AdmitObserver(node_id=node_id(f"o{i}"), operator="U"))
                       for i in range(3)])
    ledger.store.close()
    config = NodeConfig.model_validate({
        "node": {"name": "node0", "organisation": "land-bureau"}, "abci": {"port": 1}, "api": {"port": 2},
        "cometbft": {"rpc_port": 3, "p2p_port": 4}, "storage": {"path": "civichain.db"}})
    return Api(create_app(home, config))


async def test_proposals_come_in_pages_each_with_a_state_proof(api):
    first = (await api.get("/v1/governance/proposals", {"limit": 2})).json()
    assert [a["proposal"]["id"] for a in first["proposals"]] == [1, 2] and first["next_cursor"] == 2
    rest = (await api.get("/v1/governance/proposals", {"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [a["proposal"]["id"] for a in rest["proposals"]] == [3] and rest["next_cursor"] is None
    for answer in first["proposals"] + rest["proposals"]:
        check_state_answer(answer["state"]["key"].encode(), answer["state"])
        assert answer["proposal"]["status"] == "open" and answer["proposal"]["approvals"] == 1
        assert answer["proposal"]["payload"]["operator"] == "U"


async def test_one_proposal_and_an_unknown_one(api):
    answer = (await api.get("/v1/governance/proposals/2")).json()
    assert answer["proposal"]["payload"]["node_id"] == node_id("o1")
    check_state_answer(b"governance/proposal/00000000000000000002", answer["state"])
    missing = await api.get("/v1/governance/proposals/99")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "governance.unknown_proposal"
    assert (await api.get("/v1/governance/proposals/0")).status_code == 422


async def test_the_validator_set_comes_with_its_proof(api):
    answer = (await api.get("/v1/governance/validators")).json()
    assert answer["total_power"] == 20 and len(answer["validators"]) == 2
    check_state_answer(b"governance/validators", answer["state"])
