"""Export a real network's chain and verify it offline; any tampered byte is found and named."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3

import pytest

from civichain.audit import AuditError
from civichain.audit.chainfile import export_chain
from civichain.audit.replay import verify_chain_file
from civichain.bench.load import anchor_txs, bench_signers, registration_txs
from civichain.client.sample import load_signer
from civichain.engine.rpc import CometRpc
from civichain.store import Store
from tests.network.netutil import running_network, wait_for_height

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def chain_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    with running_network(root / "net", validators=4) as (network, nodes):
        rpc = CometRpc(network.nodes[0].rpc_url)
        admin = load_signer(network.root, "land-bureau/admin")
        signers = bench_signers("land-bureau", 3)
        for raw in registration_txs(network.chain_id, admin, signers, 0, 10_000):
            assert rpc.broadcast_tx_sync(raw)["code"] == 0
        wait_for_height(network, int(rpc.status()["sync_info"]["latest_block_height"]) + 2)
        for signer in signers:
            for raw in anchor_txs(network.chain_id, signer, 20, 0, 10_000, tag="audit"):
                assert rpc.broadcast_tx_sync(raw)["code"] == 0
        wait_for_height(network, int(rpc.status()["sync_info"]["latest_block_height"]) + 3)
        home = network.nodes[1].home
        path = root / "chain.cvc"
        export_chain(Store(home / "data" / "civichain.db", readonly=True), network.nodes[1].rpc_url, path)
        rpc.close()
    return path


def test_an_untouched_export_verifies(chain_file):
    report = verify_chain_file(chain_file)
    assert report.transactions >= 63
    assert report.state_entries > 60 and report.log_size >= 63
    assert report.commit_signatures >= 3 * report.heights


def _tampered(chain_file, tmp_path, statement: str, params=()):
    copy = tmp_path / "tampered.cvc"
    shutil.copy(chain_file, copy)
    db = sqlite3.connect(copy)
    db.execute(statement, params)
    db.commit()
    db.close()
    return copy


def _busy_height(chain_file) -> int:
    db = sqlite3.connect(chain_file)
    for height, block in db.execute("SELECT height, block FROM blocks ORDER BY height"):
        if json.loads(block)["block"]["data"]["txs"]:
            return height
    raise AssertionError("no block with transactions")


def _flip_hex(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


def _column(chain_file, column: str, height: int) -> dict:
    row = sqlite3.connect(chain_file).execute(f"SELECT {column} FROM blocks WHERE height=?", (height,)).fetchone()
    return json.loads(row[0])


def _flip_base64(text: str, at: int) -> str:
    data = bytearray(base64.b64decode(text))
    data[at] ^= 1
    return base64.b64encode(bytes(data)).decode()


def _assert_found(copy, code: str, where: str) -> None:
    with pytest.raises(AuditError) as info:
        verify_chain_file(copy)
    assert info.value.code == code and where in info.value.where, info.value


def test_a_tampered_transaction_is_found(chain_file, tmp_path):
    height = _busy_height(chain_file)
    block = _column(chain_file, "block", height)
    block["block"]["data"]["txs"][0] = _flip_base64(block["block"]["data"]["txs"][0], -5)
    copy = _tampered(chain_file, tmp_path, "UPDATE blocks SET block=? WHERE height=?", (json.dumps(block), height))
    _assert_found(copy, "audit.data_hash", f"height {height}")


def test_a_tampered_header_is_found(chain_file, tmp_path):
    height = _busy_height(chain_file)
    block = _column(chain_file, "block", height)
    block["block"]["header"]["app_hash"] = _flip_hex(block["block"]["header"]["app_hash"])
    copy = _tampered(chain_file, tmp_path, "UPDATE blocks SET block=? WHERE height=?", (json.dumps(block), height))
    _assert_found(copy, "audit.header_hash", f"height {height}")


def test_a_tampered_commit_signature_is_found(chain_file, tmp_path):
    height = _busy_height(chain_file)
    commit = _column(chain_file, "commit_json", height)
    commit["signatures"][0]["signature"] = _flip_base64(commit["signatures"][0]["signature"], 0)
    copy = _tampered(chain_file, tmp_path, "UPDATE blocks SET commit_json=? WHERE height=?", (json.dumps(commit), height))
    _assert_found(copy, "audit.bad_signature", f"height {height}")


def test_a_tampered_receipt_is_found(chain_file, tmp_path):
    height = _busy_height(chain_file)
    copy = _tampered(chain_file, tmp_path,
                     "UPDATE app_blocks SET receipts = CAST(substr(receipts, 1, 40) || x'00' || substr(receipts, 42) AS BLOB) WHERE height=?",
                     (height,))
    with pytest.raises(AuditError) as info:
        verify_chain_file(copy)
    assert info.value.code == "audit.receipts" and f"height {height}" in info.value.where


def test_a_tampered_log_node_is_found(chain_file, tmp_path):
    copy = _tampered(chain_file, tmp_path, "UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 3")
    with pytest.raises(AuditError) as info:
        verify_chain_file(copy)
    assert info.value.code == "audit.log_node" and "level 2, index 3" in info.value.where


def test_a_tampered_state_entry_is_found(chain_file, tmp_path):
    copy = _tampered(chain_file, tmp_path,
                     "UPDATE state SET value = value || x'00' WHERE key = CAST('registry/account/land-bureau/admin' AS BLOB)")
    with pytest.raises(AuditError) as info:
        verify_chain_file(copy)
    assert info.value.code == "audit.state_entry" and "land-bureau/admin" in info.value.where


def test_a_removed_state_entry_is_found(chain_file, tmp_path):
    copy = _tampered(chain_file, tmp_path, "DELETE FROM state WHERE key = CAST('registry/org/notary-office' AS BLOB)")
    with pytest.raises(AuditError) as info:
        verify_chain_file(copy)
    assert info.value.code == "audit.state_entry"
