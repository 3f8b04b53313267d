"""`civichain replay`: a node's chain re-executed from genesis agrees with what the node stored, or the
first height and field that differ are named."""

from __future__ import annotations

import sqlite3

import pytest

from civichain.audit import AuditError
from civichain.audit.determinism import replay_store
from tests.conftest import run_block


def fill(ledger, chain, blocks: int = 4) -> None:
    nonce = 0
    for b in range(blocks):
        txs = []
        for i in range(3):
            txs.append(chain.anchor(chain.admin, nonce, f"doc {b}-{i}"))
            nonce += 1
        txs.append(chain.anchor(chain.clerk, 0, f"not a notary {b}"))   # fails: clerks may not anchor
        run_block(ledger, txs)


@pytest.mark.parametrize("workers", [0, 2])
def test_replay_of_an_honest_node_agrees_everywhere(ledger, chain, tmp_path, workers):
    fill(ledger, chain)
    report = replay_store(tmp_path / "civichain.db", workers=workers)
    assert (report.heights, report.transactions) == (4, 16)


@pytest.mark.parametrize("column", ["app_hash", "state_root", "receipts"])
def test_replay_names_the_first_height_and_field_that_differ(ledger, chain, tmp_path, column):
    fill(ledger, chain)
    ledger.store.close()
    with sqlite3.connect(tmp_path / "civichain.db") as db:
        (value,) = db.execute(f"SELECT {column} FROM blocks WHERE height = 3").fetchone()
        changed = bytes(value[:-1]) + bytes([value[-1] ^ 1])
        db.execute(f"UPDATE blocks SET {column} = ? WHERE height = 3", (changed,))
    with pytest.raises(AuditError) as caught:
        replay_store(tmp_path / "civichain.db", workers=0)
    assert caught.value.code == f"audit.{column}"
    assert caught.value.where == f"height 3 {column}"


def test_replay_of_an_empty_node_says_so(tmp_path):
    from civichain.store import Store
    Store(tmp_path / "empty.db").close()
    with pytest.raises(AuditError) as caught:
        replay_store(tmp_path / "empty.db")
    assert caught.value.code == "audit.nothing_to_replay"
