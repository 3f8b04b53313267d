"""The chain file: everything an auditor needs to check a civichain chain offline, in one SQLite file.

`civichain export` writes it from a running node (CometBFT's blocks, commits and validator sets through its
RPC; the app's block records, log nodes and state from the node's store); `civichain verify` reads it.

```
meta        (name, value)   format, chain_id, genesis (CometBFT genesis JSON), height, app_height
blocks      (height, block, commit, validators)          CometBFT JSON: block with header and txs,
                                                        the commit for that height, the validator set
app_blocks  (height, app_hash, log_size, log_root, state_root, receipts_root, receipts)
log_nodes   (level, idx, hash)   every perfect log node of the log at app_height
state       (key, value)         every state entry at app_height
```

`height` is CometBFT's last exported height H; `app_height` is H-1, because the app hash of block H-1 is
carried (and signed) in the header of H, so every exported app hash is covered by a verified header.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

from civichain.engine.rpc import CometRpc
from civichain.errors import CivicError
from civichain.ledger.committed import StateNodes
from civichain.state import entries
from civichain.store import Store

FORMAT = "civichain-chain/1"

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE blocks (height INTEGER PRIMARY KEY, block TEXT NOT NULL, commit_json TEXT NOT NULL, validators TEXT NOT NULL);
CREATE TABLE app_blocks (height INTEGER PRIMARY KEY, app_hash BLOB NOT NULL, log_size INTEGER NOT NULL,
    log_root BLOB NOT NULL, state_root BLOB NOT NULL, receipts_root BLOB NOT NULL, receipts BLOB NOT NULL);
CREATE TABLE log_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE state (key BLOB PRIMARY KEY, value BLOB NOT NULL);
"""


class ChainFileError(CivicError):
    """A chain file that cannot be read or written."""


def export_chain(store: Store, rpc_url: str, out: Path, progress: Callable[[int, int], None] | None = None,
                 up_to: int | None = None) -> tuple[int, int]:
    """Write the chain file of a running node; return (height, app_height)."""
    rpc = CometRpc(rpc_url, timeout=30)
    try:
        engine_height = int(rpc.status()["sync_info"]["latest_block_height"])
        last = store.last_block()
        if last is None or engine_height < 2:
            raise ChainFileError("export.too_early", where=str(store.path), got=f"engine height {engine_height}",
                                 expected="at least two committed blocks")
        height = min(engine_height, last.height + 1, up_to or engine_height)
        app_height = height - 1
        out.unlink(missing_ok=True)
        db = sqlite3.connect(out, isolation_level=None)
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        db.execute("BEGIN")
        genesis = rpc.genesis()["genesis"]
        meta = {"format": FORMAT.encode(), "chain_id": genesis["chain_id"].encode(),
                "genesis": json.dumps(genesis, sort_keys=True).encode(), "height": str(height).encode(),
                "app_height": str(app_height).encode()}
        db.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        for h in range(1, height + 1):
            block = rpc.block(h)
            commit = rpc.commit(h)["signed_header"]["commit"]
            validators = _validators(rpc, h)
            db.execute("INSERT INTO blocks VALUES (?,?,?,?)", (h, json.dumps(block), json.dumps(commit),
                                                               json.dumps(validators)))
            if h <= app_height:
                record = store.block(h)
                db.execute("INSERT INTO app_blocks VALUES (?,?,?,?,?,?,?)",
                           (h, record.app_hash, record.log_size, record.log_root, record.state_root,
                            record.receipts_root, record.receipts))
            if progress:
                progress(h, height)
        app_block = store.block(app_height)
        db.executemany("INSERT INTO log_nodes VALUES (?,?,?)", store.log_nodes_within(app_block.log_size))
        root = store.state_root(app_height)
        db.executemany("INSERT INTO state VALUES (?,?)", entries(StateNodes(store), root[0]))
        db.execute("COMMIT")
        db.close()
        return height, app_height
    finally:
        rpc.close()


def _validators(rpc: CometRpc, height: int) -> list[dict]:
    validators, page = [], 1
    while True:
        result = rpc.call("validators", height=str(height), page=str(page), per_page="100")
        validators.extend(result["validators"])
        if len(validators) >= int(result["total"]):
            return validators
        page += 1


class ChainFile:
    """A chain file opened for reading."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ChainFileError("chainfile.missing", where=str(path), got="no file", expected="a chain file")
        try:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            self._db.text_factory = bytes   # a tampered cell of another type must reach the checks, not crash
            meta = {name.decode(errors="replace"): bytes(value) for name, value in self._db.execute("SELECT name, value FROM meta")}
        except sqlite3.DatabaseError as exc:
            raise ChainFileError("chainfile.corrupt", where=str(path), got=str(exc),
                                 expected=f"a {FORMAT} SQLite file made by `civichain export`") from None
        if meta.get("format") != FORMAT.encode():
            raise ChainFileError("chainfile.format", where=str(path), got=meta.get("format"), expected=FORMAT)
        self.path = path
        try:
            self.chain_id = meta["chain_id"].decode()
            self.genesis = json.loads(meta["genesis"])
            self.height = int(meta["height"])
            self.app_height = int(meta["app_height"])
        except (KeyError, ValueError) as exc:
            raise ChainFileError("chainfile.meta", where=f"{path} meta", got=str(exc)[:100],
                                 expected="chain_id, genesis, height and app_height") from None

    def blocks(self) -> Iterator[tuple[int, dict, dict, list[dict]]]:
        """Yield (height, block, commit, validators) in height order."""
        for h, block, commit, validators in self._db.execute("SELECT * FROM blocks ORDER BY height"):
            yield h, json.loads(block), json.loads(commit), json.loads(validators)

    def app_block(self, height: int) -> tuple | None:
        """Return (app_hash, log_size, log_root, state_root, receipts_root, receipts) of a height."""
        row = self._db.execute("SELECT app_hash, log_size, log_root, state_root, receipts_root, receipts "
                               "FROM app_blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else tuple(bytes(v) if isinstance(v, bytes) else v for v in row)

    def log_nodes(self) -> Iterator[tuple[int, int, bytes]]:
        for level, index, digest in self._db.execute("SELECT level, idx, hash FROM log_nodes ORDER BY level, idx"):
            yield level, index, bytes(digest)

    def state(self) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._db.execute("SELECT key, value FROM state ORDER BY key"):
            yield bytes(key), bytes(value)

    def count(self, table: str) -> int:
        return self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
