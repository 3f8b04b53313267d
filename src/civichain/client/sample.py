"""Sample records for a new network: a few notarized documents and a registered account per department."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx

from civichain.client.tx import Signer, build_body, sign
from civichain.crypto import ED25519_SHA256, decrypt_key
from civichain.modules.notary import Anchor
from civichain.modules.registry import AddAccount
from civichain.node.network import Network

SAMPLE_DOCUMENTS = [
    ("不动产登记证明 Real estate registration certificate", {"type": "land", "district": "东城区 Dongcheng"}),
    ("财政拨款通知 Budget appropriation notice", {"type": "funds", "year": "2026"}),
    ("婚姻登记证明 Marriage registration record", {"type": "civil"}),
    ("公证书 Notarial certificate", {"type": "notary"}),
]


def load_signer(network_root: Path, account: str) -> Signer:
    """Open the dev key file of `account` in a network folder, with the folder's dev passphrase."""
    passphrase = (network_root / "keys" / "PASSPHRASE").read_text().strip()
    data = (network_root / "keys" / (account.replace("/", ".") + ".key")).read_bytes()
    key = decrypt_key(data, passphrase, where=f"key of {account}")
    return Signer(account, key.private_key, ED25519_SHA256)


def seed_sample_records(network: Network, timeout: float = 60.0) -> int:
    """Submit sample records through node0's API and wait for them; return how many were committed."""
    api = network.nodes[0].api_url
    count = 0
    with httpx.Client(timeout=timeout) as http:
        height = _wait_height(http, api, timeout)
        for i, node in enumerate(network.nodes):
            signer = load_signer(network.root, f"{node.organisation}/admin")
            nonce = http.get(f"{api}/v1/accounts/{signer.account}").json()["next_nonce"]
            title, metadata = SAMPLE_DOCUMENTS[i % len(SAMPLE_DOCUMENTS)]
            digest = hashlib.sha256(f"{network.chain_id} sample document {i}".encode()).digest()
            clerk = ED25519_SHA256.public_key(ED25519_SHA256.generate_private_key())
            actions = [
                ("notary", "anchor", Anchor(digest=digest, metadata=metadata, title=title)),
                ("registry", "add_account", AddAccount(id=f"{node.organisation}/clerk", public_key=clerk,
                                                       roles=("clerk",))),
            ]
            for module, action, args in actions:
                raw = sign(build_body(network.chain_id, signer.account, nonce, height + 1000, module, action, args), signer)
                reply = http.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()})
                if reply.status_code == 200 and reply.json()["status"] == "committed":
                    count += 1
                nonce += 1
    return count


def _wait_height(http: httpx.Client, api: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reply = http.get(f"{api}/v1/status")
            if reply.status_code == 200:
                return reply.json()["height"]
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{api} did not answer within {timeout:.0f} s")
