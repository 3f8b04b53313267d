"""SQLite persistence for the app: blocks, receipts, events, the transparency log and the state tree.

One database file per node (`<home>/data/civichain.db`), in WAL mode with `synchronous=FULL`: each block is
written by `commit_block` in one transaction, so after a crash the file holds every committed block whole
and nothing of a block that was not committed.
"""

from civichain.store.sqlite import BlockRecord, CommitBatch, EvidenceRecord, Store, StoreError

__all__ = ["BlockRecord", "CommitBatch", "EvidenceRecord", "Store", "StoreError"]
