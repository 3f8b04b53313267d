"""The command line, run as a newcomer would: a real network, real keys, real files.

`cli`, `new_account` and `assert_verified` are shared by the other CLI tests (test_land_cli.py, test_funds_cli.py,
test_identity_cli.py), each of which runs one network of its own.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import pytest

from tests.network.netutil import running_network

pytestmark = pytest.mark.network


def cli(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `civichain ARGS` in a fresh process; unless `check` is False, fail the test when it exits non-zero."""
    run = subprocess.run([sys.executable, "-m", "civichain", *args], capture_output=True, text=True, timeout=180,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp",
                              "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})})
    if check and run.returncode != 0:
        raise AssertionError(f"civichain {' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    return run


def new_account(network, account: str, roles: str = "") -> str:
    """Make a key for `account` in the network's keys folder (where the CLI looks by default), register the
    account through the CLI, signed by its organisation's admin; return its public key in hex."""
    passphrase = (network.root / "keys" / "PASSPHRASE").read_text().strip()
    key = network.root / "keys" / (account.replace("/", ".") + ".key")
    cli("keys", "new", account, "--out", str(key), env={"CIVICHAIN_PASSPHRASE": passphrase})
    public_key = json.loads(key.read_text())["public_key"]
    out = cli("submit", "register-account", account, "--public-key", public_key, "--roles", roles,
              "--account", f"{account.split('/')[0]}/admin", "--net", str(network.root)).stdout
    assert "committed" in out, out
    return public_key


def assert_verified(out: str, what: str = "state proof verified") -> int:
    """Check that a read printed its proof check against a checkpoint verified through the signed header of the
    next height; return the checkpoint's height."""
    said = " ".join(out.split())
    match = re.search(rf"{what} against checkpoint (\d+) .* signed header of height (\d+)", said)
    assert match, out
    assert int(match.group(2)) == int(match.group(1)) + 1
    return int(match.group(1))


def assert_usage_error(run: subprocess.CompletedProcess, code: str, *words: str) -> None:
    """Check a refusal of bad input: exit 2, one line naming the code (and `words`), no traceback."""
    assert run.returncode == 2, run.stdout + run.stderr
    said = " ".join((run.stdout + run.stderr).split())
    assert code in said and all(w in said for w in words), said
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 2, run.stderr


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
    assert_verified(looked_up)
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
    past = cli("query", "checkpoint", "--height", "2", "--net", str(net.root)).stdout
    assert "at height 2:" in past and "is in the header of height 3" in past
    assert_usage_error(cli("query", "checkpoint", "--height", "999999", "--net", str(net.root), check=False),
                       "api.not_signed_yet", "height")


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
    assert re.search(r"#1 change_param\s+executed\s+2/2 approve", listed)
    assert_verified(listed, "1 state proofs verified")
    shown = cli("gov", "show", "1", "--node", "node1", *where).stdout
    assert "finance-bureau: approve by finance-bureau/admin" in shown
    assert_verified(shown)
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


def test_a_lost_key_suspend_rotate_reinstate_then_the_accounts_verified_history(net, tmp_path):
    """The worked example of docs/modules/registry.md, through the command line."""
    where = ("--net", str(net.root))
    new_account(net, "land-bureau/clerk", "notary")
    shown = cli("registry", "account", "land-bureau/clerk", *where).stdout
    assert "roles notary" in shown and "active" in shown
    assert_verified(shown)
    suspended = cli("registry", "suspend-account", "land-bureau/clerk", "--reason", "laptop lost",
                    "--account", "land-bureau/admin", *where).stdout
    assert "account_suspended land-bureau/clerk: reason=laptop lost" in suspended and "committed" in suspended
    document = tmp_path / "memo.txt"
    document.write_text("memo")
    refused = cli("submit", "notarize", str(document), "--title", "Memo", "--account", "land-bureau/clerk", *where,
                  check=False)
    assert refused.returncode == 2 and "auth.account_suspended" in refused.stderr
    assert "suspended" in cli("registry", "account", "land-bureau/clerk", *where).stdout
    passphrase = (net.root / "keys" / "PASSPHRASE").read_text().strip()
    fresh = tmp_path / "clerk-2027.key"
    cli("keys", "new", "land-bureau/clerk", "--out", str(fresh), env={"CIVICHAIN_PASSPHRASE": passphrase})
    public_key = json.loads(fresh.read_text())["public_key"]
    cli("registry", "rotate-key", "land-bureau/clerk", "--public-key", public_key, "--account", "land-bureau/admin",
        *where)
    cli("registry", "reinstate-account", "land-bureau/clerk", "--account", "land-bureau/admin", *where)
    signed = cli("submit", "notarize", str(document), "--title", "Memo", "--account", "land-bureau/clerk",
                 "--key", str(fresh), *where).stdout
    assert "committed" in signed
    history = cli("registry", "history", "land-bureau/clerk", *where).stdout
    assert re.findall(r"(account_added|account_suspended|key_rotated|account_reinstated)", history) == [
        "account_added", "account_suspended", "key_rotated", "account_reinstated"]
    assert "by land-bureau/admin" in history
    assert_verified(history, "4 inclusion proofs verified")
    entries = json.loads(cli("registry", "history", "land-bureau/clerk", "--json", *where).stdout)["entries"]
    assert [e["tx"]["decoded"]["body"]["action"] for e in entries] == [
        "add_account", "suspend_account", "rotate_key", "reinstate_account"]


def test_revoke_a_notarized_document_and_read_its_history(net, tmp_path):
    where = ("--net", str(net.root))
    document = tmp_path / "permit.txt"
    document.write_text("建设工程规划许可证 No. 7")
    cli("notary", "notarize", str(document), "--title", "Permit 7", "--account", "finance-bureau/admin", *where)
    refused = cli("notary", "revoke", str(document), "--reason", "wrong office", "--account", "land-bureau/admin",
                  *where, check=False)
    assert refused.returncode == 1 and "notary.not_permitted" in refused.stdout
    revoked = cli("notary", "revoke", str(document), "--reason", "issued in error", "--account",
                  "finance-bureau/admin", *where).stdout
    assert "revoked" in revoked and "committed" in revoked
    shown = cli("notary", "show", str(document), *where).stdout
    assert "revoked" in shown and "issued in error" in shown
    assert_verified(shown)
    import hashlib
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    history = cli("history", "notary", digest, *where).stdout
    assert re.findall(r"(anchored|revoked) ", history) == ["anchored", "revoked"]
    assert_verified(history, "2 inclusion proofs verified")


def test_the_policies_of_every_module_are_listed(net):
    policies = json.loads(cli("policies", "--json").stdout)
    assert set(policies) == {"registry", "notary", "governance", "identity", "land", "funds"}
    assert policies["land"] == json.loads(cli("land", "policies", "--json").stdout)
    assert_usage_error(cli("policies", "taxes", check=False), "cli.unknown_module", "taxes", "land")


@pytest.mark.parametrize("args, code, words", [
    (("history", "taxes", "x"), "api.unknown_module", ("taxes",)),
    (("registry", "account", "land-bureau/nobody"), "registry.unknown_account", ("land-bureau/nobody",)),
    (("registry", "history", "land-bureau/nobody"), "registry.unknown_account", ("land-bureau/nobody",)),
    (("notary", "show", "not-a-digest"), "cli.bad_option", ("DOCUMENT", "64 hex digits")),
    (("notary", "revoke", "ab" * 32, "--reason", "x", "--account", "land-bureau/admin"), "notary.not_found", ()),
    (("registry", "suspend-account", "land-bureau/admin", "--reason", "", "--account", "land-bureau/admin"),
     "tx.bad_arguments", ()),
])
def test_bad_input_to_the_new_commands_is_one_line_naming_what_was_wrong(net, args, code, words):
    run = cli(*args, "--net", str(net.root), check=False)
    if code == "notary.not_found":     # a receipt: committed as failed, exit 1
        assert run.returncode == 1 and code in run.stdout
        return
    assert_usage_error(run, code, *words)
