"""A checkpoint is accepted only as the one the signed header of the next height commits to; the CLI's exit
status says which check failed."""

from __future__ import annotations

import copy

import pytest

from civichain.cli.common import EXIT_PROBLEM, EXIT_RUNTIME, EXIT_USAGE, exit_code
from civichain.client.api import ApiClientError
from civichain.client.checkpoint import CheckpointMismatch, verify_checkpoint_answer
from civichain.client.proofs import AnswerMismatch
from civichain.codec import to_plain
from civichain.crypto import sha256
from civichain.log import ProofError
from civichain.state import StateProofError
from civichain.types import Checkpoint

CHECKPOINT = Checkpoint("test-net", 41, 97, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 1_700_000_000_000_000_000)


def answer() -> dict:
    """A checkpoint answer as GET /v1/checkpoints/41 gives it (the header of 42 carries the app hash of 41)."""
    header = {"chain_id": "test-net", "height": "42", "app_hash": CHECKPOINT.app_hash(sha256).hex().upper()}
    return {"checkpoint": to_plain(CHECKPOINT), "signed_header": {"header": header, "commit": {"signatures": []}}}


def test_a_checkpoint_that_hashes_to_the_next_headers_app_hash_is_accepted():
    assert verify_checkpoint_answer(answer()) == CHECKPOINT
    assert verify_checkpoint_answer(answer(), 41) == CHECKPOINT


@pytest.mark.parametrize("change, where", [
    (lambda a: a["checkpoint"].update(state_root="ff" * 32), "header app_hash"),
    (lambda a: a["checkpoint"].update(log_size=98), "header app_hash"),
    (lambda a: a["signed_header"]["header"].update(height="43"), "header height"),
    (lambda a: a["signed_header"]["header"].update(chain_id="other-net"), "header chain_id"),
])
def test_a_checkpoint_the_header_does_not_commit_to_is_refused(change, where):
    changed = copy.deepcopy(answer())
    change(changed)
    with pytest.raises(CheckpointMismatch) as caught:
        verify_checkpoint_answer(changed)
    assert caught.value.code == "client.checkpoint_mismatch" and caught.value.where == where


def test_a_checkpoint_of_another_height_than_asked_is_refused():
    with pytest.raises(CheckpointMismatch):
        verify_checkpoint_answer(answer(), 40)


def refusal(status: int | None) -> ApiClientError:
    error = ApiClientError("land.unknown_parcel", where="parcel", got="P-9", expected="a registered parcel id")
    error.status = status
    return error


@pytest.mark.parametrize("error, status", [
    (CheckpointMismatch("client.checkpoint_mismatch", where="w", got=1, expected="e"), EXIT_PROBLEM),
    (AnswerMismatch("client.answer_mismatch", where="w", got=1, expected="e"), EXIT_PROBLEM),
    (StateProofError("state.root_mismatch", where="w", got=1, expected="e"), EXIT_PROBLEM),
    (ProofError("log.root_mismatch", where="w", got=1, expected="e"), EXIT_PROBLEM),
    (refusal(404), EXIT_USAGE),
    (refusal(422), EXIT_USAGE),
    (refusal(503), EXIT_RUNTIME),
    (refusal(None), EXIT_RUNTIME),
])
def test_the_exit_status_names_the_kind_of_failure(error, status):
    assert exit_code(error) == status
