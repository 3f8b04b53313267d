"""On a real network, through the command line: a transfer signed by the owner, the buyer, the land bureau
and the tax bureau is committed; one the tax bureau did not sign is refused with auth.missing_endorsement;
and the parcel answer's state proofs verify."""

from __future__ import annotations

import msgspec
import pytest

from civichain.client.api import ApiClient
from civichain.client.land import check_parcel_answer, full_history, parcel
from civichain.client.proofs import check_state_answer
from civichain.codec import encode
from civichain.modules.governance import Propose, Vote
from civichain.modules.membership import AddOrganisation
from civichain.modules.registry import AddAccount
from civichain.node.network import _new_account_key
from tests.network.netutil import running_network
from tests.network.test_governance_network import submit
from tests.test_cli import cli

pytestmark = pytest.mark.network


def add_organisation(network, org: str, admin_key: bytes) -> dict:
    payload = AddOrganisation(admin_account=f"{org}/admin", admin_public_key=admin_key, id=org, name_en=org,
                              name_zh=org)
    return submit(network, "land-bureau/admin", "governance", "propose",
                  Propose(kind="add_organisation", payload=msgspec.Raw(encode(payload)), title=f"Add {org}"))


def test_a_transfer_needs_the_tax_bureau_and_the_parcel_answer_proves_itself(tmp_path):
    with running_network(tmp_path / "net", validators=1) as (network, _):
        root = network.root
        passphrase = (root / "keys" / "PASSPHRASE").read_text().strip()
        keys = {a: _new_account_key(root, a, passphrase) for a in ("tax-bureau/admin", "residents/admin",
                                                                   "land-bureau/registrar", "residents/alice",
                                                                   "residents/bob")}
        # The one-validator network starts with the land bureau alone: governance adds the tax bureau (passing at
        # once), then the residents (the tax bureau votes too); then the accounts.
        add_organisation(network, "tax-bureau", keys["tax-bureau/admin"])
        proposed = add_organisation(network, "residents", keys["residents/admin"])
        number = int(next(e["key"] for e in proposed["receipt"]["events"] if e["type"] == "proposed"))
        submit(network, "tax-bureau/admin", "governance", "vote", Vote(approve=True, proposal=number))
        submit(network, "land-bureau/admin", "registry", "add_account",
               AddAccount(id="land-bureau/registrar", public_key=keys["land-bureau/registrar"], roles=("registrar",)))
        for resident in ("residents/alice", "residents/bob"):
            submit(network, "residents/admin", "registry", "add_account",
                   AddAccount(id=resident, public_key=keys[resident]))

        def land(*args: str, check: bool = True):
            return cli("land", *args, "--account", "land-bureau/registrar", "--net", str(root), check=check)

        survey, deed, contract = (tmp_path / "survey.pdf", tmp_path / "deed.pdf", tmp_path / "contract.pdf")
        for path in (survey, deed, contract):
            path.write_bytes(path.name.encode())
        land("register-parcel", "110101-001-0042", "--location", "东城区 景山街道 1号", "--area", "1234.56",
             "--land-use", "residential", "--survey", str(survey))
        land("issue-title", "110101-001-0042", "--owner", "residents/alice", "--deed", str(deed))
        sold = land("transfer", "110101-001-0042", "--to", "residents/bob", "--deed", str(contract),
                    "--endorse", "residents/alice", "--endorse", "residents/bob", "--endorse", "tax-bureau/admin")
        assert "committed" in sold.stdout and "transferred" in sold.stdout
        refused = land("transfer", "110101-001-0042", "--to", "residents/alice", "--deed", str(contract),
                       "--endorse", "residents/alice", "--endorse", "residents/bob", check=False)
        said = refused.stdout.replace("\n", " ")
        assert refused.returncode == 1
        assert "auth.missing_endorsement" in said and "missing an account of tax-bureau" in said

        api = ApiClient(network.nodes[0].api_url)
        answer = parcel(api, "110101-001-0042")
        for part in (answer["parcel"], answer["title"]):
            check_state_answer(part["state"]["key"].encode(), part["state"])
        check_parcel_answer(answer)
        assert answer["title"]["record"]["owners"] == [{"owner": "residents/bob", "numerator": 1, "denominator": 1}]
        assert [e["type"] for e in full_history(api, "110101-001-0042")] == ["registered", "title_issued",
                                                                            "transferred"]
        shown = cli("land", "show", "110101-001-0042", "--net", str(root)).stdout
        assert "residents/bob 1/1" in shown and "state proofs verified" in shown
