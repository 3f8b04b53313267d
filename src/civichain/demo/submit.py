"""Sending the demo data set in phases: sign each phase's steps with the senders' next nonces, send them to
every node through CometBFT's RPC, wait until all are committed, and count those that succeeded.

All transactions of one sender go to the same node in nonce order, so mempool admission never sees a gap;
senders are spread over the nodes. The codes of failed transactions are read back from the API.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable

import httpx

from civichain.bench.load import Observation, submit, wait_all_committed, watch_commits
from civichain.client.tx import Signer, build_body, sign
from civichain.demo.data import Step
from civichain.node.network import Network

Report = Callable[[str], None]


@dataclass
class PhaseResult:
    """What one phase did: transactions submitted, committed ok, failed by code, and how long it took."""

    name: str
    submitted: int = 0
    ok: int = 0
    failed: Counter = field(default_factory=Counter)
    seconds: float = 0.0


class PhaseSender:
    """Signs and sends the phases of one network, keeping each sender's next nonce between phases."""

    def __init__(self, network: Network, signer: Callable[[str], Signer], expires_at: int, report: Report) -> None:
        self.network, self.signer, self.expires, self.report = network, signer, expires_at, report
        self.api = network.nodes[0].api_url
        self.nonces: dict[str, int] = {}

    def send(self, name: str, steps: list[Step]) -> PhaseResult:
        """Sign, send and wait for one phase's steps, in their order; return and report what they did."""
        started = time.monotonic()
        by_sender: dict[str, list[bytes]] = defaultdict(list)
        with httpx.Client(timeout=30) as http:
            for step in steps:
                if step.sender not in self.nonces:
                    self.nonces[step.sender] = http.get(f"{self.api}/v1/accounts/{step.sender}").json()["next_nonce"]
                nonce = self.nonces[step.sender]
                self.nonces[step.sender] += 1
                body = build_body(self.network.chain_id, step.sender, nonce, self.expires, step.module, step.action,
                                  step.args)
                raw = sign(body, self.signer(step.sender), [self.signer(e) for e in step.endorsers])
                by_sender[step.sender].append(raw)
        streams: list[list[bytes]] = [[] for _ in self.network.nodes]
        for i, sender in enumerate(sorted(by_sender)):
            streams[i % len(streams)].extend(by_sender[sender])
        observation = asyncio.run(self._submit(streams, len(steps)))
        result = PhaseResult(name, len(steps), len(observation.ok), seconds=time.monotonic() - started)
        failed = [h for h in observation.committed if h not in observation.ok]
        if failed:
            result.failed = Counter(self._codes(failed))
        self.report(f"  {name}: {result.ok} of {result.submitted} committed ok in {result.seconds:.1f} s"
                    + (f"; failed: {dict(result.failed)}" if result.failed else ""))
        return result

    async def _submit(self, streams: list[list[bytes]], expected: int) -> Observation:
        observation = Observation()
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=10) as http:
            start = int((await http.get(f"{self.network.nodes[0].rpc_url}/status")).json()["result"]["sync_info"]["latest_block_height"])
        watcher = asyncio.create_task(watch_commits(self.network.nodes[0].rpc_url, observation, stop, start))
        await asyncio.gather(*(submit(node.rpc_url, txs, observation, max_in_flight=3000)
                               for node, txs in zip(self.network.nodes, streams) if txs))
        await wait_all_committed(observation, expected, timeout=max(120.0, expected / 50))
        stop.set()
        await watcher
        return observation

    def _codes(self, tx_ids: list[str]) -> list[str]:
        codes = []
        with httpx.Client(timeout=30) as http:
            for tx_id in tx_ids[:200]:
                answer = http.get(f"{self.api}/v1/txs/{tx_id.lower()}").json()
                codes.append(answer.get("receipt", {}).get("code", "unknown"))
        return codes
