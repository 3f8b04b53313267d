"""Published RFC 6962 / RFC 9162 vectors from transparency-dev/merkle agree bit for bit.

The vectors and their source are in tests/vectors/transparency-dev-merkle/ (see its README.md).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from civichain.log import SHA256_TREE, MerkleLog, ProofError, verify_consistency, verify_inclusion

VECTORS = Path(__file__).parents[1] / "vectors" / "transparency-dev-merkle"
TREE = json.loads((VECTORS / "rfc6962_tree.json").read_text())
INCLUSION = json.loads((VECTORS / "inclusion.json").read_text())
CONSISTENCY = json.loads((VECTORS / "consistency.json").read_text())
RFC6962_LOG = MerkleLog.from_leaves(bytes.fromhex(x) for x in TREE["leaf_inputs_hex"])

# Upstream accepts equal sizes with two equal 15-byte "roots"; we refuse any hash that is not one digest long.
STRICTER_HERE = {"testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": "log.bad_hash_length"}


def b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_hasher_matches_published_leaf_node_and_empty_root_hashes():
    for case in TREE["hasher"]:
        if case["what"] == "empty_root":
            got = SHA256_TREE.empty_root()
        elif case["what"] == "leaf":
            got = SHA256_TREE.leaf(case["data_ascii"].encode())
        else:
            got = SHA256_TREE.node(case["left_ascii"].encode(), case["right_ascii"].encode())
        assert got.hex() == case["want_hex"], case


def test_roots_of_the_rfc6962_test_inputs_match_at_every_size():
    assert len(TREE["roots_hex_by_size"]) == 9
    for size, want in enumerate(TREE["roots_hex_by_size"]):
        assert RFC6962_LOG.root(size).hex() == want
    assert RFC6962_LOG.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_perfect_nodes_of_the_rfc6962_test_inputs_match():
    for level, row in enumerate(TREE["perfect_nodes_hex_by_level"]):
        for index, want in enumerate(row):
            assert RFC6962_LOG.perfect(level, index).hex() == want


def probe_id(probe: dict) -> str:
    return probe["file"].removeprefix("testdata/")


@pytest.mark.parametrize("probe", INCLUSION, ids=probe_id)
def test_inclusion_probe(probe):
    args = (b64(probe["leafHash"]), probe["leafIdx"], probe["treeSize"], [b64(p) for p in probe["proof"] or []])
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, b64(probe["root"]))
        return
    verify_inclusion(*args, b64(probe["root"]))
    leaf_hash, index, size, proof = args
    if size <= RFC6962_LOG.size and RFC6962_LOG.perfect(0, index) == leaf_hash:
        assert RFC6962_LOG.inclusion_proof(index, size) == proof


@pytest.mark.parametrize("probe", CONSISTENCY, ids=probe_id)
def test_consistency_probe(probe):
    old_size, new_size = probe["size1"], probe["size2"]
    args = (old_size, new_size, [b64(p) for p in probe["proof"] or []], b64(probe["root1"]), b64(probe["root2"]))
    if probe["file"] in STRICTER_HERE:
        with pytest.raises(ProofError, match=f"^{STRICTER_HERE[probe['file']]}:"):
            verify_consistency(*args)
        return
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
        return
    verify_consistency(*args)
    if new_size <= RFC6962_LOG.size and RFC6962_LOG.root(new_size) == args[4]:
        assert RFC6962_LOG.consistency_proof(old_size, new_size) == args[2]


def test_upstream_happy_paths_are_over_the_rfc6962_test_inputs_so_proofs_are_compared_bit_exact():
    happy = [p for p in INCLUSION + CONSISTENCY if not p["wantErr"] and p["file"] not in STRICTER_HERE]
    off_tree = [
        p["file"]
        for p in happy
        if RFC6962_LOG.root(p.get("treeSize", p.get("size2"))) != b64(p.get("root", p.get("root2")))
    ]
    assert len(happy) == 11
    # The one exception is a single-entry log of another leaf, whose proof is empty anyway.
    assert off_tree == ["testdata/inclusion/single-entry/matching-root-and-leaf.json"]
