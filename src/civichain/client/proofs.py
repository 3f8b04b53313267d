"""Check the proofs a node's API returns, with nothing but the answer and a trusted root or checkpoint.

`check_state_at` and `check_entry_inclusion` check an answer against a checkpoint the client verified
(client/checkpoint.py): a state proof against its state root, a transaction's inclusion proof against its log.
`check_record` then checks that the record an answer shows is the value its proof proves.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from civichain.codec import decode, to_plain
from civichain.crypto import sha256
from civichain.errors import CivicError
from civichain.log import SHA256_TREE, verify_consistency, verify_inclusion
from civichain.state import ProofLeaf, StateProof, verify_state_proof
from civichain.types import Checkpoint, Transaction


class AnswerMismatch(CivicError):
    """An answer whose parts do not fit together (another root, a record that is not its proved value)."""


def state_proof_from_plain(plain: dict) -> StateProof:
    """Turn the JSON form of a state proof (as the API returns it) back into a StateProof."""
    leaf = plain["leaf"]
    return StateProof(plain["depth"], bytes.fromhex(plain["empty_siblings"]),
                      tuple(bytes.fromhex(s) for s in plain["siblings"]),
                      None if leaf is None else ProofLeaf(bytes.fromhex(leaf["key_hash"]), bytes.fromhex(leaf["value_hash"])))


def check_state_answer(key: bytes, state: dict) -> None:
    """Verify an API `state` answer (value or absence, proof, state root). Raises StateProofError."""
    value = None if state["value"] is None else bytes.fromhex(state["value"])
    verify_state_proof(bytes.fromhex(state["state_root"]), key, value, state_proof_from_plain(state["proof"]))


def check_state_at(state: dict, checkpoint: Checkpoint, key: bytes | None = None) -> bytes | None:
    """Verify a `state` answer against a verified checkpoint; return the value proved (None: its absence).

    The answer must be of the checkpoint's height and state root, for `key` when given, and its proof must
    verify. Raises AnswerMismatch `client.answer_mismatch` or StateProofError.
    """
    where = f"state {state['key']}"
    require_answer(key is None or state["key"].encode() == key, where, state["key"], f"the key {key!r}")
    require_answer(state["height"] == checkpoint.height, f"{where} height", state["height"],
                   f"{checkpoint.height}, the verified checkpoint's")
    require_answer(state["state_root"] == checkpoint.state_root.hex(), f"{where} state_root", state["state_root"],
                   f"{checkpoint.state_root.hex()}, the verified checkpoint's")
    check_state_answer(state["key"].encode(), state)
    return None if state["value"] is None else bytes.fromhex(state["value"])


def check_record(shown: dict, state: dict, kind: type[msgspec.Struct]) -> msgspec.Struct:
    """Return the record `state` proves, decoded as `kind`, after checking that `shown` (the record as the
    answer prints it) is exactly that record. Verifies the proof (not the root: see `check_state_at`).

    Raises StateProofError or AnswerMismatch `client.answer_mismatch`.
    """
    check_state_answer(state["key"].encode(), state)
    require_answer(state["value"] is not None, state["key"], None, "a value, not a proof of absence")
    record = decode(bytes.fromhex(state["value"]), kind, where=state["key"])
    require_answer(to_plain(record) == shown, state["key"], "a record that differs from the proved value",
                   "the record the proof proves")
    return record


def check_inclusion_answer(answer: dict) -> None:
    """Verify a transaction answer's inclusion proof against the log root it names. Raises ProofError."""
    inclusion = answer["inclusion"]
    verify_inclusion(SHA256_TREE.leaf(bytes.fromhex(answer["tx_bytes"])), inclusion["log_index"], inclusion["log_size"],
                     [bytes.fromhex(h) for h in inclusion["proof"]], bytes.fromhex(inclusion["log_root"]))


def check_tx_at(answer: dict, checkpoint: Checkpoint) -> None:
    """Verify a transaction answer's inclusion proof against a verified checkpoint's log (size and root).

    Raises AnswerMismatch `client.answer_mismatch` (a proof against another log) or ProofError.
    """
    _check_inclusion_at(bytes.fromhex(answer["tx_bytes"]), answer["inclusion"], checkpoint, f"tx {answer['tx_id']}")


def check_entry_inclusion(entry: dict, checkpoint: Checkpoint) -> Transaction:
    """Verify a history entry's transaction against a verified checkpoint's log; return the transaction.

    Checks that the id is the hash of the signed bytes, that those bytes are the log's entry `log_index`
    (RFC 9162 §2.1.3.2, leaf hash of the bytes) in the log of the checkpoint's size and root (the log the
    entry's `inclusion` states), and that the
    decoded transaction shown names the same sender, nonce, module and action. Raises ProofError or
    AnswerMismatch `client.answer_mismatch`.
    """
    where = f"entry at height {entry['height']}"
    try:
        raw = base64.b64decode(entry["tx"]["bytes"], validate=True)
    except (binascii.Error, ValueError):
        raise AnswerMismatch("client.answer_mismatch", where=f"{where} tx.bytes", got=entry["tx"]["bytes"][:40],
                             expected="base64 bytes") from None
    require_answer(sha256(raw).hex() == entry["tx_id"], f"{where} tx_id", entry["tx_id"], "the hash of the tx bytes")
    _check_inclusion_at(raw, entry["inclusion"], checkpoint, where)
    tx = decode(raw, Transaction, where=f"{where} tx")
    shown = entry["tx"]["decoded"]["body"]
    facts = ("sender", "nonce", "module", "action")
    require_answer([shown[f] for f in facts] == [getattr(tx.body, f) for f in facts], f"{where} tx.decoded",
                   [shown[f] for f in facts], "the sender, nonce, module and action of the tx bytes")
    return tx


def check_consistency_answer(answer: dict, old_root: bytes, new_root: bytes) -> None:
    """Verify a consistency answer between two roots the caller trusts. Raises ProofError."""
    verify_consistency(answer["old_size"], answer["new_size"], [bytes.fromhex(h) for h in answer["proof"]],
                       old_root, new_root)


def _check_inclusion_at(raw: bytes, inclusion: dict, checkpoint: Checkpoint, where: str) -> None:
    require_answer([inclusion["log_size"], inclusion["log_root"]] == [checkpoint.log_size, checkpoint.log_root.hex()],
                   f"{where} inclusion", [inclusion["log_size"], inclusion["log_root"]],
                   f"the log of the verified checkpoint {checkpoint.height}: size {checkpoint.log_size}, root "
                   f"{checkpoint.log_root.hex()}")
    verify_inclusion(SHA256_TREE.leaf(raw), inclusion["log_index"], checkpoint.log_size,
                     [bytes.fromhex(h) for h in inclusion["proof"]], checkpoint.log_root)


def require_answer(condition: bool, where: str, got: object, expected: str) -> None:
    """Raise AnswerMismatch `client.answer_mismatch` (at `where`, with `got` and `expected`) unless `condition`."""
    if not condition:
        raise AnswerMismatch("client.answer_mismatch", where=where, got=got, expected=expected)
