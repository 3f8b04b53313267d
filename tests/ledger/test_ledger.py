"""The ledger over SQLite: crash safety between FinalizeBlock and Commit, determinism, receipts, refusals."""

from __future__ import annotations

import hashlib

import pytest

from civichain.codec import decode
from civichain.ledger import Ledger, LedgerError
from civichain.log import verify_inclusion
from civichain.modules.notary import Anchor, Notarization, Revoke, document_key
from civichain.modules.registry import AddAccount
from civichain.state import verify_state_proof
from civichain.ledger.reads import LedgerReader
from civichain.store import Store, StoreError
from tests.conftest import CHAIN, make_signer, open_ledger, run_block


def test_finalize_without_commit_leaves_the_store_as_it_was(tmp_path, chain):
    ledger = open_ledger(tmp_path)
    ledger.init_chain(CHAIN, chain.genesis_bytes())
    run_block(ledger, [chain.anchor(chain.admin, 0)])
    committed = ledger.info()
    first = ledger.finalize_block(2, 2 * 10**9, b"\x02" * 32, [chain.anchor(chain.admin, 1)])
    # the process dies here: no Commit
    reopened = open_ledger(tmp_path)
    assert reopened.info() == committed
    again = reopened.finalize_block(2, 2 * 10**9, b"\x02" * 32, [chain.anchor(chain.admin, 1)])
    assert again.app_hash == first.app_hash


def test_crash_before_the_first_commit_runs_init_chain_again(tmp_path, chain):
    ledger = open_ledger(tmp_path)
    genesis_hash = ledger.init_chain(CHAIN, chain.genesis_bytes())
    ledger.finalize_block(1, 10**9, b"\x01" * 32, [chain.anchor(chain.admin, 0)])
    reopened = open_ledger(tmp_path)
    assert reopened.info() == (0, b"")
    assert reopened.init_chain(CHAIN, chain.genesis_bytes()) == genesis_hash


def test_two_nodes_fed_the_same_blocks_agree_on_every_app_hash(tmp_path, chain):
    a, b = open_ledger(tmp_path / "a"), open_ledger(tmp_path / "b")
    assert a.init_chain(CHAIN, chain.genesis_bytes()) == b.init_chain(CHAIN, chain.genesis_bytes())
    for height in range(1, 6):
        txs = [chain.anchor(chain.admin, (height - 1) * 3 + i) for i in range(3)]
        assert run_block(a, txs).app_hash == run_block(b, txs).app_hash
    reopened = open_ledger(tmp_path / "a")
    assert reopened.info() == b.info()


def test_failed_action_consumes_the_nonce_and_changes_nothing_else(ledger, chain):
    digest = hashlib.sha256(b"deed").digest()
    anchor = chain.tx(chain.admin, 0, "notary", "anchor", Anchor(digest=digest, title="Deed"))
    twice = chain.tx(chain.admin, 1, "notary", "anchor", Anchor(digest=digest, title="Deed again"))
    outcome = run_block(ledger, [anchor, twice])
    assert [r.code for r in outcome.receipts] == ["ok", "notary.already_anchored"]
    assert outcome.receipts[1].log_index == 1
    record = decode(ledger.committed.get(document_key(digest)), Notarization)
    assert record.title == "Deed"
    assert ledger.check_tx(chain.anchor(chain.admin, 2), recheck=False).code == "ok"


def test_transaction_invalid_at_execution_is_refused_and_not_logged(ledger, chain):
    first = chain.anchor(chain.admin, 0)
    replay = first  # the same bytes again in one block: the nonce is used by then
    outcome = run_block(ledger, [first, replay, chain.anchor(chain.admin, 7)])
    assert [r.code for r in outcome.receipts] == ["ok", "tx.stale_nonce", "tx.nonce_gap"]
    assert [r.log_index for r in outcome.receipts] == [0, None, None]
    assert ledger.frontier.size == 1


def test_clerk_without_notary_role_cannot_anchor(ledger, chain):
    outcome = run_block(ledger, [chain.anchor(chain.clerk, 0)])
    assert outcome.receipts[0].code == "notary.not_permitted"


def test_registry_admin_adds_an_account_that_can_then_transact(ledger, chain):
    newcomer = make_signer("land-bureau/surveyor")
    add = chain.tx(chain.admin, 0, "registry", "add_account",
                   AddAccount(id=newcomer.account, public_key=newcomer.public_key, roles=("notary",)))
    assert run_block(ledger, [add]).receipts[0].ok
    assert run_block(ledger, [chain.anchor(newcomer, 0)]).receipts[0].ok
    other_org = chain.tx(chain.finance, 0, "registry", "add_account",
                         AddAccount(id="land-bureau/intruder", public_key=bytes(32)))
    assert run_block(ledger, [other_org]).receipts[0].code == "registry.bad_account_id"


def test_revoke_by_another_organisation_is_refused(ledger, chain):
    digest = hashlib.sha256(b"licence").digest()
    run_block(ledger, [chain.tx(chain.admin, 0, "notary", "anchor", Anchor(digest=digest, title="Licence"))])
    outcome = run_block(ledger, [chain.tx(chain.tax, 0, "notary", "revoke", Revoke(digest=digest, reason="no"))])
    assert outcome.receipts[0].code == "notary.not_permitted"
    outcome = run_block(ledger, [chain.tx(chain.admin, 1, "notary", "revoke", Revoke(digest=digest, reason="void"))])
    assert outcome.receipts[0].ok


def test_committed_transactions_and_state_come_with_proofs_that_verify(ledger, chain):
    txs = [chain.anchor(chain.admin, i) for i in range(5)]
    run_block(ledger, txs)
    run_block(ledger, [chain.anchor(chain.admin, 5)])
    reader = LedgerReader(ledger.store)
    latest = reader.latest()
    for raw in txs:
        view = reader.tx(ledger.suite.hash(raw))
        proof = reader.inclusion(view.log_index, latest.log_size)
        verify_inclusion(ledger.hasher.leaf(raw), view.log_index, latest.log_size, proof, latest.log_root)
    key = b"auth/nonce/" + chain.admin.account.encode()
    height, value, proof, root = reader.state_value(key)
    verify_state_proof(root, key, value, proof)
    height, value, proof, root = reader.state_value(key, height=1)
    assert height == 1
    verify_state_proof(root, key, value, proof)
    _, absent, proof, root = reader.state_value(b"notary/doc/none")
    assert absent is None
    verify_state_proof(root, b"notary/doc/none", None, proof)


def test_old_state_versions_are_pruned_beyond_the_window(tmp_path, chain):
    ledger = Ledger(Store(tmp_path / "db"), keep_versions=5)
    ledger.init_chain(CHAIN, chain.genesis_bytes())
    for nonce in range(60):
        run_block(ledger, [chain.anchor(chain.admin, nonce)])
    versions = ledger.store.state_versions()
    assert min(versions) >= 60 - 5 + 1 - 50    # pruned at least once (every 50 blocks)
    assert 1 not in versions and 60 in versions
    reader = LedgerReader(ledger.store)
    key = b"auth/nonce/" + chain.admin.account.encode()
    for height in range(56, 61):
        _, value, proof, root = reader.state_value(key, height=height)
        verify_state_proof(root, key, value, proof)


def test_a_corrupt_database_is_refused_with_a_clear_error(tmp_path, chain):
    ledger = open_ledger(tmp_path)
    ledger.init_chain(CHAIN, chain.genesis_bytes())
    run_block(ledger, [chain.anchor(chain.admin, 0)])
    ledger.store.close()
    path = tmp_path / "civichain.db"
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        open_ledger(tmp_path)
    assert info.value.code == "store.corrupt"


def test_a_truncated_database_is_refused_with_a_clear_error(tmp_path, chain):
    ledger = open_ledger(tmp_path)
    ledger.init_chain(CHAIN, chain.genesis_bytes())
    for nonce in range(30):
        run_block(ledger, [chain.anchor(chain.admin, nonce)])
    ledger.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.store.close()
    path = tmp_path / "civichain.db"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError) as info:
        open_ledger(tmp_path)
    assert info.value.code == "store.corrupt"


def test_a_reader_opened_before_the_first_commit_names_the_chain_in_its_checkpoints(tmp_path, chain):
    """An API asked before InitChain's Commit opens its reader on a store without genesis; it must not keep that."""
    ledger = open_ledger(tmp_path)
    reader = LedgerReader(Store(tmp_path / "civichain.db", readonly=True))
    assert reader.chain_id == ""
    ledger.init_chain(CHAIN, chain.genesis_bytes())
    run_block(ledger, [chain.anchor(chain.admin, 0)])
    checkpoint = reader.checkpoint(reader.latest())
    assert checkpoint.chain_id == CHAIN and reader.genesis is not None


def test_a_replay_ledger_keeps_only_the_latest_tree_in_memory_and_agrees_with_a_node(tmp_path, chain):
    """`verify` and `replay` re-execute with `latest_state_only`: same app hashes, no tree node in SQLite, and
    memory that follows the state's size (stale nodes dropped), not the chain's length."""
    (tmp_path / "node").mkdir()
    node = open_ledger(tmp_path / "node")
    replay = Ledger(Store(tmp_path / "replay.db", durable=False, lookups=False), latest_state_only=True)
    for ledger in (node, replay):
        ledger.init_chain(CHAIN, chain.genesis_bytes())
    nonce, sizes = 0, []
    for height in range(1, 31):
        txs = [chain.anchor(chain.admin, nonce + i, text=f"doc {height}/{i}") for i in range(3)]
        nonce += 3
        assert run_block(node, txs).app_hash == run_block(replay, txs).app_hash
        sizes.append(len(replay.nodes))
    written = replay.store._db.execute("SELECT count(*) FROM state_nodes").fetchone()[0]
    stored = node.store._db.execute("SELECT count(*) FROM state_nodes").fetchone()[0]
    assert written == 0 and sizes[-1] < stored / 2, (sizes[-1], stored)
    assert sizes == sorted(sizes)          # the state only grows here (new documents), and so does the tree


def test_a_replay_ledger_refuses_a_store_that_has_blocks(ledger, chain):
    run_block(ledger, [chain.anchor(chain.admin, 0)])
    with pytest.raises(LedgerError) as refused:
        Ledger(ledger.store, latest_state_only=True)
    assert refused.value.code == "ledger.not_empty"
