"""The node's SQLite database: schema, one atomic write per block, and reads for the API and proofs."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from civichain.errors import CivicError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    time_ns INTEGER NOT NULL,
    block_hash BLOB NOT NULL,
    app_hash BLOB NOT NULL,
    log_size INTEGER NOT NULL,
    log_root BLOB NOT NULL,
    state_root BLOB NOT NULL,
    receipts_root BLOB NOT NULL,
    tx_count INTEGER NOT NULL,
    txs BLOB NOT NULL,
    receipts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tx_index (
    tx_id BLOB PRIMARY KEY, height INTEGER NOT NULL, position INTEGER NOT NULL, log_index INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_leaves (log_index INTEGER PRIMARY KEY, height INTEGER NOT NULL, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    module TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL,
    height INTEGER NOT NULL, position INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (module, type, key, height, position, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_nodes (key BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_roots (version INTEGER PRIMARY KEY, root_key BLOB, root_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state_stale (version INTEGER PRIMARY KEY, keys BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    height INTEGER NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL, validator BLOB NOT NULL,
    power INTEGER NOT NULL, offence_height INTEGER NOT NULL, offence_time_ns INTEGER NOT NULL,
    total_power INTEGER NOT NULL, PRIMARY KEY (height, position)
) WITHOUT ROWID;
"""


class StoreError(CivicError):
    """The database cannot be used: corrupt, truncated, of another chain or another schema."""


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """One committed block as the app keeps it."""

    height: int
    time_ns: int
    block_hash: bytes
    app_hash: bytes
    log_size: int          # after this block
    log_root: bytes
    state_root: bytes
    receipts_root: bytes
    tx_count: int
    txs: bytes             # canonical encoding of the list of raw transactions
    receipts: bytes        # canonical encoding of the list of receipts


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """A validator's misbehaviour that CometBFT proved and committed in a block (FinalizeBlock's `misbehavior`).

    Not part of the app hash: the block header's evidence hash already commits to it.
    """

    kind: str              # "duplicate_vote" or "light_client_attack" ("unknown" for a type we do not know)
    validator: bytes       # its address: the first 20 bytes of SHA-256 of its public key
    power: int             # its voting power
    height: int            # of the offence
    time_ns: int           # of the offence (BFT time)
    total_power: int       # of the validator set at the offence height


@dataclass(slots=True)
class CommitBatch:
    """Everything one Commit writes, in one transaction."""

    block: BlockRecord
    tx_index: list[tuple[bytes, int, int | None]] = field(default_factory=list)   # (tx_id, position, log_index)
    log_leaves: list[tuple[int, int]] = field(default_factory=list)               # (log_index, position)
    events: list[tuple[str, str, str, int, int]] = field(default_factory=list)    # (module, type, key, position, seq)
    log_nodes: list[tuple[int, int, bytes]] = field(default_factory=list)
    kv: dict[bytes, bytes | None] = field(default_factory=dict)
    state_roots: list[tuple[int, bytes | None, bytes]] = field(default_factory=list)
    state_nodes: list[tuple[bytes, bytes]] = field(default_factory=list)
    state_stale: list[tuple[int, bytes]] = field(default_factory=list)            # (version, packed keys)
    meta: dict[str, bytes] = field(default_factory=dict)
    evidence: list[EvidenceRecord] = field(default_factory=list)


class Store:
    """The app database of one node. Not thread-safe: one Store per thread or process."""

    def __init__(self, path: Path, *, readonly: bool = False, durable: bool = True, lookups: bool = True) -> None:
        """Open (or create) the database at `path`.

        `durable=False` and `lookups=False` are for a throw-away replay (an audit): no fsync, and none of the
        lookup indexes (transactions by id, log leaves, events) that only queries need.
        """
        self.path = Path(path)
        self.readonly, self.durable, self.lookups = readonly, durable, lookups
        if readonly and not self.path.exists():
            raise StoreError("store.missing", where=str(self.path), got="no file", expected="a civichain database")
        try:
            self._db = self._open()
            if not readonly:
                self._db.executescript(SCHEMA)
                self._check_schema()
            self._db.execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError("store.corrupt", where=str(self.path), got=str(exc),
                             expected="an intact SQLite database (restore it from a peer or a backup)") from None

    def _open(self) -> sqlite3.Connection:
        if self.readonly:
            uri = f"file:{self.path}?mode=ro"
            db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before Commit returns. Only a throw-away replay (an audit) opts out.
            db.execute("PRAGMA synchronous=FULL" if self.durable else "PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-131072")
        # Checkpoint the WAL every ~40 MB rather than every 4 MB: pages written again and again by
        # successive blocks (upper tree levels, index pages) are copied back once, with fewer fsyncs.
        db.execute("PRAGMA wal_autocheckpoint=10000")
        return db

    def _check_schema(self) -> None:
        found = self.meta("schema_version")
        if found is None:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION).encode(),))
        elif found != str(SCHEMA_VERSION).encode():
            raise StoreError("store.schema_version", where=str(self.path), got=found.decode(errors="replace"),
                             expected=str(SCHEMA_VERSION))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # --- writes -------------------------------------------------------------------------------------------

    def commit_block(self, batch: CommitBatch) -> None:
        """Write one block and everything it changed, atomically and durably (fsync before returning)."""
        db, b = self._db, batch.block
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (b.height, b.time_ns, b.block_hash, b.app_hash, b.log_size, b.log_root, b.state_root,
                        b.receipts_root, b.tx_count, b.txs, b.receipts))
            if self.lookups:
                db.executemany("INSERT OR IGNORE INTO tx_index VALUES (?,?,?,?)",
                               [(tx_id, b.height, pos, li) for tx_id, pos, li in batch.tx_index])
                db.executemany("INSERT INTO log_leaves VALUES (?,?,?)",
                               [(li, b.height, pos) for li, pos in batch.log_leaves])
                db.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?)",
                               [(m, t, k, b.height, pos, seq) for m, t, k, pos, seq in batch.events])
            db.executemany("INSERT INTO log_nodes VALUES (?,?,?)", batch.log_nodes)
            puts = [(k, v) for k, v in batch.kv.items() if v is not None]
            dels = [(k,) for k, v in batch.kv.items() if v is None]
            db.executemany("INSERT OR REPLACE INTO kv VALUES (?,?)", puts)
            db.executemany("DELETE FROM kv WHERE key = ?", dels)
            db.executemany("INSERT OR REPLACE INTO state_nodes VALUES (?,?)", batch.state_nodes)
            db.executemany("INSERT OR REPLACE INTO state_roots VALUES (?,?,?)", batch.state_roots)
            db.executemany("INSERT OR REPLACE INTO state_stale VALUES (?,?)", batch.state_stale)
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", list(batch.meta.items()))
            db.executemany("INSERT INTO evidence VALUES (?,?,?,?,?,?,?,?)",
                           [(b.height, pos, e.kind, e.validator, e.power, e.height, e.time_ns, e.total_power)
                            for pos, e in enumerate(batch.evidence)])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def prune_state(self, versions: Sequence[int], delete_keys: Sequence[bytes], *, stale_versions: Sequence[int]) -> None:
        """Delete old state roots, the nodes no retained version reaches, and the stale lists that named them."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM state_nodes WHERE key = ?", [(k,) for k in delete_keys])
            db.executemany("DELETE FROM state_stale WHERE version = ?", [(v,) for v in stale_versions])
            db.executemany("DELETE FROM state_roots WHERE version = ?", [(v,) for v in versions])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def compact(self) -> None:
        """Rewrite the file without its free pages (VACUUM), e.g. after pruning many state versions."""
        self._db.execute("VACUUM")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read inside one read transaction: a consistent snapshot, and cheaper lookups than one per query."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")

    # --- reads --------------------------------------------------------------------------------------------

    def meta(self, name: str) -> bytes | None:
        """Return a meta value."""
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def get(self, key: bytes) -> bytes | None:
        """Return the latest committed value of a state key."""
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def scan(self, prefix: bytes, limit: int, after: bytes = b"") -> list[tuple[bytes, bytes]]:
        """Return up to `limit` latest (key, value) pairs under `prefix`, ordered by key, after `after`."""
        start = max(prefix, after + b"\x00") if after else prefix
        end = _prefix_end(prefix)
        query = "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"
        return [(bytes(k), bytes(v)) for k, v in self._db.execute(query, (start, end, limit))]

    def block(self, height: int) -> BlockRecord | None:
        """Return a committed block."""
        row = self._db.execute("SELECT * FROM blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else BlockRecord(*row)

    def last_block(self) -> BlockRecord | None:
        """Return the last committed block."""
        row = self._db.execute("SELECT * FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
        return None if row is None else BlockRecord(*row)

    def blocks(self, start: int = 1) -> Iterator[BlockRecord]:
        """Yield the committed blocks from `start` on, in order."""
        for row in self._db.execute("SELECT * FROM blocks WHERE height >= ? ORDER BY height", (start,)):
            yield BlockRecord(*row)

    def tx_location(self, tx_id: bytes) -> tuple[int, int, int | None] | None:
        """Return (height, position, log_index) of a transaction, or None."""
        row = self._db.execute("SELECT height, position, log_index FROM tx_index WHERE tx_id = ?", (tx_id,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def log_leaf_location(self, log_index: int) -> tuple[int, int] | None:
        """Return (height, position) of the transaction at `log_index`."""
        row = self._db.execute("SELECT height, position FROM log_leaves WHERE log_index = ?", (log_index,)).fetchone()
        return None if row is None else (row[0], row[1])

    def events(self, module: str, kind: str | None, key: str | None, limit: int,
               after: tuple[int, int, int] | None = None) -> list[tuple[str, str, str, int, int, int]]:
        """Return events by module, and optionally type and key, oldest first, after a cursor."""
        clauses, params = ["module = ?"], [module]
        if kind is not None:
            clauses.append("type = ?"); params.append(kind)
        if key is not None:
            clauses.append("key = ?"); params.append(key)
        if after is not None:
            clauses.append("(height, position, seq) > (?, ?, ?)"); params.extend(after)
        query = (f"SELECT module, type, key, height, position, seq FROM events WHERE {' AND '.join(clauses)} "
                 "ORDER BY height, position, seq LIMIT ?")
        return list(self._db.execute(query, (*params, limit)))

    def history(self, module: str, key: str, limit: int,
                after: tuple[int, int, int] | None = None) -> list[tuple[str, str, str, int, int, int]]:
        """Return a subject's events of every type of `module`, oldest first, after a cursor.

        The events index leads with (module, type, key); the module's types are found by seeking from one
        to the next (a loose index scan), then each type's events of `key` are read by index and merged.
        """
        types = [t for (t,) in self._db.execute(
            "WITH RECURSIVE t(type) AS (SELECT min(type) FROM events WHERE module = ?1 UNION ALL "
            "SELECT (SELECT min(type) FROM events WHERE module = ?1 AND type > t.type) FROM t WHERE t.type IS NOT NULL) "
            "SELECT type FROM t WHERE type IS NOT NULL", (module,))]
        rows = [row for kind in types for row in self.events(module, kind, key, limit, after)]
        rows.sort(key=lambda row: (row[3], row[4], row[5]))
        return rows[:limit]

    def evidence(self, limit: int, after: tuple[int, int] | None = None) -> list[tuple[int, int, EvidenceRecord]]:
        """Return up to `limit` (height committed, position, evidence), oldest first, after a (height, position)."""
        query = ("SELECT height, position, kind, validator, power, offence_height, offence_time_ns, total_power "
                 "FROM evidence WHERE (height, position) > (?, ?) ORDER BY height, position LIMIT ?")
        rows = self._db.execute(query, (*(after or (0, -1)), limit))
        return [(h, p, EvidenceRecord(kind, bytes(v), power, oh, ot, total))
                for h, p, kind, v, power, oh, ot, total in rows]

    def log_nodes_within(self, size: int) -> Iterator[tuple[int, int, bytes]]:
        """Yield every stored perfect log node of the first `size` entries, by level then index."""
        query = "SELECT level, idx, hash FROM log_nodes ORDER BY level, idx"
        for level, index, digest in self._db.execute(query):
            if (index + 1) << level <= size:
                yield level, index, bytes(digest)

    def kv_items(self) -> Iterator[tuple[bytes, bytes]]:
        """Yield every latest (key, value) in key order."""
        for key, value in self._db.execute("SELECT key, value FROM kv ORDER BY key"):
            yield bytes(key), bytes(value)

    def log_node(self, level: int, index: int) -> bytes:
        """Return a perfect log node. Raises KeyError when it is not stored."""
        row = self._db.execute("SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", (level, index)).fetchone()
        if row is None:
            raise KeyError((level, index))
        return bytes(row[0])

    def state_node(self, key: bytes) -> bytes:
        """Return a state tree node. Raises KeyError when it is not stored (pruned or never written)."""
        row = self._db.execute("SELECT node FROM state_nodes WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def state_root(self, version: int) -> tuple[bytes | None, bytes] | None:
        """Return (root_key, root_hash) of a retained state version, or None."""
        row = self._db.execute("SELECT root_key, root_hash FROM state_roots WHERE version = ?", (version,)).fetchone()
        return None if row is None else (None if row[0] is None else bytes(row[0]), bytes(row[1]))

    def state_versions(self) -> list[int]:
        """Return the retained state versions in order."""
        return [v for (v,) in self._db.execute("SELECT version FROM state_roots ORDER BY version")]

    def stale_records(self, up_to_version: int) -> list[tuple[int, bytes]]:
        """Return the packed stale-node lists of versions up to `up_to_version`."""
        query = "SELECT version, keys FROM state_stale WHERE version <= ? ORDER BY version"
        return [(v, bytes(k)) for v, k in self._db.execute(query, (up_to_version,))]


def _prefix_end(prefix: bytes) -> bytes:
    """Return the smallest key greater than every key starting with `prefix`."""
    trimmed = prefix.rstrip(b"\xff")
    return trimmed[:-1] + bytes([trimmed[-1] + 1]) if trimmed else b"\xff" * 64
