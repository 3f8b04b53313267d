"""A DID on a real network: created, its key rotated, resolved at the height before and after the rotation
with proofs that verify against those heights' checkpoints, deactivated, and then refused any change; the
same through the command line."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import httpx
import pytest

from civichain.client.proofs import check_state_answer
from civichain.client.sample import load_signer
from civichain.client.tx import build_body, sign
from civichain.crypto import ED25519_SHA256
from civichain.modules.did import Service, did_of, sign_operation
from civichain.modules.identity import AddService, CreateDid, DeactivateDid, RotateKey
from tests.network.netutil import running_network

pytestmark = pytest.mark.network

_http = httpx.Client(timeout=10)
ADMIN = "land-bureau/admin"


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    with running_network(tmp_path_factory.mktemp("identity") / "net", validators=1) as (network, _):
        yield network


def submit(network, action: str, args) -> dict:
    api = network.nodes[0].api_url
    signer = load_signer(network.root, ADMIN)
    nonce = _http.get(f"{api}/v1/accounts/{ADMIN}").json()["next_nonce"]
    height = _http.get(f"{api}/v1/status").json()["height"]
    raw = sign(build_body(network.chain_id, ADMIN, nonce, height + 1000, "identity", action, args), signer)
    reply = _http.post(f"{api}/v1/txs", params={"wait": "true"}, json={"tx": raw.hex()}, timeout=40)
    assert reply.status_code == 200, reply.text
    return reply.json()


def change(network, action: str, schema, did: str, key: bytes, version: int, new_key: bytes | None = None, **fields):
    proofs = {f: b"" for f in ("key_proof", "proof") if f in schema.__struct_fields__}
    if new_key is not None:
        fields["public_key"] = ED25519_SHA256.public_key(new_key)
    args = schema(did=did, signer=f"{did}#key-1", version=version, **proofs, **fields)
    return submit(network, action, sign_operation(network.chain_id, action, args, key, new_key))


def resolve(network, did: str, height: int) -> dict:
    answer = _http.get(f"{network.nodes[0].api_url}/v1/identity/dids/{did}", params={"height": height}).json()
    check_state_answer(answer["state"]["key"].encode(), answer["state"])
    block = _http.get(f"{network.nodes[0].api_url}/v1/blocks/{height}").json()
    assert answer["state"]["state_root"] == block["checkpoint"]["state_root"]     # the root the app hash commits to
    return answer


def test_a_did_is_created_rotated_resolved_at_both_heights_and_deactivated(network):
    first, second = (hashlib.sha256(f"network subject {i}".encode()).digest() for i in (1, 2))
    did = did_of(ED25519_SHA256.public_key(first))
    create = CreateDid(proof=b"", public_key=ED25519_SHA256.public_key(first))
    created = submit(network, "create_did", sign_operation(network.chain_id, "create_did", create, first))
    assert created["status"] == "committed", created
    rotated = change(network, "rotate_key", RotateKey, did, first, 1, new_key=second, key_id="key-1")
    assert rotated["status"] == "committed" and rotated["height"] > created["height"]

    before, after = resolve(network, did, created["height"]), resolve(network, did, rotated["height"])
    assert [k["public_key"] for k in before["document"]["keys"]] == [ED25519_SHA256.public_key(first).hex()]
    assert [k["public_key"] for k in after["document"]["keys"]] == [ED25519_SHA256.public_key(second).hex()]
    assert (before["document"]["version"], after["document"]["version"]) == (1, 2)

    deactivated = change(network, "deactivate_did", DeactivateDid, did, second, 2)
    assert deactivated["status"] == "committed"
    refused = change(network, "add_service", AddService, did, second, 3,
                     service=Service(endpoint="https://wallet.example", id="inbox", type="CredentialInbox"))
    assert refused["status"] == "failed" and refused["receipt"]["code"] == "identity.did_deactivated"
    history = _http.get(f"{network.nodes[0].api_url}/v1/identity/dids/{did}/history").json()
    assert [e["type"] for e in history["entries"]] == ["did_created", "key_rotated", "did_deactivated"]


def cli(*args: str, env: dict | None = None) -> str:
    run = subprocess.run([sys.executable, "-m", "civichain", *args], capture_output=True, text=True, timeout=120,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp",
                              "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})})
    assert run.returncode == 0, f"civichain {' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    return run.stdout


def test_the_command_line_creates_rotates_and_resolves_a_did(network, tmp_path):
    net = str(network.root)
    passphrase = {"CIVICHAIN_PASSPHRASE": (network.root / "keys" / "PASSPHRASE").read_text().strip()}
    cli("keys", "new", "alice", "--out", str(tmp_path / "alice.key"), env=passphrase)
    cli("keys", "new", "alice", "--out", str(tmp_path / "alice-2027.key"), env=passphrase)
    created = cli("identity", "create", "--subject-key", str(tmp_path / "alice.key"), "--account", ADMIN, "--net", net)
    did = re.search(r"DID (did:civic:[0-9a-f]{32})", created).group(1)
    assert "committed" in created
    rotated = cli("identity", "rotate-key", did, "--new-key", str(tmp_path / "alice-2027.key"),
                  "--signing-key", str(tmp_path / "alice.key"), "--account", ADMIN, "--net", net)
    assert "committed" in rotated
    height = int(re.search(r"at height (\d+)", created).group(1))
    shown = cli("identity", "resolve", did, "--height", str(height), "--net", net)
    assert "version 1" in shown and "state proof verified" in shown
    assert "key_rotated" in cli("identity", "history", did, "--net", net)
