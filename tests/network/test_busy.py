"""A node whose mempool is full answers 503 with Retry-After; the client library sends the same bytes again later."""

from __future__ import annotations

import hashlib
import time
import tomllib

import httpx
import pytest
import tomli_w

from civichain.client.api import ApiClient
from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.modules.notary import Anchor
from tests.network.netutil import running_network

pytestmark = pytest.mark.network


def _one_slot_mempool(network) -> None:
    for node in network.nodes:
        path = node.home / "cometbft" / "config" / "config.toml"
        config = tomllib.loads(path.read_text())
        config["mempool"]["size"] = 1
        path.write_text(tomli_w.dumps(config))


def _anchor(network, signer, nonce: int) -> bytes:
    digest = hashlib.sha256(f"busy {nonce}".encode()).digest()
    body = build_body(network.chain_id, signer.account, nonce, 10_000, "notary", "anchor",
                      Anchor(digest=digest, title=f"Busy day document {nonce}"))
    return sign(body, signer)


def test_a_full_mempool_is_a_retry_later_and_the_same_transaction_passes_then(tmp_path):
    with running_network(tmp_path / "net", validators=1, timeout_commit="500ms",
                         prepare=_one_slot_mempool) as (network, _):
        api = network.nodes[0].api_url
        signer = load_signer(network.root, "land-bureau/admin")
        txs = [_anchor(network, signer, nonce) for nonce in range(2)]
        with httpx.Client(base_url=api, timeout=30) as http:
            busy = None
            for attempt in range(20):   # the first fills the only slot; the second finds it full unless a block came between
                assert http.post("/v1/txs", json={"tx": txs[0].hex()}).status_code in (200, 202)
                reply = http.post("/v1/txs", json={"tx": txs[1].hex()})
                if reply.status_code == 503:
                    busy = reply
                    break
                # a block took the first in between: start over with fresh transactions
                assert reply.status_code == 202, reply.text
                start = 2 + 2 * attempt
                _wait_committed(http, txs[1])
                txs = [_anchor(network, signer, nonce) for nonce in range(start, start + 2)]
            assert busy is not None, "the second transaction never found the mempool full"
            error = busy.json()["error"]
            assert error["code"] == "api.mempool_full"
            assert "mempool is full" in error["got"] and "again" in error["expected"]
            assert busy.headers["Retry-After"] == "2"
            tx_id = hashlib.sha256(txs[1]).hexdigest()
            assert http.get(f"/v1/txs/{tx_id}").status_code == 404          # refused: nothing kept
            # The client library retries what the node refused for now, after the time it asked for.
            client = ApiClient(api)
            try:
                answer = client.submit(txs[1], wait=True)
            finally:
                client.close()
            assert answer["status"] == "committed" and answer["receipt"]["code"] == "ok"


def _wait_committed(http: httpx.Client, raw: bytes, timeout: float = 30) -> None:
    tx_id = hashlib.sha256(raw).hexdigest()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = http.get(f"/v1/txs/{tx_id}")
        if reply.status_code == 200 and reply.json()["status"] == "committed":
            return
        time.sleep(0.1)
    raise TimeoutError(f"{tx_id} not committed in {timeout} s")
