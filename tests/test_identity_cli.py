"""Every `civichain identity` command on one real network: a citizen's DID through its whole life, a department
registered as a credential issuer with a schema and a status list; every read checked against a checkpoint
verified through its signed header, and whether a credential is revoked read from the proved bits."""

from __future__ import annotations

import json
import re

import pytest

from tests.network.netutil import running_network
from tests.test_cli import assert_usage_error, assert_verified, cli

pytestmark = pytest.mark.network

OFFICER, CIVIL = "land-bureau/admin", "civil-affairs/admin"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """One validator; land-bureau registers DIDs and issues land certificates, civil-affairs registers issuers."""
    root = tmp_path_factory.mktemp("identity-cli") / "net"
    with running_network(root, validators=1, organisations=3) as (network, _):
        yield network


@pytest.fixture(scope="module")
def keys(net, tmp_path_factory):
    """Key files of DID keys, sealed with the network's dev passphrase (so the CLI opens them unasked)."""
    folder = tmp_path_factory.mktemp("did-keys")
    passphrase = {"CIVICHAIN_PASSPHRASE": (net.root / "keys" / "PASSPHRASE").read_text().strip()}
    made = {}
    for name in ("alice", "alice-phone", "alice-2027", "land-seal"):
        made[name] = folder / f"{name}.key"
        cli("keys", "new", name, "--out", str(made[name]), env=passphrase)
    return made


def identity(net, *args: str, check: bool = True):
    return cli("identity", *args, "--net", str(net.root), check=check)


def public_key(path) -> str:
    return json.loads(path.read_text())["public_key"]


@pytest.fixture(scope="module")
def alice(net, keys) -> str:
    created = identity(net, "create", "--subject-key", str(keys["alice"]), "--account", OFFICER).stdout
    assert "committed" in created
    return re.search(r"DID (did:civic:[0-9a-f]{32})", created).group(1)


def change(net, keys, *args: str, signing: str = "alice") -> str:
    out = identity(net, *args, "--signing-key", str(keys[signing]), "--account", OFFICER).stdout
    assert "committed" in out, out
    return out


def test_a_dids_whole_life_through_the_command_line(net, keys, alice):
    change(net, keys, "add-key", alice, "--key-id", "phone", "--new-key", str(keys["alice-phone"]),
           "--purpose", "authentication")
    change(net, keys, "add-service", alice, "--service", "inbox=CredentialInbox=https://wallet.example/in")
    shown = identity(net, "resolve", alice).stdout
    assert "key phone:" in shown and "service inbox: CredentialInbox https://wallet.example/in" in shown
    assert "active, version 3" in shown
    assert_verified(shown)
    change(net, keys, "remove-service", alice, "--service-id", "inbox")
    change(net, keys, "remove-key", alice, "--key-id", "phone")
    rotated = change(net, keys, "rotate-key", alice, "--new-key", str(keys["alice-2027"]))
    height = int(re.search(r"at height (\d+)", rotated).group(1))
    before = identity(net, "resolve", alice, "--height", str(height - 1)).stdout
    assert public_key(keys["alice"]) in before and "version 5" in before
    assert assert_verified(before) == height - 1       # against the checkpoint of that very height
    old_key = identity(net, "key", public_key(keys["alice"])).stdout
    assert f"{alice}#key-1" in old_key and f"retired at height {height}" in old_key
    assert_verified(old_key)
    stale = identity(net, "add-service", alice, "--service", "x=Y=https://z", "--signing-key", str(keys["alice"]),
                     "--account", OFFICER, check=False)
    assert stale.returncode == 1 and "identity." in stale.stdout        # the retired key signs nothing more
    change(net, keys, "deactivate", alice, signing="alice-2027")
    assert "deactivated" in identity(net, "resolve", alice).stdout
    history = identity(net, "history", alice).stdout
    assert re.findall(r"^height\s+\d+\s+(\w+)", history, re.M) == [
        "did_created", "key_added", "service_added", "service_removed", "key_removed", "key_rotated",
        "did_deactivated"]
    assert_verified(history, "7 inclusion proofs verified")


def test_an_issuer_its_schema_and_its_status_list(net, keys, tmp_path):
    created = identity(net, "create", "--subject-key", str(keys["land-seal"]), "--account", OFFICER).stdout
    seal = re.search(r"DID (did:civic:[0-9a-f]{32})", created).group(1)
    not_civil = identity(net, "register-issuer", "land-bureau", "land_certificate", "--did", seal, "--account",
                         OFFICER, check=False)
    assert not_civil.returncode == 1 and "auth.not_permitted" in not_civil.stdout
    identity(net, "register-issuer", "land-bureau", "land_certificate", "--did", seal, "--account", CIVIL)
    schema = tmp_path / "land-certificate-v1.json"
    schema.write_text('{"title": "Land certificate v1"}')
    identity(net, "register-schema", str(schema), "--type", "land_certificate", "--title", "Land certificate v1",
             "--account", OFFICER)
    found = identity(net, "schema", str(schema)).stdout
    assert "Land certificate v1 for land_certificate of land-bureau" in found
    assert_verified(found)
    revoked = identity(net, "revoke", "land_certificate", "3", "5", "--account", OFFICER).stdout
    height = int(re.search(r"at height (\d+)", revoked).group(1))
    status = identity(net, "status", "land-bureau", "land_certificate", "--index", "5").stdout
    assert "2 credentials revoked" in status and "credential 5: revoked" in status
    assert_verified(status, r"state proofs verified \(status list and issuer registration\)")
    earlier = identity(net, "status", "land-bureau", "land_certificate", "--index", "5", "--height",
                       str(height - 1)).stdout
    assert "0 credentials revoked" in earlier and "credential 5: in force" in earlier   # the absence is proved
    identity(net, "unrevoke", "land_certificate", "5", "--account", OFFICER)
    assert "credential 5: in force" in identity(net, "status", "land-bureau", "land_certificate", "--index", "5").stdout
    issuer = identity(net, "issuer", "land-bureau", "land_certificate").stdout
    assert f"land-bureau issues land_certificate, signed by {seal}: registered" in issuer
    assert_verified(issuer)
    identity(net, "withdraw-issuer", "land-bureau", "land_certificate", "--reason", "merged into a new bureau",
             "--account", CIVIL)
    listed = identity(net, "issuers").stdout
    assert "withdrawn at" in listed and "merged into a new bureau" in listed
    assert_verified(listed, "1 state proofs verified")
    again = identity(net, "unrevoke", "land_certificate", "3", "--account", OFFICER, check=False)
    assert again.returncode == 1 and "identity.issuer_withdrawn" in again.stdout


@pytest.mark.parametrize("args, code, words", [
    (("resolve", "did:civic:nothex"), "api.bad_request", ("did",)),
    (("resolve", "did:civic:" + "0" * 32), "identity.unknown_did", ()),
    (("key", "abc"), "cli.bad_option", ("PUBLIC_KEY", "64 hex digits")),
    (("key", "ab" * 32), "identity.unknown_key", ()),
    (("schema", "00" * 32), "identity.unknown_schema", ()),
    (("issuer", "finance-bureau", "tax_receipt"), "identity.unknown_issuer", ("finance-bureau/tax_receipt",)),
    (("history", "did:civic:" + "1" * 32), "identity.unknown_did", ()),
    (("status", "land-bureau", "Bad Type"), "api.bad_request", ("credential_type",)),
    (("create", "--subject-key", "/nonexistent.key", "--account", OFFICER), "cli.bad_key_file",
     ("/nonexistent.key", "civichain keys new")),
])
def test_bad_identity_input_is_one_line_naming_what_was_wrong(net, args, code, words):
    assert_usage_error(identity(net, *args, check=False), code, *words)


def test_a_malformed_service_is_refused_before_anything_is_sent(net, keys):
    run = identity(net, "create", "--subject-key", str(keys["alice-phone"]), "--service", "broken", "--account",
                   OFFICER, check=False)
    assert_usage_error(run, "cli.bad_option", "--service", "ID=TYPE=ENDPOINT")
