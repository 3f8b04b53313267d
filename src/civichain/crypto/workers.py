"""Signature verification in worker processes.

Verifying is the one part of admitting or auditing a transaction that needs no state: given the public keys
the state holds, each (public key, message, signature) triple can be checked anywhere. Threads would not help
(the Python around each verification holds the GIL, and a thread waiting for it behind a busy main thread
waits up to the 5 ms switch interval), so the checks go to processes, a batch at a time.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Sequence

from civichain.crypto.suite import ED25519_SHA256, suite_named

Checks = tuple[tuple[bytes, bytes, bytes], ...]   # one transaction's (public key, message, signature) triples


def verify_checks(suite_name: str, work: Sequence[Checks]) -> list[bool]:
    """Return, for each transaction's checks, whether every (public key, message, signature) verifies.

    Runs in a worker process: pure, it needs only the suite's name.
    """
    verify = suite_named(suite_name).verify
    return [all(verify(key, message, signature) for key, message, signature in checks) for checks in work]


PR_SET_PDEATHSIG = 1   # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this worker when its parent dies, however it dies (SIGKILL included), so that
    no orphan is left behind; exit at once if the parent is already gone.

    SIGTERM and SIGINT sent to the whole process group (a supervisor stopping the node, Ctrl-C) are ignored:
    the parent stops its workers itself, or its death does.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):   # not Linux: stopping the process group still reaches the workers
        pass
    if os.getppid() != parent:
        os._exit(0)


class VerifierPool:
    """`workers` processes verifying batches of transactions' signature checks.

    The processes are forked when the pool is made (make it before starting threads) and all started at
    once, so the first batch does not wait for them. Use as a context manager, or call `close`.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"a verifier pool needs at least one worker, got {workers}")
        self.workers = workers
        # fork: the workers need nothing from the parent but this module, and a script making a pool needs no
        # `if __name__ == "__main__"` guard (spawn would re-run it).
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                         initializer=_die_with_parent, initargs=(os.getpid(),))
        warm = [self._pool.submit(verify_checks, ED25519_SHA256.name, []) for _ in range(workers)]
        for future in warm:
            future.result(timeout=60)

    def __enter__(self) -> "VerifierPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def submit(self, suite_name: str, work: Sequence[Checks]) -> list[Future]:
        """Queue a batch to verify under the suite named; return one future per slice (each a list of
        booleans), in the batch's order.

        The batch is cut into about as many slices as there are workers, so that all of them share it.
        """
        if not work:
            return []
        size = -(-len(work) // self.workers)
        return [self._pool.submit(verify_checks, suite_name, work[i:i + size]) for i in range(0, len(work), size)]

    def close(self) -> None:
        """Stop the workers (queued batches are dropped)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
