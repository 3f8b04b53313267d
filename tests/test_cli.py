"""The command line, run as a newcomer would: a real network, real keys, real files."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import pytest

from tests.network.netutil import running_network

pytestmark = pytest.mark.network


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "civichain", *args], capture_output=True, text=True, timeout=180,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp",
                              "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    if check and run.returncode != 0:
        raise AssertionError(f"civichain {' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    return run


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with running_network(tmp_path_factory.mktemp("cli") / "net", validators=2) as (network, nodes):
        yield network


def test_notarize_a_file_then_look_it_up_with_a_verified_proof(net, tmp_path):
    document = tmp_path / "deed.txt"
    document.write_text("不动产权证书 No. 42 — Real estate title certificate\n", encoding="utf-8")
    out = cli("submit", "notarize", str(document), "--title", "Deed 42", "--account", "land-bureau/admin",
              "--meta", "district=东城区", "--net", str(net.root)).stdout
    assert "committed" in out
    tx_id = re.search(r"tx ([0-9a-f]{64})", out).group(1)
    looked_up = cli("query", "document", str(document), "--net", str(net.root), "--node", "node1").stdout
    assert "Deed 42" in looked_up and "inclusion proof verified" in looked_up
    shown = cli("query", "tx", tx_id, "--net", str(net.root)).stdout
    assert "inclusion proof verified" in shown and "notary.anchor" in shown


def test_register_an_account_with_a_new_sealed_key(net, tmp_path):
    key = tmp_path / "alice.key"
    made = subprocess.run([sys.executable, "-m", "civichain", "keys", "new", "land-bureau/alice", "--out", str(key)],
                          capture_output=True, text=True, timeout=60,
                          env={"CIVICHAIN_PASSPHRASE": "correct horse", "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert made.returncode == 0, made.stderr
    public_key = json.loads(key.read_text())["public_key"]
    out = cli("submit", "register-account", "land-bureau/alice", "--public-key", public_key, "--roles", "notary",
              "--account", "land-bureau/admin", "--net", str(net.root)).stdout
    assert "committed" in out
    refused = cli("submit", "register-account", "land-bureau/alice", "--public-key", public_key,
                  "--account", "land-bureau/admin", "--net", str(net.root), check=False)
    assert refused.returncode == 1 and "registry.account_exists" in refused.stdout


def test_checkpoint_hashes_to_the_signed_header(net):
    out = cli("query", "checkpoint", "--net", str(net.root)).stdout
    assert "is in the header of height" in out


def test_export_then_verify_and_a_tampered_file_fails(net, tmp_path):
    chain = tmp_path / "chain.cvc"
    cli("export", str(chain), "--home", str(net.nodes[0].home))
    out = cli("verify", str(chain)).stdout
    assert "VERIFIED" in out
    import sqlite3
    db = sqlite3.connect(chain)
    db.execute("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 0")
    db.commit()
    db.close()
    failed = cli("verify", str(chain), check=False)
    assert failed.returncode == 1
    assert "NOT VERIFIED" in failed.stdout and "level 0, index 0" in failed.stdout


def test_bad_config_and_usage_exit_2_with_one_line(tmp_path):
    missing = cli("status", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 2 and "config.missing" in missing.stderr and "Traceback" not in missing.stderr
    node = tmp_path / "node"
    node.mkdir()
    (node / "node.toml").write_text('[node]\nname = "n"\norganisation = "o"\n[abci]\nport = 80000\n'
                                    '[api]\nport = 1\n[cometbft]\nrpc_port = 2\np2p_port = 3\n')
    bad = cli("node", "app", "--home", str(node), check=False)
    assert bad.returncode == 2
    assert "[abci] port" in bad.stderr and "less than or equal to 65535" in bad.stderr


def test_governance_propose_vote_list_and_show(net):
    where = ("--net", str(net.root))
    out = cli("gov", "propose", "change_param", "--title", "Shorter proposals", "--set", "name=proposal_lifetime",
              "--set", "value=500", "--account", "land-bureau/admin", *where).stdout
    assert "proposal 1: proposed" in out and "committed" in out
    out = cli("gov", "vote", "1", "--approve", "--account", "finance-bureau/admin", *where).stdout
    assert "proposal 1: passed" in out and "committed" in out
    listed = cli("gov", "list", *where).stdout
    assert re.search(r"#1 change_param\s+executed\s+2/2 approve", listed) and "1 state proofs verified" in listed
    shown = cli("gov", "show", "1", "--node", "node1", *where).stdout
    assert "finance-bureau: approve by finance-bureau/admin" in shown and "state proof verified" in shown
    closed = cli("gov", "vote", "1", "--reject", "--account", "finance-bureau/admin", *where, check=False)
    assert closed.returncode == 1 and "governance.proposal_closed" in closed.stdout
    bad = cli("gov", "propose", "add_validator", "--title", "x", "--set", "colour=blue", "--account",
              "land-bureau/admin", *where, check=False)
    assert bad.returncode == 2 and "cli.bad_payload" in bad.stderr


def test_node_add_prints_the_ids_governance_needs(tmp_path):
    cli("init", "--validators", "1", "--out", str(tmp_path / "net"), "--base-port", "33700")
    added = json.loads(cli("node", "add", "--operator", "Peking University", "--net", str(tmp_path / "net"),
                           "--json").stdout)
    assert re.fullmatch(r"[0-9a-f]{40}", added["node_id"]) and re.fullmatch(r"[0-9a-f]{64}", added["validator_key"])
    assert "node1" in (tmp_path / "net" / "network.toml").read_text()
