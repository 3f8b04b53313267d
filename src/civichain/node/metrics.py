"""Prometheus metrics of a node's app process: what an operator graphs next to CometBFT's own metrics.

The app serves them on `[metrics]` host:port of node.toml (`/metrics`, Prometheus text format). Names start
with `civichain_`; CometBFT's start with `cometbft_` on its own port. The API process serves its request
latencies on its own `/metrics` (see `api/metrics.py`).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from civichain.abci.app import AbciApplication
from civichain.abci.messages import abci
from civichain.crypto.workers import VerifierPool
from civichain.ledger import Ledger

BLOCK_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BLOCK_TXS = (0, 1, 10, 100, 500, 1000, 2000, 5000, 10000)


class AppMetrics:
    """The app's metrics, in their own registry (so tests can make several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.height = Gauge("civichain_height", "Last height the app committed.", registry=r)
        self.last_block_txs = Gauge("civichain_last_block_txs", "Transactions in the last committed block.",
                                   registry=r)
        self.transactions = Counter("civichain_transactions", "Transactions executed in committed blocks, by "
                                    "receipt code ('ok' or the error code).", ["code"], registry=r)
        self.checks = Counter("civichain_checktx", "CheckTx requests answered, by kind (new or recheck).",
                              ["kind"], registry=r)
        self.rejections = Counter("civichain_admission_rejections", "Transactions refused at CheckTx, by code.",
                                  ["code"], registry=r)
        self.proposals_rejected = Counter("civichain_proposals_rejected", "Proposals this node voted to reject "
                                          "(ProcessProposal).", registry=r)
        self.finalize_seconds = Histogram("civichain_block_execution_seconds", "FinalizeBlock: executing a "
                                          "block and computing its app hash.", buckets=BLOCK_SECONDS, registry=r)
        self.commit_seconds = Histogram("civichain_block_commit_seconds", "Commit: writing a block durably.",
                                        buckets=BLOCK_SECONDS, registry=r)
        self.block_txs = Histogram("civichain_block_transactions", "Transactions per block.", buckets=BLOCK_TXS,
                                   registry=r)

    def serve(self, host: str, port: int) -> None:
        """Serve `/metrics` on host:port from a background thread."""
        start_http_server(port, addr=host, registry=self.registry)


class InstrumentedApplication(AbciApplication):
    """The ABCI application, counting and timing what it does into `metrics`."""

    def __init__(self, ledger: Ledger, metrics: AppMetrics, verifiers: VerifierPool | None = None) -> None:
        super().__init__(ledger, verifiers)
        self.metrics = metrics
        self._codes: dict[str, int] = {}   # receipt codes of the finalized block, counted once it commits
        metrics.height.set(ledger.height)
        # The two CheckTx counters, looked up once: CheckTx runs for every transaction on every node.
        self._checks_of_kind = {abci.RECHECK: metrics.checks.labels("recheck"), abci.NEW: metrics.checks.labels("new")}

    def check_tx(self, request):
        response = super().check_tx(request)
        self._checks_of_kind[request.type].inc()
        if response.code != 0:
            self.metrics.rejections.labels(response.log.split(":", 1)[0]).inc()
        return response

    def process_proposal(self, request):
        response = super().process_proposal(request)
        if response.status != response.ACCEPT:
            self.metrics.proposals_rejected.inc()
        return response

    def finalize_block(self, request):
        started = time.perf_counter()
        response = super().finalize_block(request)
        self.metrics.finalize_seconds.observe(time.perf_counter() - started)
        codes: dict[str, int] = {}
        for result in response.tx_results:
            code = "ok" if result.code == 0 else result.log.split(":", 1)[0]
            codes[code] = codes.get(code, 0) + 1
        self._codes = codes
        return response

    def commit(self, request):
        started = time.perf_counter()
        response = super().commit(request)
        m = self.metrics
        m.commit_seconds.observe(time.perf_counter() - started)
        m.height.set(self.ledger.height)
        m.last_block_txs.set(self.ledger.last_block_txs)
        m.block_txs.observe(self.ledger.last_block_txs)
        for code, count in self._codes.items():
            m.transactions.labels(code).inc(count)
        self._codes = {}
        return response
