"""Pruning: retained versions stay whole, nothing unreachable stays behind, pruned versions fail clearly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civichain.state import (
    MemoryNodeStore,
    StateError,
    TreeUpdate,
    prove,
    prunable_nodes,
    read,
    verify_state_proof,
)
from .state_support import KEY_POOL, Chain, histories, walk


@given(history=histories, window=st.integers(1, 3))
def test_pruning_keeps_retained_versions_whole_and_nothing_else(history, window):
    chain = Chain()
    for changes in history:
        chain.commit(changes)
        oldest = max(1, chain.latest - window + 1)
        chain.store.prune(oldest)
        retained = range(oldest, chain.latest + 1)
        reachable = {n.key for version in retained for n in walk(chain.store, chain.roots[version][0])}
        assert set(chain.store.nodes) == reachable
        for version in retained:
            root_key, root_hash = chain.roots[version]
            for key in KEY_POOL:
                value = chain.models[version].get(key)
                assert read(chain.store, root_key, key) == value
                verify_state_proof(root_hash, key, value, prove(chain.store, root_key, key))


@given(history=histories)
def test_pruned_versions_fail_with_node_missing(history):
    chain = Chain()
    for changes in [{b"a": b"1"}, *history, {b"a": b"2"}]:
        chain.commit(changes)
    chain.store.prune(chain.latest)
    live_root_key = chain.roots[chain.latest][0]
    for version in range(1, chain.latest):
        root_key = chain.roots[version][0]
        if root_key in (None, live_root_key):
            continue  # an empty tree needs no node; a version that changed nothing shares the live root
        with pytest.raises(StateError) as caught:
            prove(chain.store, root_key, b"a")
        assert caught.value.code == "state.node_missing"
        with pytest.raises(StateError):
            read(chain.store, root_key, b"a")


def test_prunable_nodes_are_those_staled_by_the_oldest_retained_version_or_before():
    stale = [(2, b"n1"), (3, b"n2"), (3, b"n3"), (4, b"n4"), (7, b"n5")]
    assert prunable_nodes(stale, 1) == []
    assert prunable_nodes(stale, 3) == [b"n1", b"n2", b"n3"]
    assert prunable_nodes(stale, 7) == [b"n1", b"n2", b"n3", b"n4", b"n5"]


def test_memory_store_prune_drops_its_stale_records_and_counts_deletions():
    chain = Chain()
    chain.commit({b"a": b"1", b"b": b"1"})
    chain.commit({b"a": b"2"})
    stale_count = len(chain.updates[2].stale)
    assert chain.store.prune(1) == 0
    assert chain.store.prune(2) == stale_count > 0
    assert chain.store.stale == []


def test_memory_store_refuses_a_second_node_under_one_key():
    store = MemoryNodeStore()
    key = b"\x00" * 7 + b"\x01" + b"\x00\x00"
    store.save(TreeUpdate(1, b"\x01" * 32, key, [(key, b"\x00\x00\x01a1")], []))
    store.save(TreeUpdate(1, b"\x01" * 32, key, [(key, b"\x00\x00\x01a1")], []))  # the same node again is harmless
    with pytest.raises(StateError) as caught:
        store.save(TreeUpdate(1, b"\x02" * 32, key, [(key, b"\x00\x00\x01a2")], []))
    assert caught.value.code == "state.node_conflict"
