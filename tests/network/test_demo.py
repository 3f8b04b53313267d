"""`civichain demo seed` on a real 4-validator network of ten departments: every phase's transactions
commit, and the records are there with their histories (a small scale of the full data set)."""

from __future__ import annotations

import httpx
import pytest

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
        assert seed_demo(network, scale=0.05, report=print)["transactions"] == 0   # already seeded: nothing sent
