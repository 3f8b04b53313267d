"""The walk behind `apply`: larger batches against the reference, the first bad key or value named, and damaged
stores refused with `state.node_missing` or `state.malformed_node` wherever the walk meets the damage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civichain.crypto import sha256
from civichain.state import MemoryNodeStore, StateError, apply, decode_node_key, read
from civichain.state.nodes import PATH_BITS, encode_internal, encode_leaf, node_key
from .state_support import KEY_POOL, Chain, contents, reference_root, walk

V1 = (1).to_bytes(8, "big")

wide_batches = st.dictionaries(st.binary(min_size=1, max_size=3), st.one_of(st.none(), st.binary(max_size=6)),
                               max_size=80)


@settings(max_examples=150)
@given(history=st.lists(wide_batches, min_size=1, max_size=4))
def test_wide_batches_match_the_reference_and_stale_exactly_the_dropped_nodes(history):
    chain = Chain()
    for changes in history:
        before = {n.key for n in walk(chain.store, chain.roots[chain.latest][0])} if chain.roots else set()
        update = chain.commit(changes)
        after = {n.key for n in walk(chain.store, update.root_key)}
        assert update.root_hash == reference_root(chain.models[chain.latest])
        assert contents(chain.store, update.root_key) == chain.models[chain.latest]
        assert sorted(update.stale) == sorted(before - after)
        assert sorted(key for key, _ in update.new_nodes) == sorted(after - before)


class OtherBytes(bytes):
    """Bytes by inheritance only: keys and values must be exactly bytes, so that each has one byte form."""


@pytest.mark.parametrize(("changes", "code"), [
    ({b"k": "text", "text": b"v"}, "state.bad_value_type"),
    ({"text": b"v", b"k": "text"}, "state.bad_key_type"),
    ({b"k" * 1025: "text"}, "state.key_too_long"),
    ({b"a": b"1", b"b": b"v" * 65537, OtherBytes(b"c"): b"3"}, "state.value_too_long"),
    ({b"a": b"1", OtherBytes(b"c"): b"3"}, "state.bad_key_type"),
    ({b"a": OtherBytes(b"3")}, "state.bad_value_type"),
])
def test_the_first_bad_key_or_value_in_the_batch_is_the_one_named(changes, code):
    with pytest.raises(StateError) as caught:
        apply(MemoryNodeStore(), None, 1, changes)
    assert caught.value.code == code


def _internal_nodes_below_the_root(chain: Chain) -> list[bytes]:
    root_key = chain.roots[chain.latest][0]
    return [n.key for n in walk(chain.store, root_key) if n.node[0] == 1 and n.key != root_key]


@pytest.mark.parametrize("damage", ["deleted", "truncated", "leaf tag", "kinds 3"])
@pytest.mark.parametrize("batch", ["every key", "one key at a time"])
def test_damaged_internal_nodes_are_refused_wherever_the_walk_reads_them(damage, batch):
    chain = Chain()
    chain.commit({key: b"v" for key in KEY_POOL})
    root_key = chain.roots[1][0]
    for key in _internal_nodes_below_the_root(chain):
        store = MemoryNodeStore()
        store.nodes = dict(chain.store.nodes)
        node = store.nodes[key]
        if damage == "deleted":
            del store.nodes[key]
        else:
            store.nodes[key] = {"truncated": node[:-1], "leaf tag": b"\x00" + node[1:],
                                "kinds 3": node[:1] + bytes((node[1] | 3,)) + node[2:]}[damage]
        below = [k for k in KEY_POOL if _passes(k, key)]
        attempts = [dict.fromkeys(KEY_POOL, b"w")] if batch == "every key" else [{k: b"w"} for k in below]
        for changes in attempts:
            with pytest.raises(StateError) as caught:
                apply(store, root_key, 2, changes)
            assert caught.value.code == ("state.node_missing" if damage == "deleted" else "state.malformed_node")


def _passes(key: bytes, stored_under: bytes) -> bool:
    """Whether the path of `key` passes the node stored under node key `stored_under`."""
    _, depth, prefix = decode_node_key(stored_under)
    return int.from_bytes(sha256(key), "big") >> (PATH_BITS - depth) == prefix


def test_an_internal_node_at_depth_256_is_malformed():
    # A forged store: one-child internal nodes all the way down the path of b"a", and one more at depth 256.
    path = int.from_bytes(sha256(b"a"), "big")
    store = MemoryNodeStore()
    for depth in range(PATH_BITS + 1):
        if depth < PATH_BITS and path >> (PATH_BITS - 1 - depth) & 1:
            node = encode_internal(0, bytes(8), bytes(32), 2, V1, bytes(32))
        else:
            node = encode_internal(2, V1, bytes(32), 0, bytes(8), bytes(32))
        store.nodes[node_key(V1, depth, path >> (PATH_BITS - depth))] = node
    root_key = node_key(V1, 0, 0)
    for changes in ({b"a": b"1"}, {b"a": b"1", b"b": b"2"}):
        with pytest.raises(StateError) as caught:
            apply(store, root_key, 2, changes)
        assert caught.value.code == "state.malformed_node"
    with pytest.raises(StateError) as caught:
        read(store, root_key, b"a")
    assert caught.value.code == "state.malformed_node"


def _keys_by_first_bit() -> tuple[list[bytes], list[bytes]]:
    zeros, ones = [], []
    for i in range(64):
        key = b"f%d" % i
        (ones if sha256(key)[0] & 0x80 else zeros).append(key)
    return zeros, ones


@pytest.mark.parametrize("new_keys", [1, 2])
def test_a_leaf_filed_under_another_keys_prefix_is_malformed(new_keys):
    zeros, ones = _keys_by_first_bit()
    chain = Chain()
    chain.commit({zeros[0]: b"0", ones[0]: b"1"})  # two leaves, at prefixes 0 and 1
    root_key = chain.roots[1][0]
    leaf_key = node_key(V1, 1, 0)
    assert chain.store.nodes[leaf_key] == encode_leaf(zeros[0], b"0")
    chain.store.nodes[leaf_key] = encode_leaf(ones[1], b"x")  # a key whose path starts with 1, under prefix 0
    with pytest.raises(StateError) as caught:
        apply(chain.store, root_key, 2, dict.fromkeys(zeros[1:1 + new_keys], b"new"))
    assert caught.value.code == "state.malformed_node"
