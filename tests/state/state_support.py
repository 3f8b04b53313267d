"""What the state tests share: a naive reference root, a walk over stored trees, keys that share long prefixes,
and a small chain that applies, saves and remembers each version's root."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from hypothesis import strategies as st

from civichain.crypto import sha256
from civichain.state import EMPTY_HASH, MemoryNodeStore, TreeUpdate, apply
from civichain.state.nodes import decode_leaf, node_key


def reference_root(contents: Mapping[bytes, bytes]) -> bytes:
    """Compute the state root from the definition alone: split by path bit until one key or none is left."""
    leaves = sorted((sha256(key), sha256(value)) for key, value in contents.items())
    return _reference_subtree(leaves, 0)


def _reference_subtree(leaves: list[tuple[bytes, bytes]], depth: int) -> bytes:
    if not leaves:
        return EMPTY_HASH
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0][0] + leaves[0][1])
    left = [leaf for leaf in leaves if not path_bit(leaf[0], depth)]
    right = [leaf for leaf in leaves if path_bit(leaf[0], depth)]
    return sha256(b"\x01" + _reference_subtree(left, depth + 1) + _reference_subtree(right, depth + 1))


def path_bit(key_hash: bytes, depth: int) -> int:
    return key_hash[depth // 8] >> (7 - depth % 8) & 1


@dataclass(frozen=True)
class StoredNode:
    key: bytes
    node: bytes
    depth: int
    prefix: int


def walk(store: MemoryNodeStore, root_key: bytes | None) -> Iterator[StoredNode]:
    """Yield every node reachable from `root_key`, parents before children."""
    if root_key is None:
        return
    pending = [(root_key, 0, 0)]
    while pending:
        key, depth, prefix = pending.pop()
        node = store.node(key)
        yield StoredNode(key, node, depth, prefix)
        if node[0] == 1:
            for bit, kind, version in ((0, node[1] >> 4, node[2:10]), (1, node[1] & 15, node[42:50])):
                if kind:
                    child_prefix = prefix << 1 | bit
                    pending.append((node_key(version, depth + 1, child_prefix), depth + 1, child_prefix))


def contents(store: MemoryNodeStore, root_key: bytes | None) -> dict[bytes, bytes]:
    """Return every (key, value) in the tree, found by walking it."""
    return dict(decode_leaf(n.node) for n in walk(store, root_key) if n.node[0] == 0)


def shape(store: MemoryNodeStore, root_key: bytes | None) -> set[tuple[int, int, bytes]]:
    """Return the tree with the versions left out: (depth, prefix, node without child versions) per node."""
    return {(n.depth, n.prefix, n.node[:2] + n.node[10:42] + n.node[50:] if n.node[0] == 1 else n.node)
            for n in walk(store, root_key)}


def flip_bit(data: bytes, bit: int) -> bytes:
    """Return `data` with bit number `bit` (0 is the most significant bit of byte 0) inverted."""
    flipped = bytearray(data)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(flipped)


def _keys_sharing_prefixes() -> list[bytes]:
    """Find keys whose paths share 12 and 16 leading bits, so tests reach deep single-child chains and collapses."""
    by_12_bits: dict[bytes, list[bytes]] = {}
    by_16_bits: dict[bytes, list[bytes]] = {}
    for i in range(1 << 14):
        key = b"c%d" % i
        key_hash = sha256(key)
        by_12_bits.setdefault(bytes((key_hash[0], key_hash[1] & 0xF0)), []).append(key)
        by_16_bits.setdefault(key_hash[:2], []).append(key)
    group = max(by_12_bits.values(), key=lambda keys: (len(keys), keys))[:4]
    pair = min((keys for keys in by_16_bits.values() if len(keys) >= 2), key=lambda keys: keys)[:2]
    return group + pair


CLUSTERED_KEYS = _keys_sharing_prefixes()
KEY_POOL = [b"", b"a", b"b", b"land/1", b"land/2", b"funds/1", b"\x00" * 40, b"k" * 1024, *CLUSTERED_KEYS]

keys = st.sampled_from(KEY_POOL)
values = st.binary(max_size=12)
batches = st.dictionaries(keys, st.one_of(st.none(), values), max_size=8)
histories = st.lists(batches, min_size=1, max_size=8)


@dataclass
class Chain:
    """Versions 1, 2, … applied one after another to one store, with the model dict of each version."""

    store: MemoryNodeStore = field(default_factory=MemoryNodeStore)
    roots: dict[int, tuple[bytes | None, bytes]] = field(default_factory=dict)  # version -> (root key, root hash)
    models: dict[int, dict[bytes, bytes]] = field(default_factory=dict)
    updates: dict[int, TreeUpdate] = field(default_factory=dict)

    @property
    def latest(self) -> int:
        return max(self.roots, default=0)

    def commit(self, changes: Mapping[bytes, bytes | None]) -> TreeUpdate:
        """Apply `changes` as the next version, save it, and record its root and model."""
        version = self.latest + 1
        root_key = self.roots[self.latest][0] if self.roots else None
        update = apply(self.store, root_key, version, changes)
        self.store.save(update)
        model = dict(self.models.get(self.latest, {}))
        for key, value in changes.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
        self.roots[version] = (update.root_key, update.root_hash)
        self.models[version], self.updates[version] = model, update
        return update


def built_from_scratch(model: Mapping[bytes, bytes]) -> Chain:
    """Return a chain whose one version holds `model`, written in one batch."""
    chain = Chain()
    chain.commit(dict(model))
    return chain
