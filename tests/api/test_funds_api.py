"""The funds endpoints over a real store: a programme's summary, its payments page by page, a fiscal year, each
record by id, a programme's history; every record with a state proof that verifies, every history entry with an
inclusion proof, and 4xx JSON errors for what does not exist or is malformed."""

from __future__ import annotations

import msgspec
import pytest

from civichain.api.server import create_app
from civichain.client.proofs import check_entry_inclusion, check_record, check_state_answer
from civichain.modules.funds import CreateProgramme, ReverseDisbursement
from civichain.modules.funds_records import Allocation, Appropriation, Commitment, Disbursement
from civichain.node.config import NodeConfig
from tests.api.test_governance_api import Api
from tests.conftest import CHAIN, open_ledger, run_block
from tests.ledger.test_governance_ledger import engine_validators
from tests.api.test_land_api import checkpoint_of
from tests.modules.fundsupport import YEAR, FundsChain


class RecordedChain(FundsChain):
    """A funds chain in memory that remembers its blocks, to run them again on a real ledger."""

    def block(self, *txs: bytes):
        self.__dict__.setdefault("history", []).append(list(txs))
        return super().block(*txs)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    chain = RecordedChain()
    chain.setup(committed=90_000, paid=1_000)
    for n in range(2, 6):
        chain.ok(chain.land, "disburse", chain.disburse_args(f"d{n}", n * 1_000))
    chain.ok(chain.land, "reverse_disbursement", ReverseDisbursement(disbursement="d3", reason="bank returned it"))
    chain.ok(chain.finance, "create_programme",
             CreateProgramme(department="tax-bureau", programme="offices", title="Tax offices", year=YEAR))
    home = tmp_path_factory.mktemp("funds-api")
    ledger = open_ledger(home)
    ledger.init_chain(CHAIN, msgspec.json.encode(chain.genesis), engine_validators(chain))
    for txs in chain.history:
        run_block(ledger, txs)
    assert chain.state == {k: v for k, v in ledger.store.scan(b"", 1_000_000)}   # the same state as in memory
    ledger.store.close()
    config = NodeConfig.model_validate({
        "node": {"name": "node0", "organisation": "land-bureau"}, "abci": {"port": 1}, "api": {"port": 2},
        "cometbft": {"rpc_port": 3, "p2p_port": 4}, "storage": {"path": "civichain.db"}})
    return Api(create_app(home, config))


async def test_a_programme_summary_comes_with_its_proof(api):
    reply = await api.get("/v1/funds/programmes/roads")
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["summary"] == {"budget_fen": 50_000_000, "committed_fen": 90_000, "spent_fen": 12_000,
                                 "remaining_fen": 50_000_000 - 90_000, "unpaid_fen": 78_000, "payments": 5}
    assert answer["programme"]["department"] == "land-bureau" and answer["programme"]["year"] == YEAR
    check_state_answer(b"funds/programme/roads", answer["state"])


async def test_payments_come_in_pages_in_order_each_with_its_proof(api):
    first = (await api.get("/v1/funds/programmes/roads/payments", {"limit": 2})).json()
    assert [p["payment"]["id"] for p in first["payments"]] == ["d1", "d2"] and first["next_cursor"] == 2
    check_state_answer(b"funds/programme/roads", first["programme"]["state"])
    rest = (await api.get("/v1/funds/programmes/roads/payments", {"limit": 3, "cursor": 2})).json()
    assert [p["payment"]["seq"] for p in rest["payments"]] == [3, 4, 5] and rest["next_cursor"] == 5
    last = (await api.get("/v1/funds/programmes/roads/payments", {"limit": 3, "cursor": 5})).json()
    assert last["payments"] == [] and last["next_cursor"] is None
    for answer in first["payments"] + rest["payments"]:
        check_state_answer(answer["state"]["key"].encode(), answer["state"])
        payment = answer["payment"]
        assert (payment["commitment"], payment["allocation"], payment["appropriation"]) == ("c1", "a1", "edu")
        assert payment["payee"] == "tax-bureau" and len(payment["invoice"]) == 64
    reversed_ = rest["payments"][0]["payment"]
    assert reversed_["id"] == "d3" and reversed_["reversed_at"] > 0 and reversed_["reversal_reason"]


async def test_a_year_shows_its_totals_and_programmes_with_proofs(api):
    answer = (await api.get(f"/v1/funds/years/{YEAR}", {"limit": 1})).json()
    year = answer["year"]
    assert (year["threshold_fen"], year["status"], year["appropriated_fen"], year["spent_fen"]) == \
        (100_000_000, "open", 500_000_000, 12_000)
    check_state_answer(b"funds/year/2026", answer["state"])
    assert [p["programme"]["id"] for p in answer["programmes"]] == ["offices"] and answer["next_cursor"] == "offices"
    rest = (await api.get(f"/v1/funds/years/{YEAR}", {"limit": 1, "cursor": "offices"})).json()
    assert [p["programme"]["id"] for p in rest["programmes"]] == ["roads"]
    check_state_answer(b"funds/programme/roads", rest["programmes"][0]["state"])


@pytest.mark.parametrize("path, kind, field, value", [
    ("/v1/funds/appropriations/edu", Appropriation, "amount_fen", 500_000_000),
    ("/v1/funds/allocations/a1", Allocation, "committed_fen", 90_000),
    ("/v1/funds/commitments/c1", Commitment, "disbursed_fen", 12_000),
    ("/v1/funds/disbursements/d3", Disbursement, "reversal_reason", "bank returned it"),
])
async def test_each_record_by_id_comes_with_its_proof(api, path, kind, field, value):
    answer = (await api.get(path)).json()
    record = check_record(answer["record"], answer["state"], kind)
    assert getattr(record, field) == value
    earlier = (await api.get(path, {"height": answer["state"]["height"] - 1})).json()
    assert earlier["state"]["height"] == answer["state"]["height"] - 1


async def test_a_programmes_history_is_every_movement_in_order_with_inclusion_proofs(api):
    answer = (await api.get("/v1/funds/programmes/roads/history")).json()
    types = [e["type"] for e in answer["entries"]]
    assert types == ["programme_created", "allocated", "committed", *["disbursed"] * 5, "disbursement_reversed"]
    checkpoint = await checkpoint_of(api, answer["checkpoint"]["height"])
    for entry in answer["entries"]:
        assert check_entry_inclusion(entry, checkpoint).body.module == "funds"
    assert answer["entries"][4]["attributes"]["disbursement"] == "d2"
    generic = (await api.get("/v1/history/funds/roads")).json()
    assert generic["entries"] == answer["entries"] and generic["checkpoint"] == answer["checkpoint"]


async def test_reads_at_a_past_height_prove_against_that_height(api):
    now = (await api.get("/v1/funds/programmes/roads")).json()
    before = (await api.get("/v1/funds/programmes/roads", {"height": now["state"]["height"] - 3})).json()
    assert before["summary"]["payments"] < now["summary"]["payments"]
    assert before["state"]["state_root"] == (await checkpoint_of(api, before["state"]["height"])).state_root.hex()
    check_state_answer(b"funds/programme/roads", before["state"])


@pytest.mark.parametrize("path, status, code", [
    ("/v1/funds/programmes/nope", 404, "funds.unknown_programme"),
    ("/v1/funds/programmes/nope/payments", 404, "funds.unknown_programme"),
    ("/v1/funds/years/2031", 404, "funds.unknown_year"),
    ("/v1/funds/programmes/Bad%20Id", 422, "api.bad_request"),
    ("/v1/funds/years/1999", 422, "api.bad_request"),
    ("/v1/funds/programmes/roads/payments?cursor=0", 422, "api.bad_request"),
    ("/v1/funds/programmes/roads/payments?limit=1000", 422, "api.bad_request"),
    ("/v1/funds/appropriations/none", 404, "funds.unknown_appropriation"),
    ("/v1/funds/allocations/none", 404, "funds.unknown_allocation"),
    ("/v1/funds/commitments/none", 404, "funds.unknown_commitment"),
    ("/v1/funds/disbursements/none", 404, "funds.unknown_disbursement"),
    ("/v1/funds/disbursements/Bad%20Id", 422, "api.bad_request"),
    ("/v1/funds/commitments/c1?height=0", 422, "api.bad_request"),
    ("/v1/funds/programmes/nope/history", 404, "funds.unknown_programme"),
    ("/v1/funds/programmes/roads/history?cursor=1.2", 422, "api.bad_request"),
    ("/v1/funds/programmes/roads?height=999", 404, "ledger.no_such_block"),
])
async def test_what_does_not_exist_or_is_malformed_gets_a_json_error(api, path, status, code):
    reply = await api.get(path)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == code and error["where"] and error["expected"]
