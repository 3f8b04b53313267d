"""`civichain demo seed` on a real 4-validator network of ten departments: every phase's transactions
commit, and the records are there with their histories (a small scale of the full data set); a network
without the ten departments is refused up front, naming the missing ones."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from civichain.demo.data import ISSUERS, DemoError
from civichain.demo.seed import seed_demo
from tests.network.netutil import running_network

pytestmark = pytest.mark.network


def test_the_demo_data_set_commits_whole_and_reads_back(tmp_path):
    with running_network(tmp_path / "net", organisations=10) as (network, _):
        figures = seed_demo(network, scale=0.05, report=print)
        assert figures["ok"] == figures["transactions"] > 500, figures
        assert all(not phase["failed"] for phase in figures["phases"]), figures["phases"]
        api = network.nodes[2].api_url
        parcels = httpx.get(f"{api}/v1/events", params={"module": "land", "type": "frozen"}).json()["events"]
        assert len(parcels) == 1
        history = httpx.get(f"{api}/v1/history/land/{parcels[0]['key']}").json()["entries"]
        assert [e["type"] for e in history][:2] == ["registered", "title_issued"] and history[-1]["type"] == "frozen"
        programme = httpx.get(f"{api}/v1/funds/programmes/p2026-000").json()["summary"]
        assert programme["payments"] > 0 and programme["spent_fen"] <= programme["committed_fen"] <= programme["budget_fen"]
        counts = {(module, kind): len(_events(api, module, kind)) for module, kind in NEW_RECORDS}
        assert all(counts.values()), counts
        assert counts[("identity", "issuer_registered")] == len(ISSUERS) and counts[("land", "merged")] % 2 == 0
        subdivided = _events(api, "land", "subdivided")[0]["key"]
        history = httpx.get(f"{api}/v1/history/land/{subdivided}").json()["entries"]
        assert history[-1]["type"] == "subdivided"
        assert seed_demo(network, scale=0.05, report=print)["transactions"] == 0   # already seeded: nothing sent


# Records the data set makes of every kind the modules have: one event type each.
NEW_RECORDS = [("land", "subdivided"), ("land", "merged"), ("land", "encumbrance_released"),
               ("identity", "issuer_registered"), ("identity", "schema_registered"), ("identity", "revoked"),
               ("identity", "key_rotated")]


def _events(api: str, module: str, kind: str) -> list[dict]:
    return httpx.get(f"{api}/v1/events", params={"module": module, "type": kind}).json()["events"]


def test_a_network_without_the_ten_departments_is_refused_up_front(tmp_path):
    with running_network(tmp_path / "net", validators=1) as (network, _):   # one organisation: land-bureau
        with pytest.raises(DemoError) as refused:
            seed_demo(network, scale=0.05, report=print)
        assert refused.value.code == "demo.missing_departments"
        assert "court" in refused.value.got and "tax-bureau" in refused.value.got
        assert "civichain init --organisations 10" in refused.value.expected
        run = subprocess.run([sys.executable, "-m", "civichain", "demo", "seed", str(network.root)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and "demo.missing_departments" in run.stderr, run.stderr
        assert "civichain init --organisations 10" in run.stderr
