"""Transaction signatures verified in worker processes, ahead of re-execution.

Re-executing a chain is sequential, but checking its signatures is not: while the auditor's process executes
block h, workers verify the signatures of the next blocks under the keys the state holds now. Each verified
transaction is entered in the admission's signature cache, so execution does not verify it again; a
transaction whose keys changed in between, or that did not verify, is simply verified (and refused) by
execution itself. The outcome is therefore exactly that of a sequential run, only sooner.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from civichain.crypto.workers import VerifierPool
from civichain.execution import Admission, SignatureWork, StateReader

Block = TypeVar("Block")
READ_AHEAD_TXS = 12_000   # within the admission caches' capacity (parsed transactions, verified signatures)


@dataclass
class _Batch:
    """One block's signature checks in flight, and its transactions whose keys were not known yet."""

    parts: list[tuple[list[SignatureWork], list[Future]]] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)


class SignaturePipeline:
    """Blocks' signatures verified by `workers` processes, `ahead` blocks ahead of execution.

    `submit(txs)` for each block in order; `settle()` before executing the oldest submitted block enters its
    verified transactions into the admission's cache. A transaction whose sender or endorser the state does
    not hold yet (an account registered by a block still ahead) is gathered again at each `settle`, as the
    state advances, and sent to the workers then. Use as a context manager; it stops its workers.
    """

    def __init__(self, admission: Admission, state: StateReader, *, workers: int | None = None) -> None:
        self.admission, self.state = admission, state
        # The re-execution thread keeps one core busy: a worker per other core (measured on 2 cores: one worker
        # 15,200-15,700 tx/s, two 14,200-14,800, as the second competes with the thread it should relieve).
        self.workers = workers if workers is not None else max(1, min(4, (os.cpu_count() or 2) - 1))
        self._pool = VerifierPool(self.workers) if self.workers > 0 else None
        self._pending: deque[_Batch] = deque()

    def __enter__(self) -> "SignaturePipeline":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.close()

    def submit(self, txs: Sequence[bytes]) -> None:
        """Queue one block's transactions for verification."""
        batch = _Batch(unknown=list(txs))
        self._send(batch)
        self._pending.append(batch)

    def settle(self) -> None:
        """Wait for the oldest submitted block's verification and remember what verified.

        First the transactions still unknown in every pending block are gathered again under the state as it
        is now (the state the oldest block executes on), so they too are verified by the workers.
        """
        for batch in self._pending:
            if batch.unknown:
                self._send(batch)
        batch = self._pending.popleft()
        for work, futures in batch.parts:
            for item, ok in zip(work, [ok for future in futures for ok in future.result()]):
                if ok:
                    self.admission.signatures.remember(item.tx_id, item.keys)

    def _send(self, batch: _Batch) -> None:
        """Gather the checks of `batch`'s unknown transactions the state can now name, and send them."""
        if self._pool is None:
            batch.unknown = []
            return
        work, unknown = [], []
        for raw in batch.unknown:
            item = self.admission.signature_work(raw, self.state)
            if item is None:
                unknown.append(raw)
            else:
                work.append(item)
        batch.unknown = unknown
        if work:
            batch.parts.append((work, self._pool.submit(self.admission.suite.name, [w.checks for w in work])))

    def ahead(self, blocks: Iterable[Block], txs_of: Callable[[Block], list[bytes]],
              limit: int = READ_AHEAD_TXS) -> Iterator[tuple[Block, list[bytes]]]:
        """Yield (block, its transactions) in order, each block's signatures settled before it is yielded.

        Keeps up to `limit` transactions of the following blocks with the workers meanwhile.
        """
        window: deque[tuple[Block, list[bytes]]] = deque()
        queued, source = 0, iter(blocks)
        exhausted = False
        while True:
            while not exhausted and (not window or queued < limit):
                block = next(source, None)
                if block is None:
                    exhausted = True
                    break
                txs = txs_of(block)
                self.submit(txs)
                window.append((block, txs))
                queued += len(txs)
            if not window:
                return
            self.settle()
            block, txs = window.popleft()
            queued -= len(txs)
            yield block, txs

    def __len__(self) -> int:
        return len(self._pending)
