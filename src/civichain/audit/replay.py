"""`civichain verify`: audit a chain file offline and independently.

1. CometBFT: every header hashes to its block id, every commit carries more than two thirds of the voting
   power of the validator set the header names, every header links to the previous one, the first validator
   set is the genesis one, and every block's transactions match its header's data hash.
2. civichain: re-execute every transaction from genesis in a fresh ledger (a throw-away SQLite file) and check
   that each app hash equals the one the next signed header carries and the one exported, and that the
   receipts are the exported ones.
3. Rebuild the transparency log and the state and compare every exported log node and state entry.

The first problem is raised as an AuditError whose `where` names the height and the object.
"""

from __future__ import annotations

import base64
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from civichain.audit.chainfile import ChainFile
from civichain.audit.signatures import SignaturePipeline
from civichain.audit.cometbft import AuditError, timestamp_of, header_hash, verify_chain_link, verify_commit
from civichain.crypto import sha256
from civichain.ledger import Ledger
from civichain.log import SHA256_TREE, root_of
from civichain.store import Store

Progress = Callable[[int, int], None]


@dataclass
class AuditReport:
    """What `verify` checked."""

    chain_id: str = ""
    heights: int = 0
    executed_heights: int = 0
    transactions: int = 0
    commit_signatures: int = 0
    log_size: int = 0
    log_nodes: int = 0
    state_entries: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def tx_per_second(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0


def verify_chain_file(path: Path, progress: Progress | None = None, *, workers: int | None = None) -> AuditReport:
    """Audit the chain file at `path`. Raises AuditError at the first problem.

    `workers` processes verify transaction signatures ahead of re-execution (default: one per core but one, at
    least 1 and at most 4; 0 verifies them in this process). The result is the same either way.
    """
    started = time.monotonic()
    chain = ChainFile(path)
    report = AuditReport(chain_id=chain.chain_id)
    app_state = _app_state(chain.genesis)
    with tempfile.TemporaryDirectory(prefix="civichain-verify-") as tmp:
        store = Store(Path(tmp) / "replay.db", durable=False, lookups=False)
        ledger = Ledger(store, latest_state_only=True)
        expected_app_hash = ledger.init_chain(chain.chain_id, app_state)
        previous = None
        genesis_validators = _genesis_validators(chain.genesis)
        with SignaturePipeline(ledger.admission, ledger.committed, workers=workers) as signatures:
            for (height, block, commit, validators), txs in signatures.ahead(chain.blocks(), _transactions):
                header = block["block"]["header"]
                where = f"height {height}"
                _check_engine(chain.chain_id, height, block, commit, validators, txs, previous, genesis_validators,
                              report)
                if bytes.fromhex(header["app_hash"]) != expected_app_hash:
                    raise AuditError("audit.app_hash", where=f"{where} header app_hash (state after height {height - 1})",
                                     got=header["app_hash"].lower(), expected=expected_app_hash.hex())
                previous = block
                if height > chain.app_height:
                    break
                seconds, nanos = timestamp_of(header["time"], f"{where} header time")
                outcome = ledger.finalize_block(height, seconds * 1_000_000_000 + nanos,
                                                bytes.fromhex(block["block_id"]["hash"]), txs)
                _check_app_block(chain, height, outcome)
                ledger.commit()
                expected_app_hash = outcome.app_hash
                report.executed_heights += 1
                report.transactions += len(txs)
                if progress:
                    progress(height, chain.height)
        report.heights = chain.height
        report.log_size = ledger.frontier.size
        report.log_nodes = _compare_log(chain, store, ledger.frontier.size)
        report.state_entries = _compare_state(chain, store)
        store.close()
    report.seconds = time.monotonic() - started
    return report


def _check_engine(chain_id: str, height: int, block: dict, commit: dict, validators: list[dict], txs: list[bytes],
                  previous: dict | None, genesis_validators: list[tuple[str, int]], report: AuditReport) -> None:
    header = block["block"]["header"]
    where = f"height {height}"
    if int(header["height"]) != height:
        raise AuditError("audit.height", where=f"{where} header", got=header["height"], expected=str(height))
    computed = header_hash(header)
    if computed.hex().upper() != block["block_id"]["hash"].upper():
        raise AuditError("audit.header_hash", where=f"{where} header", got=computed.hex(),
                         expected=f"the block id {block['block_id']['hash']}")
    verify_commit(chain_id, header, commit, validators)
    report.commit_signatures += sum(1 for s in commit["signatures"] if s.get("block_id_flag") == 2)
    if previous is None:
        members = sorted((v["pub_key"]["value"], int(v["voting_power"])) for v in validators)
        if members != sorted(genesis_validators):
            raise AuditError("audit.genesis_validators", where=f"{where} validator set", got=len(members),
                             expected="the validators of the genesis file")
    else:
        verify_chain_link(previous["block"]["header"], header, bytes.fromhex(previous["block_id"]["hash"]))
    data_hash = root_of([SHA256_TREE.leaf(sha256(tx)) for tx in txs])
    if data_hash.hex().upper() != header["data_hash"].upper():
        raise AuditError("audit.data_hash", where=f"{where} block data ({len(txs)} transactions)",
                         got=data_hash.hex(), expected=f"the header's data_hash {header['data_hash']}")


def _transactions(item: tuple[int, dict, dict, list[dict]]) -> list[bytes]:
    return [base64.b64decode(t) for t in item[1]["block"]["data"]["txs"] or []]


def _check_app_block(chain: ChainFile, height: int, outcome) -> None:
    exported = chain.app_block(height)
    where = f"height {height} app record"
    if exported is None:
        raise AuditError("audit.missing", where=where, got="nothing", expected="the exported app record")
    app_hash, log_size, log_root, state_root, receipts_root, receipts = exported
    record = outcome.batch.block
    for name, got, want in (("app_hash", app_hash, record.app_hash), ("log_size", log_size, record.log_size),
                            ("log_root", log_root, record.log_root), ("state_root", state_root, record.state_root),
                            ("receipts_root", receipts_root, record.receipts_root)):
        if got != want:
            raise AuditError(f"audit.{name}", where=f"{where} {name}", got=_show(got), expected=_show(want) + " (re-executed)")
    if receipts != record.receipts:
        index = _first_difference(receipts, record.receipts)
        raise AuditError("audit.receipts", where=f"{where} receipts (byte {index})", got="exported receipts",
                         expected="the receipts re-execution gives")


def _compare_log(chain: ChainFile, store: Store, size: int) -> int:
    rebuilt = store.log_nodes_within(size)
    count = 0
    for exported in chain.log_nodes():
        mine = next(rebuilt, None)
        if mine is None or mine[:2] != exported[:2] or mine[2] != exported[2]:
            level, index = exported[:2]
            raise AuditError("audit.log_node", where=f"log node (level {level}, index {index})",
                             got=exported[2].hex(), expected=mine[2].hex() if mine and mine[:2] == exported[:2] else
                             "no such node in the rebuilt log")
        count += 1
    extra = next(rebuilt, None)
    if extra is not None:
        raise AuditError("audit.log_node", where=f"log node (level {extra[0]}, index {extra[1]})", got="missing",
                         expected="every perfect node of the log")
    return count


def _compare_state(chain: ChainFile, store: Store) -> int:
    rebuilt = store.kv_items()
    count = 0
    for key, value in chain.state():
        mine = next(rebuilt, None)
        shown = key.decode(errors="replace")
        if mine is None or mine[0] != key:
            raise AuditError("audit.state_entry", where=f"state entry {shown!r}", got="present in the export",
                             expected="the keys the re-executed state holds" if mine is None else
                             f"{mine[0].decode(errors='replace')!r} next")
        if mine[1] != value:
            raise AuditError("audit.state_entry", where=f"state entry {shown!r}", got=value.hex()[:64],
                             expected=mine[1].hex()[:64] + " (re-executed)")
        count += 1
    extra = next(rebuilt, None)
    if extra is not None:
        raise AuditError("audit.state_entry", where=f"state entry {extra[0].decode(errors='replace')!r}",
                         got="missing from the export", expected="every entry of the state")
    return count


def _app_state(genesis: dict) -> bytes:
    import json
    return json.dumps(genesis.get("app_state", {}), ensure_ascii=False, separators=(",", ":")).encode()


def _genesis_validators(genesis: dict) -> list[tuple[str, int]]:
    return [(v["pub_key"]["value"], int(v["power"])) for v in genesis["validators"]]


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def _show(value) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)
