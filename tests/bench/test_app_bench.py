"""`civichain bench app`: every phase is measured over transactions that really committed."""

from __future__ import annotations

import json
import subprocess
import sys

from civichain.bench.app import PHASES, run_app_bench


def test_every_phase_is_timed_over_a_fully_committed_run():
    figures = run_app_bench(blocks=3, block=40, backlog=25, accounts=10, report=lambda line: None)
    assert set(figures["us_per_tx"]) == set(PHASES)
    assert all(figures["us_per_tx"][phase] > 0 for phase in PHASES)
    assert figures["ed25519_verify_us"] > 0
    # CheckTx verifies each new signature once: it costs at least one verification per transaction.
    assert figures["us_per_tx"]["check_tx"] >= figures["ed25519_verify_us"] * 0.5


def test_the_command_prints_json_figures():
    run = subprocess.run([sys.executable, "-m", "civichain", "bench", "app", "--blocks", "2", "--block", "30",
                          "--backlog", "10", "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    assert figures["blocks"] == 2 and figures["block_txs"] == 30


def test_a_zero_block_size_is_refused_by_the_command():
    run = subprocess.run([sys.executable, "-m", "civichain", "bench", "app", "--block", "0"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--block" in run.stderr
