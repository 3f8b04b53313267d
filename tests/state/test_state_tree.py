"""The state tree against a plain dict: reads, roots, shape, stale nodes and bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civichain.crypto import sha256
from civichain.state import EMPTY_HASH, MemoryNodeStore, StateError, apply, decode_node_key, read
from civichain.state.nodes import encode_internal, encode_leaf, internal_hash, leaf_hash, node_key
from .state_support import (
    CLUSTERED_KEYS,
    KEY_POOL,
    Chain,
    built_from_scratch,
    contents,
    histories,
    reference_root,
    shape,
    walk,
)


@settings(max_examples=300)
@given(history=histories)
def test_reads_match_a_dict_at_every_version(history):
    chain = Chain()
    for changes in history:
        chain.commit(changes)
    for version, (root_key, root_hash) in chain.roots.items():
        model = chain.models[version]
        assert [read(chain.store, root_key, key) for key in KEY_POOL] == [model.get(key) for key in KEY_POOL]
        assert contents(chain.store, root_key) == model
        assert root_hash == reference_root(model)


@settings(max_examples=300)
@given(history=histories)
def test_tree_reached_through_history_equals_tree_built_from_scratch(history):
    chain = Chain()
    for changes in history:
        chain.commit(changes)
        root_key, root_hash = chain.roots[chain.latest]
        scratch = built_from_scratch(chain.models[chain.latest])
        scratch_root_key, scratch_root_hash = scratch.roots[1]
        assert root_hash == scratch_root_hash
        assert shape(chain.store, root_key) == shape(scratch.store, scratch_root_key)


@given(model=st.dictionaries(st.sampled_from(KEY_POOL), st.binary(max_size=8)), data=st.data())
def test_equal_contents_give_equal_roots_whatever_the_order_and_batching(model, data):
    items = data.draw(st.permutations(sorted(model.items())))
    detour = data.draw(st.dictionaries(st.sampled_from(KEY_POOL), st.binary(max_size=8), max_size=4))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(items)), max_size=4)))
    chain = Chain()
    chain.commit(detour)  # keys written and later removed or overwritten must leave no trace
    chain.commit({key: None for key in detour})
    for start, end in zip([0, *cuts], [*cuts, len(items)]):
        chain.commit(dict(items[start:end]))
    assert chain.roots[chain.latest][1] == built_from_scratch(model).roots[1][1] == reference_root(model)


@given(history=histories)
def test_stale_nodes_are_exactly_the_nodes_the_new_version_drops(history):
    chain = Chain()
    for changes in history:
        before = {n.key for n in walk(chain.store, chain.roots[chain.latest][0])} if chain.roots else set()
        update = chain.commit(changes)
        after = {n.key for n in walk(chain.store, update.root_key)}
        assert sorted(update.stale) == sorted(before - after)
        assert sorted(key for key, _ in update.new_nodes) == sorted(after - before)


def test_deleting_a_key_lifts_its_neighbour_back_to_a_shortcut():
    first, second = CLUSTERED_KEYS[4:6]  # their paths share 16 bits
    chain = Chain()
    chain.commit({first: b"1", second: b"2"})
    depths = sorted(n.depth for n in walk(chain.store, chain.roots[1][0]))
    assert depths[-1] >= 17  # a chain of single-child internal nodes down to where the paths part
    update = chain.commit({second: None})
    assert [(n.depth, n.node) for n in walk(chain.store, update.root_key)] == [(0, encode_leaf(first, b"1"))]
    assert update.root_hash == leaf_hash(sha256(first), sha256(b"1"))


def test_unchanged_values_and_deletes_of_absent_keys_write_nothing():
    chain = Chain()
    chain.commit({b"a": b"1", b"b": b"2", CLUSTERED_KEYS[0]: b"3"})
    update = chain.commit({b"a": b"1", b"absent": None, CLUSTERED_KEYS[1]: None})
    assert (update.new_nodes, update.stale) == ([], [])
    assert (update.root_key, update.root_hash) == chain.roots[1]


def test_empty_batch_keeps_the_root_and_empty_tree_has_the_placeholder_root():
    chain = Chain()
    assert chain.commit({}).root_key is None
    assert chain.roots[1] == (None, EMPTY_HASH)
    chain.commit({b"a": b"1"})
    assert chain.commit({}).root_key == chain.roots[2][0]
    assert chain.commit({b"a": None}).root_hash == EMPTY_HASH
    assert read(chain.store, None, b"a") is None


def test_apply_reads_the_store_and_writes_nothing():
    chain = Chain()
    chain.commit({key: b"v" for key in KEY_POOL})
    stored = dict(chain.store.nodes)
    apply(chain.store, chain.roots[1][0], 2, {b"a": None, b"new": b"x"})
    assert chain.store.nodes == stored


@pytest.mark.parametrize(("changes", "code"), [
    ({"text": b"v"}, "state.bad_key_type"),
    ({memoryview(b"k"): b"v"}, "state.bad_key_type"),
    ({b"k" * 1025: b"v"}, "state.key_too_long"),
    ({b"k": "text"}, "state.bad_value_type"),
    ({b"k": b"v" * 65537}, "state.value_too_long"),
])
def test_bad_keys_and_values_are_refused_with_their_codes(changes, code):
    with pytest.raises(StateError) as caught:
        apply(MemoryNodeStore(), None, 1, changes)
    assert caught.value.code == code


def test_longest_key_and_value_are_accepted():
    chain = Chain()
    chain.commit({b"k" * 1024: b"v" * 65536})
    assert read(chain.store, chain.roots[1][0], b"k" * 1024) == b"v" * 65536


@pytest.mark.parametrize(("new_version", "code"), [
    (1, "state.version_not_increasing"),
    (0, "state.version_not_increasing"),
    (-1, "state.bad_version"),
    (2**64, "state.bad_version"),
    (True, "state.bad_version"),
])
def test_versions_must_increase_past_the_base_root(new_version, code):
    chain = Chain()
    chain.commit({b"a": b"1"})
    with pytest.raises(StateError) as caught:
        apply(chain.store, chain.roots[1][0], new_version, {b"b": b"2"})
    assert caught.value.code == code


@pytest.mark.parametrize("root_key", [b"", b"\x00" * 9, b"\x00" * 8 + b"\x00\x01\x80", b"\x00" * 8 + b"\x01\x01"])
def test_malformed_root_keys_are_refused(root_key):
    with pytest.raises(StateError) as caught:
        read(MemoryNodeStore(), root_key, b"a")
    assert caught.value.code in {"state.bad_node_key", "state.bad_root_key"}


def test_missing_node_is_reported_as_node_missing():
    chain = Chain()
    chain.commit({key: b"v" for key in KEY_POOL})
    root_key = chain.roots[1][0]
    leaf_key = next(n.key for n in walk(chain.store, root_key) if n.node[0] == 0)
    del chain.store.nodes[leaf_key]
    with pytest.raises(StateError) as caught:
        apply(chain.store, root_key, 2, dict.fromkeys(KEY_POOL))
    assert caught.value.code == "state.node_missing"


@given(version=st.integers(0, 2**64 - 1), depth=st.integers(0, 256), data=st.data())
def test_node_keys_decode_to_version_depth_and_prefix(version, depth, data):
    prefix = data.draw(st.integers(0, 2**depth - 1))
    key = node_key(version.to_bytes(8, "big"), depth, prefix)
    assert len(key) == 10 + (depth + 7) // 8
    assert decode_node_key(key) == (version, depth, prefix)


def test_node_and_hash_layouts_are_the_documented_bytes():
    assert node_key(b"\x00" * 7 + b"\x05", 3, 0b101) == bytes.fromhex("0000000000000005" "0003" "a0")
    assert encode_leaf(b"ab", b"xyz") == b"\x00\x00\x02abxyz"
    left, right = sha256(b"l"), sha256(b"r")
    node = encode_internal(1, b"\x00" * 7 + b"\x01", left, 2, b"\x00" * 7 + b"\x02", right)
    assert node == b"\x01\x12" + b"\x00" * 7 + b"\x01" + left + b"\x00" * 7 + b"\x02" + right
    assert internal_hash(left, right) == sha256(b"\x01" + left + right)
    assert leaf_hash(left, right) == sha256(b"\x00" + left + right)



@given(st.dictionaries(st.binary(min_size=1, max_size=12), st.binary(max_size=12), max_size=60))
def test_entries_yield_exactly_the_contents(contents):
    from civichain.state import MemoryNodeStore, apply, entries
    store = MemoryNodeStore()
    update = apply(store, None, 1, contents)
    store.save(update)
    assert dict(entries(store, update.root_key)) == contents
