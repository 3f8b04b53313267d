"""The network folder: `civichain init` writes one, `civichain up` runs it.

```
net/
  network.toml            chain id and every node's folder and addresses
  genesis.json            CometBFT genesis, with civichain's application genesis as app_state
  keys/<account>.key      passphrase-encrypted account keys (keys/PASSPHRASE holds the dev passphrase)
  node0/node.toml         one node's configuration
  node0/cometbft/         CometBFT's home: config.toml, genesis.json, node and validator keys, block store
  node0/data/             civichain's SQLite database
```
"""

from __future__ import annotations

import json
import secrets
import socket
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import tomli_w

from civichain.crypto import ED25519_SHA256, KeyFile, encrypt_key
from civichain.engine.files import genesis_document, init_engine_home, write_engine_config
from civichain.node.config import ConfigError
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis

# The departments of the sample network, in the order validators are given to them.
DEPARTMENTS = [
    ("land-bureau", "自然资源局", "Land and Resources Bureau"),
    ("finance-bureau", "财政局", "Finance Bureau"),
    ("civil-affairs", "民政局", "Civil Affairs Bureau"),
    ("notary-office", "公证处", "Notary Office"),
    ("tax-bureau", "税务局", "Tax Bureau"),
    ("court", "人民法院", "People's Court"),
    ("public-security", "公安局", "Public Security Bureau"),
]
PORTS_PER_NODE = 10


@dataclass(frozen=True, slots=True)
class NodeEntry:
    """One node of a network folder, as network.toml lists it."""

    name: str
    organisation: str
    home: Path
    api_url: str
    rpc_url: str


@dataclass(frozen=True, slots=True)
class Network:
    """A network folder."""

    root: Path
    chain_id: str
    nodes: list[NodeEntry]


def init_network(root: Path, *, validators: int, binary: Path, chain_id: str | None = None,
                 hosts: list[str] | None = None, base_port: int = 26600, passphrase: str | None = None,
                 timeout_commit: str = "300ms") -> Network:
    """Write a network folder of `validators` nodes. Raises `config.exists` when `root` is not empty."""
    if root.exists() and any(root.iterdir()):
        raise ConfigError("config.exists", where=str(root), got="a folder that is not empty",
                          expected="a new or empty folder for the network")
    if not 1 <= validators <= 64:
        raise ConfigError("config.invalid", where="--validators", got=validators, expected="from 1 to 64")
    hosts = hosts or ["127.0.0.1"]
    chain_id = chain_id or f"civichain-{secrets.token_hex(3)}"
    passphrase = passphrase or secrets.token_urlsafe(18)
    root.mkdir(parents=True, exist_ok=True)
    (root / "keys").mkdir(mode=0o700)
    (root / "keys" / "PASSPHRASE").write_text(passphrase + "\n")
    (root / "keys" / "PASSPHRASE").chmod(0o600)

    plans = [_plan_node(root, i, hosts[i % len(hosts)], base_port) for i in range(validators)]
    engine_keys = [init_engine_home(binary, plan["cometbft_home"]) for plan in plans]
    organisations, accounts = [], []
    for i, (plan, keys) in enumerate(zip(plans, engine_keys)):
        org_id, name_zh, name_en = _department(i)
        plan["organisation"] = org_id
        organisations.append(OrganisationGenesis(org_id, name_zh, name_en, keys.validator_address))
        public_key = _new_account_key(root, f"{org_id}/admin", passphrase)
        accounts.append(AccountGenesis(f"{org_id}/admin", org_id, public_key.hex(), ("admin", "notary")))
    app_genesis = AppGenesis(suite=ED25519_SHA256.name, organisations=tuple(organisations), accounts=tuple(accounts))
    genesis = genesis_document(
        chain_id, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000000Z"),
        [(plan["name"], keys, 10) for plan, keys in zip(plans, engine_keys)],
        json.loads(msgspec.json.encode(app_genesis)), max_block_bytes=4_194_304,
    )
    genesis_text = json.dumps(genesis, indent=2, ensure_ascii=False) + "\n"
    (root / "genesis.json").write_text(genesis_text, encoding="utf-8")
    peers = [f"{keys.node_id}@{plan['host']}:{plan['ports']['p2p']}" for plan, keys in zip(plans, engine_keys)]
    for i, plan in enumerate(plans):
        _write_node(plan, genesis_text, [p for j, p in enumerate(peers) if j != i], timeout_commit)
    network = Network(root, chain_id, [_entry(plan) for plan in plans])
    _write_network_file(network)
    return network


def free_base_port(nodes: int, start: int = 31000, stop: int = 62000) -> int:
    """Return a base port from which `nodes` × 10 ports are all free on 127.0.0.1 (for tests and benchmarks)."""
    for base in range(start, stop, 200):
        if all(_port_free(base + i) for i in range(nodes * PORTS_PER_NODE)):
            return base
    raise ConfigError("config.no_free_ports", where="127.0.0.1", got=f"ports {start}-{stop} in use",
                      expected=f"{nodes * PORTS_PER_NODE} consecutive free ports")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def load_network(root: Path) -> Network:
    """Read `<root>/network.toml`. Raises `config.missing` or `config.invalid`."""
    path = root / "network.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        nodes = [NodeEntry(n["name"], n["organisation"], root / n["home"], n["api_url"], n["rpc_url"])
                 for n in raw["nodes"]]
        return Network(root, raw["chain_id"], nodes)
    except OSError as exc:
        raise ConfigError("config.missing", where=str(path), got=exc.strerror,
                          expected="a network folder made by `civichain init`") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ConfigError("config.invalid", where=str(path), got=str(exc),
                          expected="chain_id and [[nodes]] with name, organisation, home, api_url, rpc_url") from None


def _department(i: int) -> tuple[str, str, str]:
    if i < len(DEPARTMENTS):
        return DEPARTMENTS[i]
    return (f"department-{i}", f"部门{i}", f"Department {i}")


def _plan_node(root: Path, i: int, host: str, base_port: int) -> dict:
    name = f"node{i}"
    port = base_port + PORTS_PER_NODE * i
    home = root / name
    return {
        "name": name, "home": home, "host": host, "cometbft_home": home / "cometbft",
        "ports": {"p2p": port, "rpc": port + 1, "abci": port + 2, "api": port + 3, "prometheus": port + 4},
    }


def _write_node(plan: dict, genesis_text: str, peers: list[str], timeout_commit: str) -> None:
    ports, host = plan["ports"], plan["host"]
    (plan["cometbft_home"] / "config" / "genesis.json").write_text(genesis_text, encoding="utf-8")
    write_engine_config(
        plan["cometbft_home"], moniker=plan["name"], abci_address=f"tcp://127.0.0.1:{ports['abci']}",
        rpc_laddr=f"tcp://127.0.0.1:{ports['rpc']}", p2p_laddr=f"tcp://{host}:{ports['p2p']}",
        persistent_peers=peers, prometheus_laddr=f"127.0.0.1:{ports['prometheus']}", timeout_commit=timeout_commit,
    )
    node_toml = {
        "node": {"name": plan["name"], "organisation": plan["organisation"]},
        "abci": {"host": "127.0.0.1", "port": ports["abci"]},
        "api": {"host": "127.0.0.1", "port": ports["api"]},
        "cometbft": {"home": "cometbft", "rpc_host": "127.0.0.1", "rpc_port": ports["rpc"],
                     "p2p_host": host, "p2p_port": ports["p2p"]},
        "storage": {"path": "data/civichain.db", "state_keep_versions": 1000},
    }
    (plan["home"] / "node.toml").write_text(tomli_w.dumps(node_toml))


def _entry(plan: dict) -> NodeEntry:
    return NodeEntry(plan["name"], plan["organisation"], plan["home"],
                     f"http://127.0.0.1:{plan['ports']['api']}", f"http://127.0.0.1:{plan['ports']['rpc']}")


def _write_network_file(network: Network) -> None:
    document = {
        "chain_id": network.chain_id,
        "nodes": [{"name": n.name, "organisation": n.organisation, "home": n.home.name, "api_url": n.api_url,
                   "rpc_url": n.rpc_url} for n in network.nodes],
    }
    (network.root / "network.toml").write_text(tomli_w.dumps(document))


def _new_account_key(root: Path, account: str, passphrase: str) -> bytes:
    suite = ED25519_SHA256
    private = suite.generate_private_key()
    public = suite.public_key(private)
    data = encrypt_key(KeyFile(suite.name, private, public, account), passphrase)
    path = root / "keys" / (account.replace("/", ".") + ".key")
    path.write_text(data.decode())
    path.chmod(0o600)
    return public
