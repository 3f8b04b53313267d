"""Start and stop the processes of a node: the app (ABCI), CometBFT, and the HTTP API.

Each runs as its own OS process with its output in `<home>/logs/`. The app starts first, and CometBFT only
once the app's ABCI port accepts connections, so CometBFT's handshake always finds the app.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from civichain.engine import find_cometbft
from civichain.node.config import ConfigError, NodeConfig, load_node_config

ROLES = ("app", "cometbft", "api")


class StartError(RuntimeError):
    """A process of the node did not come up."""


@dataclass
class NodeProcesses:
    """The processes of one node folder."""

    home: Path
    config: NodeConfig
    cometbft: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, home: Path, cometbft: Path | None = None) -> "NodeProcesses":
        config = load_node_config(home)
        return cls(home, config, cometbft or find_cometbft(config.cometbft.binary or None))

    def start(self, roles: tuple[str, ...] = ROLES, timeout: float = 30.0) -> None:
        """Start the given processes (in the safe order) and wait until each listens."""
        for role in ROLES:
            if role in roles:
                self.start_one(role, timeout=timeout)

    def start_one(self, role: str, timeout: float = 30.0) -> None:
        """Start one process and wait until it listens."""
        if self.running(role):
            return
        self._check_ports_free(role)
        logs = self.home / "logs"
        logs.mkdir(exist_ok=True)
        out = open(logs / f"{role}.log", "ab")
        env = {**os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}
        self.procs[role] = subprocess.Popen(self._command(role), stdout=out, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        out.close()
        host, port = self._listen_address(role)
        _wait_listening(host, port, timeout, self.procs[role], role, logs / f"{role}.log")

    def recover(self, timeout: float = 30.0) -> list[str]:
        """Bring a node whose app or CometBFT stopped back up; return the roles started.

        CometBFT cannot go on without its app: it should stop itself when the app's connection drops, but
        its shutdown can hang. So when the app is down, CometBFT is stopped too (SIGTERM, then SIGKILL after
        a grace period) and both start again, the app first; the handshake replays what the app lacks.
        """
        started = []
        if not self.running("app"):
            self.kill("cometbft", signal.SIGTERM, grace=5.0)
            self.start_one("app", timeout=timeout)
            started.append("app")
        for role in ("cometbft", "api"):
            if role in self.procs and not self.running(role):
                self.start_one(role, timeout=timeout)
                started.append(role)
        return started

    def running(self, role: str) -> bool:
        """Return True when the process is alive."""
        proc = self.procs.get(role)
        return proc is not None and proc.poll() is None

    def kill(self, role: str, sig: int = signal.SIGKILL, grace: float = 30.0) -> None:
        """Send `sig` to a process and the processes it started (SIGKILL by default) and reap it; SIGKILL them
        if it lingers past `grace` s.

        Each process leads its own process group (`start_new_session`), which its children (the app's
        signature workers) share, so the signal reaches them too.
        """
        proc = self.procs.get(role)
        if proc is None or proc.poll() is not None:
            return
        _signal_group(proc, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop every process: CometBFT first (so it does not see the app vanish mid-block), then the others."""
        for role in ("api", "cometbft", "app"):
            self.kill(role, signal.SIGTERM)

    def _command(self, role: str) -> list[str]:
        if role == "cometbft":
            return [str(self.cometbft), "start", "--home", str(self.config.resolve(self.home, self.config.cometbft.home))]
        return [sys.executable, "-m", "civichain", "node", role, "--home", str(self.home)]

    def _check_ports_free(self, role: str) -> None:
        """Refuse to start `role` when another process already listens on one of its configured ports.

        Otherwise the start would look successful (something answers on the port) while the new process
        fails to bind and exits. Raises `config.port_in_use` naming node.toml's section and key.
        """
        c = self.config
        ports = {
            "app": [("abci", "port", c.abci.host, c.abci.port)]
                   + ([("metrics", "port", c.metrics.host, c.metrics.port)] if c.metrics else []),
            "cometbft": [("cometbft", "rpc_port", c.cometbft.rpc_host, c.cometbft.rpc_port),
                         ("cometbft", "p2p_port", c.cometbft.p2p_host, c.cometbft.p2p_port)],
            "api": [("api", "port", c.api.host, c.api.port)],
        }[role]
        for section, key, host, port in ports:
            if not port_free(host, port):
                raise ConfigError("config.port_in_use", where=f"{self.home / 'node.toml'}: [{section}] {key}",
                                  got=f"{host}:{port}, where another process already listens",
                                  expected=f"a free port for the node's {role} (stop the other process or "
                                  "change the port here and in cometbft/config/config.toml)")

    def _listen_address(self, role: str) -> tuple[str, int]:
        c = self.config
        return {"app": (c.abci.host, c.abci.port), "cometbft": (c.cometbft.rpc_host, c.cometbft.rpc_port),
                "api": (c.api.host, c.api.port)}[role]


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send `sig` to the process group `proc` leads (it is still running, so its group id is its pid)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def port_free(host: str, port: int) -> bool:
    """Return True when nothing listens on host:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) != 0


def _wait_listening(host: str, port: int, timeout: float, proc: subprocess.Popen, role: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise StartError(f"{role} exited with code {proc.returncode} while starting; last output:\n{tail}")
        if not port_free(host, port):
            return
        time.sleep(0.1)
    _signal_group(proc, signal.SIGKILL)
    proc.wait(timeout=10)
    raise StartError(f"{role} did not listen on {host}:{port} within {timeout:.0f} s (log: {log})")
