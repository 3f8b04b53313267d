"""`civichain chaos` without a network: what it prints and how it exits, for a run that passes or fails.

The run itself is replaced here; tests/network/test_chaos.py runs a real one.
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from civichain.chaos import harness
from civichain.chaos.checks import CheckFailed
from civichain.chaos.harness import ChaosFailure, ChaosReport, replay_command
from civichain.cli import app

runner = CliRunner()


def test_a_failure_names_its_seed_and_the_command_that_replays_it():
    failure = ChaosFailure(42, 25, CheckFailed("chaos.acknowledged_lost", where="3 acknowledged transactions",
                                               got=["tx"], expected="every acknowledged transaction everywhere"))
    assert failure.check_failed and failure.code == "chaos.acknowledged_lost"
    assert "seed 42" in str(failure) and "civichain chaos --seed 42 --duration 25" in str(failure)
    assert replay_command(7, 600.0) == "civichain chaos --seed 7 --duration 600"


def test_a_failed_check_exits_1_printing_the_seed_and_the_replay_command(monkeypatch):
    def failing(seed, duration, root=None, report=print):
        raise ChaosFailure(seed, duration, CheckFailed("chaos.app_hashes_differ", where="block 9", got=["A", "B"],
                                                       expected="one app hash on every node"))

    monkeypatch.setattr(harness, "run_chaos", failing)
    result = runner.invoke(app, ["chaos", "--seed", "5", "--duration", "25"])
    assert result.exit_code == 1
    assert "CHAOS RUN FAILED" in result.stdout and "chaos.app_hashes_differ" in result.stdout
    assert "replay this schedule with: civichain chaos --seed 5 --duration 25" in result.stdout


def test_a_run_that_could_not_run_exits_3_and_still_names_its_seed(monkeypatch):
    def broken(seed, duration, root=None, report=print):
        raise ChaosFailure(seed, duration, TimeoutError("only 0 acknowledged after 60 s"))

    monkeypatch.setattr(harness, "run_chaos", broken)
    result = runner.invoke(app, ["chaos", "--seed", "6", "--duration", "30", "--json"])
    assert result.exit_code == 3
    answer = json.loads(result.stdout)
    assert answer["ok"] is False and answer["code"] == "chaos.run_failed" and answer["seed"] == 6
    assert answer["replay"] == "civichain chaos --seed 6 --duration 30"


def test_a_passing_run_prints_its_summary(monkeypatch):
    def passing(seed, duration, root=None, report=print):
        report("  2.0 s  kill node1 app (SIGKILL)")
        return ChaosReport(seed, duration, steps=11, acknowledged=321, final_height=77, resumed_after_s=3.2,
                           replayed_heights=77, seconds=51.0)

    monkeypatch.setattr(harness, "run_chaos", passing)
    result = runner.invoke(app, ["chaos", "--seed", "9", "--duration", "25"])
    assert result.exit_code == 0, result.stdout
    assert "kill node1 app (SIGKILL)" in result.stdout
    summary = result.stdout[result.stdout.index("CHAOS RUN PASSED"):]
    for fact in ("seed 9", "11 steps", "321 acknowledged", "final height 77", "51.0 s",
                 "replay: civichain chaos --seed 9 --duration 25"):
        assert fact in summary, fact
    as_json = runner.invoke(app, ["chaos", "--seed", "9", "--duration", "25", "--json"])
    figures = json.loads(as_json.stdout)
    assert figures["ok"] is True and figures["acknowledged"] == 321 and figures["final_height"] == 77


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_without_a_seed_a_random_one_is_chosen_and_printed(tmp_path, extra):
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("not empty")   # the run stops at once: the folder is taken
    seeds = set()
    for _ in range(2):
        result = runner.invoke(app, ["chaos", "--duration", "25", "--keep", str(used), *extra])
        assert result.exit_code != 0 and isinstance(result.exception, Exception)
        printed = re.search(r"chaos seed (\d+): 25 s, \d+ steps; replay with: civichain chaos --seed (\d+) "
                            r"--duration 25", result.output)
        assert printed and printed.group(1) == printed.group(2), result.output
        seeds.add(printed.group(1))
    assert len(seeds) == 2
