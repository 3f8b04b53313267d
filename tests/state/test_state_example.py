"""The worked example of docs/state.md, number for number."""

from __future__ import annotations

from civichain.state import decode_node_key, decode_state_proof, encode_state_proof, prove, verify_state_proof
from .state_support import Chain

VERSION_1 = {
    b"parcel/1": b"owner=alice",
    b"parcel/2": b"owner=bob",
    b"parcel/3": b"owner=carol",
    b"parcel/4": b"owner=dan",
}
ROOT_1 = "e744ea2699009e9c88f59e0e87f71e16541fc0af41b74f59140a33b67c0b90de"
ROOT_2 = "a03682b87c923fb6ec98ac65cd98aca0c292170d144f1c50b96bfcb185ac5a34"
PROOF_OF_PARCEL_3 = bytes.fromhex(
    "9401c4010091c420d14c2bda0fd83f3800a0642ea24c060dd7be6e1c056ff00fa5021a9c33c27bfd"
    "92c420f939b0326de6f1700a2f09dd9034e2b690906d194631f33caaa12fb78ed1d33d"
    "c420729d2c277787368275639383a8702179acbba3d0a5fbc102c6afd917a12c4aed"
)


def test_worked_example_roots_nodes_and_proof_match_the_docs():
    chain = Chain()
    first = chain.commit(VERSION_1)
    assert first.root_hash.hex() == ROOT_1
    nodes = dict(first.new_nodes)
    assert sorted(node_names(nodes)) == [(1, ""), (1, "0"), (1, "01"), (1, "010"), (1, "011"), (1, "1"), (1, "10"),
                                         (1, "11")]
    kinds = {name: nodes[key][:2].hex() for name, key in zip(node_names(nodes), nodes) if nodes[key][0] == 1}
    assert kinds == {(1, ""): "0122", (1, "0"): "0102", (1, "01"): "0111", (1, "1"): "0111"}
    assert nodes[bytes.fromhex("0000000000000001000360")] == b"\x00\x00\x08parcel/1owner=alice"

    second = chain.commit({b"parcel/2": None, b"parcel/3": b"owner=erin"})
    assert second.root_hash.hex() == ROOT_2
    assert node_names(second.stale) == [(1, "10"), (1, "11"), (1, "1"), (1, "")]
    assert node_names(key for key, _ in second.new_nodes) == [(2, "1"), (2, "")]

    assert encode_state_proof(prove(chain.store, second.root_key, b"parcel/2")) == PROOF_OF_PARCEL_3
    assert encode_state_proof(prove(chain.store, second.root_key, b"parcel/3")) == PROOF_OF_PARCEL_3
    verify_state_proof(second.root_hash, b"parcel/2", None, decode_state_proof(PROOF_OF_PARCEL_3))
    verify_state_proof(second.root_hash, b"parcel/3", b"owner=erin", decode_state_proof(PROOF_OF_PARCEL_3))


def node_names(keys) -> list[tuple[int, str]]:
    """Write node keys as the example does: (version, prefix bits)."""
    names = []
    for version, depth, prefix in map(decode_node_key, keys):
        names.append((version, format(prefix, f"0{depth}b") if depth else ""))
    return names
