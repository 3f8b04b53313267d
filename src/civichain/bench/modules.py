"""`civichain bench modules`, last part: the state behind the government modules, measured at scale.

Builds a state of N keys (default 1,000,000) in a real SQLite store, block by block, exactly as a node
writes it (state nodes, latest values, roots, stale-node lists, in one transaction per block), then measures
what issue 4 asks of it: the size of presence proofs, how many proofs a verifier checks per second, and the
disk the state takes, with every version retained and once versions older than the last are pruned (as a
node prunes beyond its retention window) and the file compacted. The keys and values are a city's records
in the modules' own layouts and encodings (`bench/records.py`: parcels, titles, mortgages, payments, DIDs,
notarized documents, accounts).

Proofs are measured as a citizen's verifier gets them: as bytes, each with the record's value. The
verification time covers decoding the proof from its bytes (with the canonical-form check) and verifying it
against the state root; the proofs are read cold from SQLite beforehand, untimed.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Callable

from civichain.bench.records import city_records
from civichain.codec import decode, encode
from civichain.ledger.committed import StateNodes
from civichain.state import (
    apply, decode_state_proof, encode_state_proof, prove, prunable_nodes, verify_state_proof,
)
from civichain.store import BlockRecord, CommitBatch, Store

Report = Callable[[str], None]


def run_state_bench(*, keys: int = 1_000_000, batch: int = 5_000, proofs: int = 3_000, seed: int = 7,
                    report: Report = print, root: Path | None = None) -> dict:
    """Build a state of `keys` keys in batches of `batch`, then measure proofs and disk. Return the figures."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="civichain-bench-state-") as tmp:
        path = (root or Path(tmp)) / "state.db"
        store = Store(path)
        nodes = StateNodes(store, capacity=400_000)
        root_key, root_hash, version = None, b"", 0
        written: list[bytes] = []
        records, value_bytes = city_records(rng), 0
        started, apply_seconds = time.monotonic(), 0.0
        while len(written) < keys:
            version += 1
            changes: dict[bytes, bytes] = {}
            while len(changes) < min(batch, keys - len(written)):
                changes.update(next(records))
            written.extend(changes)
            value_bytes += sum(map(len, changes.values()))
            t = time.perf_counter()
            update = apply(nodes, root_key, version, changes)
            apply_seconds += time.perf_counter() - t
            root_key, root_hash = update.root_key, update.root_hash
            store.commit_block(_batch(version, changes, update))
            nodes.committed(update.new_nodes)
            if version % 20 == 0:
                report(f"  {len(written):,} keys written ({time.monotonic() - started:.0f} s)")
        build_seconds = time.monotonic() - started
        store.close()
        disk_all = _disk(path)
        report(f"  built in {build_seconds:.0f} s; pruning every version but the last")
        store = Store(path)
        _keep_only(store, version)
        store.close()
        disk = _disk(path)
        store = Store(path, readonly=True)
        reader = StateNodes(store, capacity=10)   # cold reads: every proof reads its nodes from SQLite
        sample = rng.sample(written, min(proofs, len(written)))
        made = [(key, store.get(key), encode_state_proof(prove(reader, root_key, key))) for key in sample]
        sizes = sorted(len(proof) for _, _, proof in made)
        t = time.perf_counter()
        for key, value, proof in made:       # what a citizen's verifier does with an answer: decode, verify
            verify_state_proof(root_hash, key, value, decode_state_proof(proof))
        verify_seconds = time.perf_counter() - t
        store.close()
    return {
        "keys": len(written), "key_kinds": _kinds(written), "value_bytes_mean": round(value_bytes / len(written)),
        "blocks": version, "build_seconds": round(build_seconds, 1),
        "apply_us_per_key": round(apply_seconds / len(written) * 1e6, 1),
        "proof_bytes_mean": round(sum(sizes) / len(sizes)), "proof_bytes_max": sizes[-1],
        "proof_verifications_per_s": round(len(made) / verify_seconds),
        "proof_verification_is": "decode from bytes + verify against the root, one thread",
        "disk_mib_all_versions": round(disk_all / 2**20, 1),
        "disk_mib_latest_version": round(disk / 2**20, 1), "disk_bytes_per_key": round(disk / len(written)),
    }


def _kinds(keys: list[bytes]) -> dict[str, int]:
    """How many keys of each module record kind (`land/parcel`, `funds/disbursement`, ...)."""
    counts: dict[str, int] = {}
    for key in keys:
        kind = b"/".join(key.split(b"/", 2)[:2]).decode()
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def _keep_only(store: Store, version: int) -> None:
    """Prune every state version before `version`, as the node's pruning does, then compact the file."""
    records = store.stale_records(version)
    stale = [(v, key) for v, packed in records for key in decode(packed, list[bytes], where="stale nodes")]
    old = [v for v in store.state_versions() if v < version]
    store.prune_state(old, prunable_nodes(stale, version), stale_versions=[v for v, _ in records])
    store.compact()


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.parent.glob(path.name + "*"))


def _batch(version: int, changes: dict[bytes, bytes], update) -> CommitBatch:
    """A block's state writes, as the ledger's Commit writes them (the block record itself is a placeholder)."""
    record = BlockRecord(version, version, bytes(32), bytes(32), 0, bytes(32), update.root_hash, bytes(32), 0, b"",
                         b"")
    batch = CommitBatch(block=record, kv=dict(changes), state_nodes=list(update.new_nodes),
                        state_roots=[(version, update.root_key, update.root_hash)])
    if update.stale:
        batch.state_stale.append((version, encode(list(update.stale))))
    return batch
