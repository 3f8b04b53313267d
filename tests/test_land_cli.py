"""The `civichain land` commands: without a network, the published policies and bad input refused with exit 2
before anything is signed or sent; on one real network, every land command run once, each outcome and each
proof check asserted, and answers tampered with on the way refused."""

from __future__ import annotations

import copy
import json
import re

import pytest
from typer.testing import CliRunner

from civichain.cli import app
from civichain.cli.common import EXIT_PROBLEM, exit_code
from civichain.cli.land import _hundredths, _owner_shares
from civichain.client.api import ApiClient
from civichain.client.checkpoint import CheckpointMismatch
from civichain.client.proofs import AnswerMismatch
from tests.network.netutil import running_network
from tests.test_cli import assert_usage_error, assert_verified, cli, new_account

runner = CliRunner()
DIGEST = "ab" * 32
PARCEL = "110101-001-0042"
ALICE, BOB, CAROL, LENDER = "notary-office/alice", "notary-office/bob", "notary-office/carol", "finance-bureau/admin"


def test_the_policies_are_listed_as_execution_checks_them():
    result = runner.invoke(app, ["land", "policies", "--json"])
    assert result.exit_code == 0
    policies = json.loads(result.stdout)
    assert len(policies) == 10
    assert policies["transfer"]["endorsement"] == ("every subject (e.g. every owner) AND a registrar of land-bureau "
                                                   "AND an account of tax-bureau")
    assert policies["freeze"]["performer"] == "an account of court"
    assert policies["add_encumbrance"]["subjects"].startswith("The holder")


def test_areas_and_amounts_are_read_exactly_in_hundredths():
    assert [_hundredths(text, "--area", "m²") for text in ("1234.56", "1234.5", "1234", "0.07")] == [
        123456, 123450, 123400, 7]
    shares = _owner_shares(["residents/alice=1/3", "residents/bob=2/3", "residents/carol"], "--owner")
    assert [(s.owner, s.numerator, s.denominator) for s in shares] == [
        ("residents/alice", 1, 3), ("residents/bob", 2, 3), ("residents/carol", 1, 1)]


@pytest.mark.parametrize("args, message", [
    (["register-parcel", "P-1", "--location", "x", "--area", "12.345", "--land-use", "forest", "--survey", DIGEST],
     "cli.bad_option: --area"),
    (["register-parcel", "P-1", "--location", "x", "--area", "1e3", "--land-use", "forest", "--survey", DIGEST],
     "cli.bad_option: --area"),
    (["register-parcel", "P-1", "--location", "x", "--area", "12", "--land-use", "swamp", "--survey", DIGEST],
     "tx.bad_arguments"),
    (["register-parcel", "P-1", "--location", "x", "--area", "12", "--land-use", "forest", "--survey", "no-such-file"],
     "cli.bad_option: --survey"),
    (["issue-title", "P-1", "--owner", "residents/alice=1/2/3", "--deed", DIGEST], "cli.bad_option: --owner"),
    (["issue-title", "P-1", "--deed", DIGEST], "cli.bad_option: --owner"),
    (["subdivide", "P-1", "--child", "P-1-1;10.00", "--document", DIGEST], "cli.bad_option: --child"),
])
def test_bad_input_exits_2_with_one_line_before_anything_is_sent(args, message):
    result = runner.invoke(app, ["land", *args, "--account", "land-bureau/registrar"])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """One validator; land-bureau (with a registrar), finance-bureau (the lender), civil-affairs, notary-office
    (the owners alice, bob and carol), tax-bureau and the court."""
    with running_network(tmp_path_factory.mktemp("land-cli") / "net", validators=1, organisations=6) as (network, _):
        new_account(network, "land-bureau/registrar", "registrar")
        for owner in (ALICE, BOB, CAROL):
            new_account(network, owner)
        yield network


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("land-documents")
    for name in ("survey", "deed", "loan", "discharge", "contract", "order", "ruling", "plan", "survey-1", "survey-2",
                 "merger", "survey-m"):
        (folder / f"{name}.pdf").write_text(f"{name} of parcel {PARCEL}")
    return folder


def land(net, *args: str, account: str = "land-bureau/registrar", check: bool = True):
    return cli("land", *args, "--account", account, "--net", str(net.root), check=check)


def read(net, *args: str, check: bool = True):
    return cli("land", *args, "--net", str(net.root), check=check)


@pytest.mark.network
def test_register_title_mortgage_release_and_transfer(net, files):
    registered = land(net, "register-parcel", PARCEL, "--location", "东城区 景山街道 1号", "--area", "1234.56",
                      "--land-use", "residential", "--survey", str(files / "survey.pdf")).stdout
    assert f"registered {PARCEL}" in registered and "committed" in registered
    land(net, "issue-title", PARCEL, "--owner", f"{ALICE}=1/2", "--owner", f"{BOB}=1/2", "--deed",
         str(files / "deed.pdf"))
    mortgaged = land(net, "add-encumbrance", PARCEL, "--kind", "mortgage", "--holder", LENDER, "--blocking",
                     "--amount", "800000.00", "--document", str(files / "loan.pdf"), "--endorse", ALICE,
                     "--endorse", BOB, "--endorse", LENDER).stdout
    assert "encumbered" in mortgaged and "committed" in mortgaged
    blocked = land(net, "transfer", PARCEL, "--to", CAROL, "--deed", str(files / "contract.pdf"), "--endorse", ALICE,
                   "--endorse", BOB, "--endorse", CAROL, "--endorse", "tax-bureau/admin", check=False)
    assert blocked.returncode == 1 and "land.encumbered" in blocked.stdout
    shown = read(net, "show", PARCEL).stdout
    assert "mortgage 1 for finance-bureau/admin (blocking), 800000.00 yuan" in shown
    assert f"{ALICE} 1/2, {BOB} 1/2" in shown
    assert_verified(shown, "state proofs verified")
    land(net, "release-encumbrance", "1", "--document", str(files / "discharge.pdf"), "--endorse", LENDER)
    released = read(net, "encumbrance", "1").stdout
    assert "released at height" in released and f"parcel {PARCEL}" in released
    assert_verified(released)
    sold = land(net, "transfer", PARCEL, "--to", CAROL, "--deed", str(files / "contract.pdf"), "--endorse", ALICE,
                "--endorse", BOB, "--endorse", CAROL, "--endorse", "tax-bureau/admin").stdout
    assert "transferred" in sold and "committed" in sold
    ended = read(net, "title", "1").stdout
    assert "title 1 (ended, first_registration" in ended and "ended at height" in ended
    assert_verified(ended)
    assert f"title 2 (current, transfer" in read(net, "title", "2").stdout


@pytest.mark.network
def test_a_court_freeze_blocks_a_transfer_until_lifted(net, files):
    frozen = land(net, "freeze", PARCEL, "--case", "(2026)京0101民初1234号", "--order", str(files / "order.pdf"),
                  account="court/admin").stdout
    assert "frozen" in frozen and "committed" in frozen
    refused = land(net, "transfer", PARCEL, "--to", ALICE, "--deed", str(files / "contract.pdf"), "--endorse", CAROL,
                   "--endorse", ALICE, "--endorse", "tax-bureau/admin", check=False)
    assert refused.returncode == 1 and "land.parcel_frozen" in refused.stdout
    assert "frozen for case (2026)京0101民初1234号 by court" in read(net, "show", PARCEL).stdout
    not_court = land(net, "unfreeze", PARCEL, "--case", "(2026)京0101民初1234号", "--order", str(files / "ruling.pdf"),
                     check=False)
    assert not_court.returncode == 1 and "auth." in not_court.stdout
    land(net, "unfreeze", PARCEL, "--case", "(2026)京0101民初1234号", "--order", str(files / "ruling.pdf"),
         account="court/admin")
    assert "frozen" not in read(net, "show", PARCEL).stdout


@pytest.mark.network
def test_subdivide_then_merge_conserves_the_area(net, files):
    divided = land(net, "subdivide", PARCEL, "--document", str(files / "plan.pdf"), "--endorse", CAROL,
                   "--child", f"{PARCEL}-1;600.00;{files / 'survey-1.pdf'};north half",
                   "--child", f"{PARCEL}-2;634.56;{files / 'survey-2.pdf'};south half").stdout
    assert "subdivided" in divided and "committed" in divided
    retired = read(net, "show", PARCEL).stdout
    assert "(retired)" in retired and f"into {PARCEL}-1, {PARCEL}-2" in retired
    merged = land(net, "merge", "110101-001-0050", "--parcel", f"{PARCEL}-1", "--parcel", f"{PARCEL}-2",
                  "--area", "1234.56", "--location", "东城区 景山街道 1-3号", "--survey", str(files / "survey-m.pdf"),
                  "--document", str(files / "merger.pdf"), "--endorse", CAROL).stdout
    assert "merged" in merged and "committed" in merged
    shown = read(net, "show", "110101-001-0050").stdout
    assert "1234.56 m²" in shown and f"{CAROL} 1/1" in shown and f"from {PARCEL}-1, {PARCEL}-2" in shown
    corrected = land(net, "correct-parcel", "110101-001-0050", "--location", "东城区 景山街道 1-3号甲",
                     "--land-use", "commercial", "--survey", str(files / "survey-m.pdf"), "--document", DIGEST,
                     "--endorse", "tax-bureau/admin").stdout
    assert "corrected" in corrected and "committed" in corrected
    land(net, "add-encumbrance", "110101-001-0050", "--kind", "easement", "--holder", ALICE, "--not-blocking",
         "--document", DIGEST, "--endorse", CAROL, "--endorse", ALICE)
    shown = read(net, "show", "110101-001-0050").stdout
    assert "commercial; 东城区 景山街道 1-3号甲" in shown and f"easement 2 for {ALICE}" in shown
    wrong = land(net, "merge", "110101-001-0051", "--parcel", "110101-001-0050", "--parcel", f"{PARCEL}-1",
                 "--area", "1.00", "--location", "x", "--survey", DIGEST, "--document", DIGEST, "--endorse", CAROL,
                 check=False)
    assert wrong.returncode == 1 and "land." in wrong.stdout


@pytest.mark.network
def test_the_parcels_history_comes_with_verified_inclusion_proofs(net):
    out = read(net, "history", PARCEL).stdout
    assert re.findall(r"^height\s+\d+\s+(\w+)", out, re.M) == [
        "registered", "title_issued", "encumbered", "encumbrance_released", "transferred", "frozen", "unfrozen",
        "subdivided"]
    assert "by land-bureau/registrar" in out and "by court/admin" in out
    assert_verified(out, "8 inclusion proofs verified")
    page = json.loads(read(net, "history", PARCEL, "--json").stdout)
    assert [e["tx"]["decoded"]["body"]["action"] for e in page["entries"]][:2] == ["register_parcel", "issue_title"]
    generic = cli("history", "land", PARCEL, "--net", str(net.root)).stdout
    assert_verified(generic, "8 inclusion proofs verified")


@pytest.mark.network
@pytest.mark.parametrize("args, code, words", [
    (("title", "99"), "land.unknown_title", ("99",)),
    (("encumbrance", "42"), "land.unknown_encumbrance", ("42",)),
    (("show", "no such parcel"), "api.bad_request", ("parcel",)),
    (("history", "110101-999-0000"), "land.unknown_parcel", ("110101-999-0000",)),
])
def test_bad_land_queries_are_one_line_naming_what_was_wrong(net, args, code, words):
    assert_usage_error(read(net, *args, check=False), code, *words)


@pytest.mark.network
@pytest.mark.parametrize("route, tamper, error", [
    ("/v1/land/parcels/", lambda answer: answer["parcel"]["record"].update(area_dm2=1), AnswerMismatch),
    ("/v1/land/parcels/", lambda answer: answer["parcel"]["state"].update(state_root="00" * 32), AnswerMismatch),
    ("/v1/land/parcels/", lambda answer: answer["encumbrances"].clear(), AnswerMismatch),
    ("/v1/checkpoints/", lambda answer: answer["checkpoint"].update(state_root="11" * 32), CheckpointMismatch),
])
def test_a_parcel_answer_tampered_with_on_the_way_is_refused(net, monkeypatch, route, tamper, error):
    """`land show` checks the node's answers: a record that is not the value proved, a proof against another
    root, a left-out encumbrance, a checkpoint the signed header does not commit to."""
    real_call = ApiClient._call

    def tampered(self, method, path, **kwargs):
        answer = copy.deepcopy(real_call(self, method, path, **kwargs))
        if path.startswith(route):
            tamper(answer)
        return answer

    monkeypatch.setattr(ApiClient, "_call", tampered)
    result = runner.invoke(app, ["land", "show", "110101-001-0050", "--net", str(net.root)])
    assert isinstance(result.exception, error), result.output
    assert exit_code(result.exception) == EXIT_PROBLEM
