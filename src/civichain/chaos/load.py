"""The acknowledged load of a fault drill: notary anchors submitted through the nodes' APIs while nodes fail.

Acknowledged means a node's API answered `committed`: the transaction was in that node's fsynced SQLite file.
Every acknowledged transaction must afterwards be committed, at the same height, on every node
(`checks.assert_acknowledged_everywhere`). A transaction in flight when a node died, or sent to a node cut off
from the majority, may be lost; that is allowed, and the load reads the account's next nonce from the chain
and goes on.

Each account waits for its batch's commit before the next, so the load follows what the network can do: some
30-40 tx/s with the defaults on the 2-core machine while the network commits (seed 1 over 60 s: 2,163
acknowledged), none while it cannot.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from civichain.bench.load import anchor_txs, bench_signers, registration_txs, tx_hash
from civichain.chaos.checks import CheckFailed, wait_until
from civichain.client.sample import load_signer
from civichain.client.tx import Signer
from civichain.node.network import Network

ACCOUNTS = 8                 # bench accounts, two per node of four; each submits to its own node in nonce order
BATCH = 4                    # anchors an account sends before waiting for the last one's commit
EXPIRES_AT = 50_000          # a fixed height, so a transaction re-signed at the same nonce has the same bytes


def register_bench_accounts(network: Network, accounts: int = ACCOUNTS) -> list[tuple[Signer, int]]:
    """Have node 0's admin add `accounts` bench accounts; return each with the node it submits to.

    Raises `chaos.registration` when node 0 does not commit them within about 30 s.
    """
    admin = load_signer(network.root, f"{network.nodes[0].organisation}/admin")
    signers = bench_signers(network.nodes[0].organisation, accounts)
    with httpx.Client(base_url=network.nodes[0].api_url, timeout=40) as http:
        first = http.get(f"/v1/accounts/{admin.account}").json()["next_nonce"]
        txs = registration_txs(network.chain_id, admin, signers, first, EXPIRES_AT)
        for raw in txs[:-1]:
            reply = http.post("/v1/txs", json={"tx": raw.hex()})
            if reply.status_code != 202:
                raise CheckFailed("chaos.registration", where=f"{network.nodes[0].api_url}/v1/txs",
                                  got=f"HTTP {reply.status_code} {reply.text[:200]}", expected="202 accepted")
        reply = http.post("/v1/txs", params={"wait": "true", "timeout": "30"}, json={"tx": txs[-1].hex()})
        if reply.status_code != 200 or reply.json()["status"] != "committed":
            raise CheckFailed("chaos.registration", where=f"{network.nodes[0].api_url}/v1/txs?wait=true",
                              got=f"HTTP {reply.status_code} {reply.text[:200]}", expected="committed")
        for raw in txs:
            status = http.get(f"/v1/txs/{tx_hash(raw)}").json()["status"]
            if status != "committed":
                raise CheckFailed("chaos.registration", where=f"registration {tx_hash(raw)}", got=status,
                                  expected="committed")
    return [(signer, i % len(network.nodes)) for i, signer in enumerate(signers)]


class Load:
    """Notary anchors submitted in the background: each account to its own node, in nonce order.

    An account sends BATCH anchors with consecutive nonces, the last with `wait=true`, then asks its node for
    each one CheckTx accepted: those the API answers `committed` are acknowledged. Then it reads its next
    nonce from the chain and goes on from there, whatever happened. A transaction lost with a killed node
    leaves its nonce free; a transaction is a pure function of (account, nonce), so sending again never makes
    a second, different transaction with the same nonce.
    """

    def __init__(self, network: Network, accounts: list[tuple[Signer, int]], tag: str = "load") -> None:
        self.network, self.tag = network, tag
        self.acknowledged: dict[str, int] = {}      # tx id (hex) -> height the API gave
        self.outcomes: Counter = Counter()          # how each batch ended: "committed", or why not
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._submit_stream, args=(signer, node), daemon=True,
                                          name=f"load {signer.account}") for signer, node in accounts]

    def start(self) -> None:
        """Start one submitting thread per account."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 40) -> None:
        """Stop submitting and wait for the answers in flight. Raises `chaos.load_not_stopped`."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise CheckFailed("chaos.load_not_stopped", where="load threads", got=alive,
                              expected=f"every thread stopped within {timeout:.0f} s")

    def _submit_stream(self, signer: Signer, node: int) -> None:
        with httpx.Client(base_url=self.network.nodes[node].api_url, timeout=20) as http:
            while not self._stop.is_set():
                nonce = _chain_nonce(http, signer.account)
                if nonce is None:
                    self._stop.wait(0.5)
                    continue
                batch = anchor_txs(self.network.chain_id, signer, BATCH, nonce, EXPIRES_AT, tag=self.tag)
                outcome, accepted = _submit_batch(http, batch)
                committed = _committed(http, accepted)
                with self._lock:
                    self.outcomes[outcome] += 1
                    self.acknowledged.update(committed)
                if outcome != "committed":
                    self._stop.wait(0.5)   # the node is likely down or cut off: do not spin on it


def wait_for_acknowledgements(load: Load, count: int, timeout: float) -> None:
    """Wait until the load has `count` acknowledged transactions. Raises TimeoutError."""
    if not wait_until(lambda: len(load.acknowledged) >= count, timeout, interval=0.2):
        raise TimeoutError(f"only {len(load.acknowledged)} acknowledged after {timeout:.0f} s: {dict(load.outcomes)}")


def _submit_batch(http: httpx.Client, batch: list[bytes]) -> tuple[str, list[bytes]]:
    """Send `batch` in order, waiting for the last one's commit.

    Return ("committed" or what stopped it, the transactions CheckTx accepted).
    """
    accepted: list[bytes] = []
    for position, raw in enumerate(batch):
        last = position == len(batch) - 1
        try:
            reply = http.post("/v1/txs", params={"wait": "true", "timeout": "10"} if last else {},
                              json={"tx": raw.hex()})
            answer = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            return type(exc).__name__, accepted
        if reply.status_code not in (200, 202):
            error = answer.get("error", {})
            return f"{error.get('code', reply.status_code)}: {str(error.get('got'))[:40]}", accepted
        accepted.append(raw)
    return answer["status"], accepted      # "pending" when the last one was not committed within the wait


def _committed(http: httpx.Client, txs: list[bytes]) -> dict[str, int]:
    """Return tx id -> height for the transactions the node's API says are committed."""
    found = {}
    for raw in txs:
        tx_id = tx_hash(raw).lower()
        try:
            reply = http.get(f"/v1/txs/{tx_id}")
        except httpx.HTTPError:
            continue
        if reply.status_code == 200 and (answer := reply.json())["status"] == "committed":
            found[tx_id] = answer["height"]
    return found


def _chain_nonce(http: httpx.Client, account: str) -> int | None:
    try:
        return http.get(f"/v1/accounts/{account}").json()["next_nonce"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None
