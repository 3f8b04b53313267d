"""Reads of a node's API checked against one checkpoint that the CometBFT header of the next height commits to.

The order matters: the checkpoint is fetched and checked first (client/checkpoint.py); every read then asks
for that checkpoint's height (`?height=H`), so each state proof is checked against the checkpoint's state root,
and each history entry's inclusion proof against its log, not against roots the same answer names.
"""

from __future__ import annotations

import time

import msgspec

from civichain.client.api import ApiClient
from civichain.client.checkpoint import verify_checkpoint_answer
from civichain.client.proofs import (check_entry_inclusion, check_record, check_state_at, check_tx_at,
                                     require_answer)
from civichain.codec import to_plain
from civichain.types import Checkpoint, Transaction


class VerifiedReads:
    """The reads of one node's API at one verified checkpoint (that of `height`, default the latest).

    The checkpoint of a block is signed in the header of the next one, so the latest checkpoint may lag the
    node's last block; with `patience` (s), the latest is awaited until it covers every block the node had
    committed when asked, so that a read follows the writes before it.

    Every method raises CheckpointMismatch, AnswerMismatch (`client.*`), StateProofError (`state.*`) or
    ProofError (`log.*`) when a check fails, and ApiClientError when the node refuses or does not answer.
    """

    def __init__(self, api: ApiClient, height: int | None = None, *, patience: float = 0.0) -> None:
        self.api = api
        if height is None and patience > 0:
            answer = self._latest_covering(api.status()["height"], patience)
        else:
            answer = api.checkpoint(height)
        self.checkpoint: Checkpoint = verify_checkpoint_answer(answer, height)

    def _latest_covering(self, height: int, patience: float) -> dict:
        deadline = time.monotonic() + patience
        answer = self.api.checkpoint()
        while answer["checkpoint"]["height"] < height and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = self.api.checkpoint()
        return answer

    @property
    def height(self) -> int:
        """The height of the verified checkpoint: every read is at this height."""
        return self.checkpoint.height

    def read(self, path: str, params: dict | None = None) -> dict:
        """Return the answer of GET `path` at the checkpoint's height (its proofs not yet checked)."""
        return self.api.get(path, {**(params or {}), "height": str(self.height)})

    def pages(self, path: str, key: str, params: dict | None = None) -> list:
        """Return every item under `key` of the pages of GET `path` at the checkpoint's height."""
        def page(cursor) -> dict:
            return self.read(path, {**(params or {}), **({"cursor": str(cursor)} if cursor else {})})

        return self.api.all_pages(page, key)

    def state(self, state: dict, key: bytes | None = None) -> bytes | None:
        """Verify a `state` answer against the checkpoint's state root; return the value proved (None: absent)."""
        return check_state_at(state, self.checkpoint, key)

    def record(self, shown: dict, state: dict, kind: type[msgspec.Struct], key: bytes | None = None) -> msgspec.Struct:
        """Verify a record's state proof against the checkpoint and that `shown` is the value proved; return it."""
        self.state(state, key)
        return check_record(shown, state, kind)

    def tx(self, answer: dict) -> None:
        """Verify a transaction answer read at the checkpoint: its inclusion proof against the checkpoint's log
        (nothing to check for a transaction refused before the log, which has none)."""
        if "inclusion" in answer:
            check_tx_at(answer, self.checkpoint)

    def history(self, path: str) -> list[tuple[dict, Transaction | None]]:
        """Return every entry of the history at `path` (oldest first) with its transaction, each transaction's
        inclusion proof verified against the checkpoint's log, every page stated at that checkpoint."""
        entries = []
        cursor = None
        while True:
            page = self.read(path, {"cursor": cursor} if cursor else None)
            require_answer(page["checkpoint"] == to_plain(self.checkpoint), "history checkpoint",
                           page["checkpoint"], f"the verified checkpoint of height {self.height}")
            entries.extend((e, None if e["tx"] is None else check_entry_inclusion(e, self.checkpoint))
                           for e in page["entries"])
            cursor = page["next_cursor"]
            if cursor is None:
                return entries
