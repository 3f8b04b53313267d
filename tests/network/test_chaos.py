"""A short `civichain chaos` run, as CI runs it: real processes killed, restarted, partitioned and healed under
load, then every node agreeing, nothing acknowledged lost, commits resumed and every chain replayed.

The seed is random and printed first; set CIVICHAIN_CHAOS_SEED to run a schedule again (or run the printed
command). Longer runs are `civichain chaos --seed S --duration 600` (README, benchmarks and drills).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from civichain.chaos.checks import assert_nothing_left_running
from civichain.chaos.schedule import schedule

pytestmark = pytest.mark.network

SEED_VARIABLE = "CIVICHAIN_CHAOS_SEED"
DURATION = 25
TIMEOUT_S = 150      # the run takes about 50 s on the 2-core machine: 25 s of faults, start, checks and replays


def test_a_short_chaos_run_passes_and_prints_its_seed_and_the_replay_command(tmp_path):
    chosen = os.environ.get(SEED_VARIABLE)
    seed = int(chosen) if chosen else random.SystemRandom().randrange(2**32)
    replay = f"civichain chaos --seed {seed} --duration {DURATION}"
    print(f"\nchaos seed {seed} (rerun with {SEED_VARIABLE}={seed}, or: {replay})")
    root = tmp_path / "net"
    started = time.monotonic()
    returncode, stdout, stderr = run_cli(["chaos", "--seed", str(seed), "--duration", str(DURATION),
                                          "--keep", str(root), "--json"])
    print(stderr)
    assert returncode == 0, f"seed {seed} failed ({replay}):\n{stdout}\n{stderr[-4000:]}"
    assert f"chaos seed {seed}: {DURATION} s" in stderr and f"replay with: {replay}" in stderr
    printed = [line.split(" s  ", 1)[1] for line in stderr.splitlines() if line.startswith(" ") and " s  " in line]
    planned = [str(step) for step in schedule(seed, DURATION)]
    assert printed[:len(planned)] == planned, "the steps carried out are not the seed's schedule"
    figures = json.loads(stdout)
    assert figures["ok"] is True and figures["seed"] == seed and figures["replay"] == replay
    assert figures["acknowledged"] > 0 and figures["final_height"] > 2
    assert figures["replayed_heights"] >= figures["final_height"]
    assert figures["resumed_after_s"] <= 30
    assert_nothing_left_running(root)
    print(f"seed {seed}: {figures['steps']} steps, {figures['acknowledged']} acknowledged, height "
          f"{figures['final_height']}, {time.monotonic() - started:.0f} s")


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Run `civichain ARGS`; past TIMEOUT_S, SIGTERM it (it stops its nodes), then SIGKILL it."""
    process = subprocess.Popen([sys.executable, "-m", "civichain", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        pytest.fail(f"civichain {' '.join(args)} ran past {TIMEOUT_S} s:\n{stdout}\n{stderr[-4000:]}")
    return process.returncode, stdout, stderr
