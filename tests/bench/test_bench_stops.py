"""A benchmark stopped by SIGTERM (as `timeout` or a CI runner stops it) leaves no process of its network behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.network


def test_sigterm_during_a_network_bench_stops_every_node_it_started():
    bench = subprocess.Popen([sys.executable, "-m", "civichain", "bench", "network", "--validators", "2",
                              "--rate", "50", "--duration", "120", "--no-kvstore"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(started) < 4:    # two apps, two CometBFTs
            started = [p for p in psutil.Process(bench.pid).children(recursive=True) if _is_node(p)]
            time.sleep(0.2)
        assert len(started) >= 4, f"the bench did not start its network: {started}"
        time.sleep(2)
        bench.send_signal(signal.SIGTERM)
        bench.wait(timeout=90)
        psutil.wait_procs(started, timeout=30)
        alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"left running after SIGTERM: {[' '.join(p.cmdline()) for p in alive]}"
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()


def _is_node(process: psutil.Process) -> bool:
    """An app or CometBFT process (short-lived helpers, already zombies, are not)."""
    try:
        return "node app" in " ".join(process.cmdline()) or "cometbft" in process.name()
    except psutil.Error:
        return False
