"""`civichain bench modules`: the block of land and funds transactions really executes, every receipt `ok`;
the state bench proves the modules' own keys; each issue-4 target is judged only at its own size."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from civichain.abci.messages import abci
from civichain.bench.block import BenchFailure, check_receipts, run_block_bench
from civichain.bench.city import MIX, City
from civichain.bench.modules import run_state_bench
from civichain.bench.targets import issue4_targets, target_lines

FULL_BLOCK = {"blocks": 5, "txs_per_block": 2_000, "signatures_per_block": 5_000, "finalize_ms_median": 200.0,
              "finalize_and_commit_ms_median": 300.0, "finalize_and_commit_ms_max": 1_200,
              "finalize_unseen_ms_median": 450.0}
FULL_STATE = {"keys": 1_000_000, "proof_bytes_mean": 700, "proof_bytes_max": 900, "proof_verifications_per_s": 20_000,
              "disk_mib_all_versions": 1_300.0, "disk_mib_latest_version": 600.0, "blocks": 200}


def test_a_small_block_bench_applies_every_transaction_with_an_ok_receipt():
    figures = run_block_bench(blocks=2, block_txs=120, report=lambda line: None)
    # run_block_bench raises BenchFailure on any receipt that is not ok; the figures say so and are all there.
    assert figures["receipts_ok"] == "all 240 ok"
    assert sum(figures["mix"].values()) == 120 and set(figures["mix"]) == {action for action, _ in MIX}
    for name in ("finalize_ms_median", "finalize_ms_max", "commit_ms_median", "commit_ms_max",
                 "finalize_and_commit_ms_median", "finalize_and_commit_ms_max", "finalize_unseen_ms_median",
                 "check_tx_us_per_tx", "ed25519_verify_us"):
        assert figures[name] > 0, name
    # A transfer carries the registrar's signature and three or more endorsements: more signatures than txs.
    assert figures["signatures_per_block"] > 2 * 120


def test_a_failed_receipt_stops_the_bench():
    answer = abci.ResponseFinalizeBlock()
    answer.tx_results.add(code=0)
    answer.tx_results.add(code=501, codespace="land", log="land.unknown_parcel: args.parcel is 'X'")
    with pytest.raises(BenchFailure, match="1 of 2 receipts failed"):
        check_receipts(answer, 2, "FinalizeBlock")


def test_the_block_mix_adds_up_to_the_block_size_at_any_size():
    for size in (1, 7, 120, 2_000, 2_001):
        assert sum(City(blocks=1, block_txs=size).counts.values()) == size


def test_the_state_bench_writes_the_modules_keys_and_verifies_proofs_from_bytes():
    figures = run_state_bench(keys=3_000, batch=1_000, proofs=200, report=lambda line: None)
    assert figures["keys"] >= 3_000
    assert {"land/parcel", "land/title", "funds/disbursement", "funds/payments", "funds/invoice", "identity/did",
            "identity/key", "notary/doc", "registry/account", "auth/nonce"} <= set(figures["key_kinds"])
    assert 0 < figures["proof_bytes_mean"] <= figures["proof_bytes_max"]
    assert figures["proof_verifications_per_s"] > 0 and figures["disk_mib_all_versions"] > 0


def test_targets_are_judged_at_their_own_size_only():
    small = issue4_targets({"block": {**FULL_BLOCK, "txs_per_block": 200}, "state": {**FULL_STATE, "keys": 20_000}})
    assert [t["met"] for t in small] == [None, None, None, None, None]
    full = issue4_targets({"block": FULL_BLOCK, "state": FULL_STATE,
                           "demo_seed": {"validators": 4, "scale": 1.0, "seed_seconds": 140.0, "ok": 15_000,
                                         "transactions": 15_000}})
    # The block's max is 1.2 s: not met, though its median is well under 1 s.
    assert [t["met"] for t in full] == [False, True, True, True, True]
    lines = target_lines(full)
    assert lines[0].split()[0:2] == ["NOT", "MET"] and all(line.split()[0] == "met" for line in lines[1:])


def test_the_command_prints_each_target_in_json():
    run = subprocess.run([sys.executable, "-m", "civichain", "bench", "modules", "--blocks", "1", "--block-txs", "40",
                          "--keys", "2000", "--batch", "1000", "--validators", "0", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    assert figures["block"]["receipts_ok"] == "all 40 ok" and figures["state"]["keys"] >= 2_000
    assert len(figures["targets"]) == 5 and all({"target", "figure", "met"} == set(t) for t in figures["targets"])
