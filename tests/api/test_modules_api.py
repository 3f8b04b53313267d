"""The modules' published rules: every action with its argument schema and its policy, exactly the objects
execution enforces; and JSON errors for a module that does not exist."""

from __future__ import annotations

import msgspec
import pytest

from civichain.api.server import create_app
from civichain.modules import ALL_MODULES
from civichain.modules.land import MODULE as LAND
from civichain.node.config import NodeConfig
from tests.api.test_governance_api import Api


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    config = NodeConfig.model_validate({
        "node": {"name": "node0", "organisation": "land-bureau"}, "abci": {"port": 1}, "api": {"port": 2},
        "cometbft": {"rpc_port": 3, "p2p_port": 4}, "storage": {"path": "civichain.db"}})
    return Api(create_app(tmp_path_factory.mktemp("modules-api"), config))


async def test_every_module_and_action_is_published(api):
    answer = (await api.get("/v1/modules")).json()
    assert [m["module"] for m in answer["modules"]] == list(ALL_MODULES)
    for published in answer["modules"]:
        assert list(published["actions"]) == list(ALL_MODULES[published["module"]].actions)
    assert "own rules" in answer["note"]


async def test_a_policy_is_published_as_the_data_execution_checks(api):
    answer = (await api.get("/v1/modules/land")).json()
    transfer = answer["actions"]["transfer"]
    policy = LAND.actions["transfer"].policy
    assert msgspec.convert(transfer["policy"], type(policy)) == policy      # the same struct, round trip
    assert transfer["endorsement"] == policy.endorsement.describe()
    assert transfer["summary"] == LAND.actions["transfer"].summary
    schema = transfer["arguments"]
    assert schema["$defs"]["Transfer"]["required"] == ["deed", "owners", "parcel", "title"]
    assert transfer["subjects"]


async def test_an_unknown_module_gets_a_json_error(api):
    for path in ("/v1/modules/taxes", "/v1/history/taxes/anything"):
        reply = await api.get(path)
        assert reply.status_code == 404
        error = reply.json()["error"]
        assert error["code"] == "api.unknown_module" and "land" in error["expected"] and error["got"] == "taxes"
