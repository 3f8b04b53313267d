"""State proofs: every honest proof verifies at every version, and every other proof fails with StateProofError."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civichain.state import (
    EMPTY_HASH,
    MAX_PROOF_SIZE,
    MemoryNodeStore,
    ProofLeaf,
    StateProof,
    StateProofError,
    decode_state_proof,
    encode_state_proof,
    prove,
    verify_absence,
    verify_presence,
    verify_state_proof,
)
from .state_support import KEY_POOL, Chain, flip_bit, histories

ABSENT_KEYS = [b"never written", b"c-absent"]


def proven_chain(history) -> Chain:
    chain = Chain()
    for changes in history:
        chain.commit(changes)
    return chain


@given(history=histories)
def test_every_presence_and_absence_proof_verifies_at_every_version(history):
    chain = proven_chain(history)
    for version, (root_key, root_hash) in chain.roots.items():
        for key in [*KEY_POOL, *ABSENT_KEYS]:
            proof = decode_state_proof(encode_state_proof(prove(chain.store, root_key, key)))
            verify_state_proof(root_hash, key, chain.models[version].get(key), proof)


@settings(max_examples=500)
@given(history=histories, data=st.data())
def test_any_tampered_proof_fails(history, data):
    chain = proven_chain(history)
    root_key, root_hash = chain.roots[chain.latest]
    key = data.draw(st.sampled_from(KEY_POOL))
    value = chain.models[chain.latest].get(key)
    proof = prove(chain.store, root_key, key)
    tampered = data.draw(tamperings(proof))
    with pytest.raises(StateProofError):
        verify_state_proof(root_hash, key, value, tampered)


@given(history=histories, data=st.data())
def test_proof_fails_for_a_wrong_root_value_or_key(history, data):
    chain = proven_chain(history)
    root_key, root_hash = chain.roots[chain.latest]
    model = chain.models[chain.latest]
    key = data.draw(st.sampled_from(KEY_POOL))
    proof = prove(chain.store, root_key, key)
    with pytest.raises(StateProofError):
        verify_state_proof(flip_bit(root_hash, data.draw(st.integers(0, 255))), key, model.get(key), proof)
    with pytest.raises(StateProofError):
        verify_presence(root_hash, key, model.get(key, b"") + b"!", proof)
    other = data.draw(st.sampled_from([k for k in KEY_POOL if k != key]))
    if model.get(key) is not None or model.get(other) is not None:  # one absence proof covers a whole empty subtree
        with pytest.raises(StateProofError):
            verify_state_proof(root_hash, other, model.get(key), proof)


@given(history=histories, data=st.data())
def test_presence_proof_is_no_absence_proof_and_back(history, data):
    chain = proven_chain(history)
    root_key, root_hash = chain.roots[chain.latest]
    model = chain.models[chain.latest]
    key = data.draw(st.sampled_from([*KEY_POOL, *ABSENT_KEYS]))
    proof = prove(chain.store, root_key, key)
    if key in model:
        with pytest.raises(StateProofError) as caught:
            verify_absence(root_hash, key, proof)
        assert caught.value.code == "state.key_present"
    else:
        with pytest.raises(StateProofError) as caught:
            verify_presence(root_hash, key, data.draw(st.binary(max_size=4)), proof)
        assert caught.value.code in {"state.key_absent", "state.key_mismatch"}


@given(history=histories, data=st.data())
def test_any_changed_proof_bytes_fail_to_decode_or_to_verify(history, data):
    chain = proven_chain(history)
    root_key, root_hash = chain.roots[chain.latest]
    key = data.draw(st.sampled_from(KEY_POOL))
    encoded = encode_state_proof(prove(chain.store, root_key, key))
    changed = data.draw(st.one_of(
        st.integers(0, len(encoded) * 8 - 1).map(lambda bit: flip_bit(encoded, bit)),
        st.integers(0, len(encoded) - 1).map(lambda end: encoded[:end]),
        st.binary(min_size=1, max_size=3).map(lambda tail: encoded + tail),
    ))
    with pytest.raises(StateProofError):
        verify_state_proof(root_hash, key, chain.models[chain.latest].get(key), decode_state_proof(changed))


@given(data=st.one_of(st.binary(max_size=300), st.lists(st.binary(max_size=40), max_size=6).map(b"".join)))
def test_random_bytes_decode_to_a_proof_or_state_proof_error_only(data):
    try:
        proof = decode_state_proof(b"\x94" + data)  # a four-element array, to get past the first byte often
    except StateProofError:
        return
    with pytest.raises(StateProofError):
        verify_state_proof(b"\x01" * 32, b"key", b"value", proof)


@settings(max_examples=1000)
@given(data=st.binary(max_size=100))
def test_decoding_anything_raises_only_state_proof_error(data):
    try:
        decode_state_proof(data)
    except StateProofError:
        pass


@pytest.mark.parametrize("data", ["text", None, bytearray(b"\x94\x00\xc4\x00\x90\xc0"), b"\x00" * (MAX_PROOF_SIZE + 1)])
def test_decoding_what_is_not_proof_bytes_is_malformed(data):
    with pytest.raises(StateProofError) as caught:
        decode_state_proof(data)
    assert caught.value.code == "state.malformed_proof"


@pytest.mark.parametrize(("arguments", "code"), [
    ((b"\x00" * 31, b"k", None), "state.bad_root_hash"),
    (("root", b"k", None), "state.bad_root_hash"),
    ((EMPTY_HASH, "k", None), "state.bad_key_type"),
    ((EMPTY_HASH, b"k" * 1025, None), "state.key_too_long"),
    ((EMPTY_HASH, b"k", "v"), "state.bad_value_type"),
    ((EMPTY_HASH, b"k", b"v" * 65537), "state.value_too_long"),
])
def test_verify_refuses_bad_arguments_with_their_codes(arguments, code):
    empty_tree_proof = prove(MemoryNodeStore(), None, b"k")
    with pytest.raises(StateProofError) as caught:
        verify_state_proof(*arguments, empty_tree_proof)
    assert caught.value.code == code


@pytest.mark.parametrize("proof", [
    None,
    b"proof",
    StateProof(-1, b"", (), None),
    StateProof(257, bytes(33), (), None),
    StateProof(True, b"\x00", (b"\x01" * 32,), None),
    StateProof(1, b"", (b"\x01" * 32,), None),
    StateProof(1, b"\x00", [b"\x01" * 32], None),
    StateProof(1, b"\x00", (b"\x01" * 31,), None),
    StateProof(1, b"\x00", (EMPTY_HASH,), None),
    StateProof(1, b"\x01", (b"\x01" * 32,), None),
    StateProof(1, b"\x80", (), None),
    StateProof(0, b"", (), ProofLeaf(b"\x01" * 32, b"\x01" * 31)),
    StateProof(0, b"", (), (b"\x01" * 32, b"\x01" * 32)),
])
def test_malformed_proofs_are_refused_before_any_hashing(proof):
    with pytest.raises(StateProofError) as caught:
        verify_absence(EMPTY_HASH, b"k", proof)
    assert caught.value.code == "state.malformed_proof"


def test_empty_tree_proves_every_key_absent_and_none_present():
    proof = prove(MemoryNodeStore(), None, b"anything")
    assert proof == StateProof(0, b"", (), None)
    verify_absence(EMPTY_HASH, b"other", proof)
    with pytest.raises(StateProofError) as caught:
        verify_presence(EMPTY_HASH, b"anything", b"", proof)
    assert caught.value.code == "state.key_absent"


def test_deepest_possible_proof_fits_the_size_limit():
    proof = StateProof(256, bytes(32), tuple(bytes([i + 1]) * 32 for i in range(255)) + (b"\xff" * 32,),
                       ProofLeaf(b"\x01" * 32, b"\x02" * 32))
    encoded = encode_state_proof(proof)
    assert len(encoded) <= MAX_PROOF_SIZE
    assert decode_state_proof(encoded) == proof


def tamperings(proof: StateProof) -> st.SearchStrategy[StateProof]:
    """Every way to change one thing in `proof`: a bit of a hash or of the bitmap, the depth, the sibling list."""
    options = [
        st.sampled_from([-1, 1]).map(lambda step: with_fields(proof, depth=proof.depth + step)),
        st.just(with_fields(proof, siblings=(*proof.siblings, b"\x07" * 32))),
        st.just(with_fields(proof, leaf=None if proof.leaf else ProofLeaf(b"\x07" * 32, b"\x07" * 32))),
    ]
    if proof.depth:
        options.append(st.integers(0, len(proof.empty_siblings) * 8 - 1).map(
            lambda bit: with_fields(proof, empty_siblings=flip_bit(proof.empty_siblings, bit))))
    if proof.siblings:
        options.append(st.just(with_fields(proof, siblings=proof.siblings[:-1])))
        options.append(st.tuples(st.integers(0, len(proof.siblings) - 1), st.integers(0, 255)).map(
            lambda at: with_fields(proof, siblings=flip_sibling_bit(proof.siblings, *at))))
    if proof.leaf:
        options.append(st.integers(0, 511).map(lambda bit: with_fields(proof, leaf=flip_leaf_bit(proof.leaf, bit))))
    return st.one_of(options)


def with_fields(proof: StateProof, **changes) -> StateProof:
    return msgspec.structs.replace(proof, **changes)


def flip_sibling_bit(siblings: tuple[bytes, ...], index: int, bit: int) -> tuple[bytes, ...]:
    return (*siblings[:index], flip_bit(siblings[index], bit), *siblings[index + 1:])


def flip_leaf_bit(leaf: ProofLeaf, bit: int) -> ProofLeaf:
    both = flip_bit(leaf.key_hash + leaf.value_hash, bit)
    return ProofLeaf(both[:32], both[32:])
