"""Load for benchmarks: registered bench accounts, pre-signed transactions, paced submission, commit watching.

Transactions are submitted with CometBFT's `broadcast_tx_async` in JSON-RPC batches. All transactions of one
account go to the same node, in nonce order, so mempool admission (which needs each account's next nonce)
never sees a gap. Commits are observed on one node: its websocket announces each new block, then its
`/block_results` (or `/block`) are read; a transaction's latency is the time from its submission to the moment
its block was seen committed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import statistics
import time
from dataclasses import dataclass, field

import httpx
import websockets

from civichain.client.tx import Signer, build_body, sign
from civichain.codec import decode
from civichain.crypto import ED25519_SHA256
from civichain.modules.notary import Anchor
from civichain.modules.registry import AddAccount
from civichain.types import Receipt


def bench_signers(organisation: str, count: int) -> list[Signer]:
    """Return `count` deterministic bench accounts of `organisation`."""
    return [Signer(f"{organisation}/bench{i}", hashlib.sha256(f"bench {organisation} {i}".encode()).digest(),
                   ED25519_SHA256) for i in range(count)]


def registration_txs(chain_id: str, admin: Signer, accounts: list[Signer], first_nonce: int, expires_at: int) -> list[bytes]:
    """Return the admin's transactions adding `accounts` with the notary role."""
    return [sign(build_body(chain_id, admin.account, first_nonce + i, expires_at, "registry", "add_account",
                            AddAccount(id=a.account, public_key=a.public_key, roles=("notary",))), admin)
            for i, a in enumerate(accounts)]


def anchor_txs(chain_id: str, signer: Signer, count: int, first_nonce: int, expires_at: int, tag: str = "") -> list[bytes]:
    """Return `count` notary anchors by `signer` with consecutive nonces."""
    txs = []
    for i in range(count):
        nonce = first_nonce + i
        digest = hashlib.sha256(f"{tag} {signer.account} {nonce}".encode()).digest()
        body = build_body(chain_id, signer.account, nonce, expires_at, "notary", "anchor",
                          Anchor(digest=digest, metadata={"bench": "1"}, title=f"Bench document {nonce}"))
        txs.append(sign(body, signer))
    return txs


def interleave(streams: list[list[bytes]]) -> list[bytes]:
    """Merge per-account streams round-robin, keeping each stream's order."""
    merged, longest = [], max((len(s) for s in streams), default=0)
    for i in range(longest):
        merged.extend(s[i] for s in streams if i < len(s))
    return merged


def tx_hash(raw: bytes) -> str:
    """CometBFT's hash of a transaction (upper-case hex SHA-256), which is also civichain's tx id."""
    return hashlib.sha256(raw).hexdigest().upper()


@dataclass
class Observation:
    """What a load run saw."""

    submitted: dict[str, float] = field(default_factory=dict)      # tx hash -> submit time
    committed: dict[str, float] = field(default_factory=dict)      # tx hash -> time its block was seen
    ok: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)                 # tx hashes a node refused at submission
    refused_at_submit: int = 0
    heights: list[tuple[int, float, int]] = field(default_factory=list)   # (height, seen at, txs)

    def latencies(self) -> list[float]:
        return sorted(self.committed[h] - self.submitted[h] for h in self.committed if h in self.submitted)

    def percentile(self, p: float) -> float:
        values = self.latencies()
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    def throughput(self) -> float:
        """Committed OK transactions per second, over the span from first submission to last commit."""
        if not self.ok:
            return 0.0
        start = min(self.submitted.values())
        end = max(self.committed[h] for h in self.ok)
        return len(self.ok) / max(end - start, 1e-9)


async def submit(rpc_url: str, txs: list[bytes], observation: Observation, rate: float | None = None,
                 batch: int = 200, max_in_flight: int = 4000) -> None:
    """Send `txs` in order to one node, `batch` per JSON-RPC call, paced at `rate` tx/s when given.

    Like a well-behaved client, it keeps at most `max_in_flight` of its transactions submitted and not yet
    committed: past that it waits, so an overloaded network shows as lower throughput, not as a flooded
    mempool refusing transactions.
    """
    started = time.monotonic()
    mine: list[str] = []
    oldest = 0
    async with httpx.AsyncClient(timeout=60) as http:
        for offset in range(0, len(txs), batch):
            chunk = txs[offset:offset + batch]
            if rate:
                due = started + offset / rate
                if (delay := due - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
            # Transactions commit roughly in submission order: the oldest not yet committed marks the window.
            while True:
                while oldest < len(mine) and (mine[oldest] in observation.committed or mine[oldest] in observation.refused):
                    oldest += 1
                if len(mine) - oldest <= max_in_flight:
                    break
                await asyncio.sleep(0.02)
            mine.extend(tx_hash(raw) for raw in chunk)
            payload = [{"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_async",
                        "params": {"tx": base64.b64encode(raw).decode()}} for i, raw in enumerate(chunk)]
            now = time.time()
            for raw in chunk:
                observation.submitted[tx_hash(raw)] = now
            replies = (await http.post(rpc_url, json=payload)).json()
            if isinstance(replies, dict) and len(payload) == 1 and "result" in replies:
                replies = [replies]          # CometBFT answers a batch of one with a single object
            if isinstance(replies, dict):   # an error about the whole batch
                raise RuntimeError(f"{rpc_url} refused a batch: {str(replies.get('error'))[:300]}")
            for raw, reply in zip(chunk, sorted(replies, key=lambda r: r.get("id", 0))):
                if "error" in reply or reply["result"]["code"] != 0:
                    observation.refused.add(tx_hash(raw))
                    observation.refused_at_submit += 1


async def watch_commits(rpc_url: str, observation: Observation, stop: asyncio.Event, start_height: int,
                        receipts: bool = True) -> None:
    """Record, for every new block, when it was seen and which of its transactions succeeded.

    New blocks are pushed by CometBFT over its websocket (NewBlockHeader events, sent once a block is executed
    and committed), so the watcher costs neither the load nor the node CPU between blocks; a block whose event
    was missed is caught up with the next one. With `receipts` (a civichain node), only the block results are
    read: each result's data is the transaction's receipt, which names the tx id. Otherwise (the kvstore) the
    block's transactions are hashed.
    """
    height = start_height
    ws_url = rpc_url.replace("http://", "ws://", 1) + "/websocket"
    subscribe = {"jsonrpc": "2.0", "id": 1, "method": "subscribe", "params": {"query": "tm.event='NewBlockHeader'"}}
    async with httpx.AsyncClient(timeout=30) as http, websockets.connect(ws_url, max_size=1 << 24) as ws:
        await ws.send(json.dumps(subscribe))
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.25))
            except TimeoutError:
                continue
            if "error" in message:
                raise RuntimeError(f"{ws_url}: {str(message['error'])[:300]}")
            header = ((message.get("result") or {}).get("data") or {}).get("value", {}).get("header")
            if header is None:
                continue          # the answer to the subscription itself
            latest, seen = int(header["height"]), time.time()
            for h in range(height + 1, latest + 1):
                if receipts:
                    outcomes = await _receipt_outcomes(http, rpc_url, h)
                else:
                    block = (await http.get(f"{rpc_url}/block", params={"height": str(h)})).json()["result"]["block"]
                    raw_txs = [base64.b64decode(t) for t in block["data"]["txs"] or []]
                    codes = await _result_codes(http, rpc_url, h) if raw_txs else []
                    outcomes = [(tx_hash(raw), code) for raw, code in zip(raw_txs, codes)]
                for digest, code in outcomes:
                    observation.committed[digest] = seen
                    if code == 0:
                        observation.ok.add(digest)
                observation.heights.append((h, seen, len(outcomes)))
            height = max(height, latest)


async def _receipt_outcomes(http: httpx.AsyncClient, rpc_url: str, height: int) -> list[tuple[str, int]]:
    """Return (tx id, code) of a civichain block's transactions, from their receipts."""
    results = await _results(http, rpc_url, height)
    return [(decode(base64.b64decode(r["data"]), Receipt).tx_id.hex().upper(), r.get("code", 0)) for r in results]


async def _result_codes(http: httpx.AsyncClient, rpc_url: str, height: int) -> list[int]:
    """Return the result codes of a block's transactions."""
    return [r.get("code", 0) for r in await _results(http, rpc_url, height)]


async def _results(http: httpx.AsyncClient, rpc_url: str, height: int) -> list[dict]:
    """Return a block's transaction results (retrying while CometBFT is still executing the block)."""
    # The block store is written before FinalizeBlock runs; its results follow once the block is executed.
    for _ in range(1200):
        reply = (await http.get(f"{rpc_url}/block_results", params={"height": str(height)})).json()
        if "result" in reply:
            return reply["result"]["txs_results"] or []
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{rpc_url}: no results for height {height}: {str(reply.get('error'))[:200]}")


async def wait_all_committed(observation: Observation, expected: int, timeout: float) -> None:
    """Wait until `expected` transactions are seen committed, or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while len(observation.committed) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def summary(observation: Observation) -> dict:
    """Return the figures of a run."""
    latencies = observation.latencies()
    return {
        "submitted": len(observation.submitted),
        "refused_at_submit": observation.refused_at_submit,
        "committed": len(observation.committed),
        "committed_ok": len(observation.ok),
        "tx_per_s": round(observation.throughput(), 1),
        "latency_p50_s": round(observation.percentile(50), 3) if latencies else None,
        "latency_p99_s": round(observation.percentile(99), 3) if latencies else None,
        "mean_block_txs": round(statistics.mean(n for _, _, n in observation.heights if n) if any(
            n for _, _, n in observation.heights) else 0, 1),
    }
