"""The supervisor brings a node back even when CometBFT hangs in its own shutdown after losing its app."""

from __future__ import annotations

import os
import signal
import textwrap

import pytest

from civichain.engine import find_cometbft
from civichain.node.network import free_base_port, init_network
from civichain.node.supervisor import NodeProcesses

pytestmark = pytest.mark.network


def test_recover_stops_a_hung_engine_and_restarts_app_then_engine(tmp_path):
    network = init_network(tmp_path / "net", validators=1, binary=find_cometbft(), base_port=free_base_port(1))
    home = network.nodes[0].home
    # A stand-in for a CometBFT that lost its app and hangs: it ignores SIGTERM and keeps its RPC port open.
    hung = tmp_path / "hung-cometbft"
    hung.write_text(textwrap.dedent("""\
        #!/usr/bin/env python3
        import os, signal, socket, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(os.environ["HUNG_PORT"]))); s.listen()
        while True: time.sleep(1)
        """))
    hung.chmod(0o755)
    node = NodeProcesses.of(home, cometbft=hung)
    node.extra_env["HUNG_PORT"] = str(node.config.cometbft.rpc_port)
    try:
        node.start(("app", "cometbft"))
        first_engine = node.procs["cometbft"].pid
        node.kill("app")
        started = node.recover(timeout=30)
        assert started == ["app", "cometbft"]
        assert node.running("app") and node.running("cometbft")
        assert node.procs["cometbft"].pid != first_engine
        with pytest.raises(ProcessLookupError):
            os.kill(first_engine, 0)
    finally:
        for role in ("cometbft", "app"):
            node.kill(role, signal.SIGKILL)


def test_a_port_already_in_use_is_refused_naming_the_key_and_nothing_starts(tmp_path):
    import socket
    import subprocess
    import sys

    network = init_network(tmp_path / "net", validators=1, binary=find_cometbft(), base_port=free_base_port(1))
    home = network.nodes[0].home
    node = NodeProcesses.of(home)
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", node.config.api.port))
    squatter.listen()
    try:
        run = subprocess.run([sys.executable, "-m", "civichain", "node", "start", "--home", str(home)],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "COLUMNS": "300"})
        assert run.returncode == 2, run.stdout + run.stderr
        assert "config.port_in_use" in run.stderr and "[api] port" in run.stderr, run.stderr
        assert f"127.0.0.1:{node.config.api.port}" in run.stderr
        # The processes started before the API was refused were stopped again.
        from civichain.node.supervisor import port_free
        assert port_free("127.0.0.1", node.config.abci.port)
        assert port_free("127.0.0.1", node.config.cometbft.rpc_port)
    finally:
        squatter.close()
