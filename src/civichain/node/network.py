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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import tomli_w

from civichain.crypto import ED25519_SHA256, KeyFile, encrypt_key
from civichain.engine.files import EngineKeys, genesis_document, init_engine_home, show_node_id, write_engine_config
from civichain.node.config import ConfigError, load_node_config
from civichain.types import AccountGenesis, AppGenesis, OrganisationGenesis, ValidatorGenesis

# The departments of the sample network, in the order validators are given to them.
DEPARTMENTS = [
    ("land-bureau", "自然资源局", "Land and Resources Bureau"),
    ("finance-bureau", "财政局", "Finance Bureau"),
    ("civil-affairs", "民政局", "Civil Affairs Bureau"),
    ("notary-office", "公证处", "Notary Office"),
    ("tax-bureau", "税务局", "Tax Bureau"),
    ("court", "人民法院", "People's Court"),
    ("public-security", "公安局", "Public Security Bureau"),
    ("housing-bureau", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("education-bureau", "教育局", "Education Bureau"),
    ("health-commission", "卫生健康委员会", "Health Commission"),
]
PORTS_PER_NODE = 10
VALIDATOR_POWER = 10    # every genesis validator's voting power


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
                 timeout_commit: str = "300ms", organisations: int | None = None) -> Network:
    """Write a network folder of `validators` nodes. Raises `config.exists` when `root` is not empty.

    The genesis names `organisations` departments (default: one per validator); the first `validators` of
    them each run a validator node, the others take part in governance and keep records without one.
    """
    if root.exists() and any(root.iterdir()):
        raise ConfigError("config.exists", where=str(root), got="a folder that is not empty",
                          expected="a new or empty folder for the network")
    if not 1 <= validators <= 64:
        raise ConfigError("config.invalid", where="--validators", got=validators, expected="from 1 to 64")
    organisations_count = validators if organisations is None else organisations
    if not validators <= organisations_count <= 64:
        raise ConfigError("config.invalid", where="--organisations", got=organisations_count,
                          expected=f"from {validators} (one per validator) to 64")
    hosts = hosts or ["127.0.0.1"]
    chain_id = chain_id or f"civichain-{secrets.token_hex(3)}"
    passphrase = passphrase or secrets.token_urlsafe(18)
    root.mkdir(parents=True, exist_ok=True)
    (root / "keys").mkdir(mode=0o700)
    (root / "keys" / "PASSPHRASE").write_text(passphrase + "\n")
    (root / "keys" / "PASSPHRASE").chmod(0o600)

    plans = [_plan_node(root, i, hosts[i % len(hosts)], base_port) for i in range(validators)]
    engine_keys = [init_engine_home(binary, plan["cometbft_home"]) for plan in plans]
    organisations, accounts, validator_list = [], [], []
    for i, (plan, keys) in enumerate(zip(plans, engine_keys)):
        org_id, name_zh, name_en = _department(i)
        plan["organisation"] = org_id
        organisations.append(OrganisationGenesis(org_id, name_zh, name_en))
        validator_list.append(ValidatorGenesis(keys.validator_key_bytes.hex(), VALIDATOR_POWER, org_id, keys.node_id))
        public_key = _new_account_key(root, f"{org_id}/admin", passphrase)
        accounts.append(AccountGenesis(f"{org_id}/admin", org_id, public_key.hex(), ("admin", "notary")))
    for i in range(validators, organisations_count):
        org_id, name_zh, name_en = _department(i)
        organisations.append(OrganisationGenesis(org_id, name_zh, name_en))
        public_key = _new_account_key(root, f"{org_id}/admin", passphrase)
        accounts.append(AccountGenesis(f"{org_id}/admin", org_id, public_key.hex(), ("admin", "notary")))
    # The application genesis names the same validators as CometBFT's (the app checks it at InitChain),
    # with the organisation running each and its node id, which the peer filter admits.
    app_genesis = AppGenesis(suite=ED25519_SHA256.name, organisations=tuple(organisations), accounts=tuple(accounts),
                             validators=tuple(validator_list))
    genesis = genesis_document(
        chain_id, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000000Z"),
        [(plan["name"], keys, VALIDATOR_POWER) for plan, keys in zip(plans, engine_keys)],
        json.loads(msgspec.json.encode(app_genesis)), max_block_bytes=4_194_304,
    )
    genesis_text = json.dumps(genesis, indent=2, ensure_ascii=False) + "\n"
    (root / "genesis.json").write_text(genesis_text, encoding="utf-8")
    peers = [f"{keys.node_id}@{plan['host']}:{plan['ports']['p2p']}" for plan, keys in zip(plans, engine_keys)]
    hosts_used = Counter(plan["host"] for plan in plans)
    for i, plan in enumerate(plans):
        _write_node(plan, genesis_text, [p for j, p in enumerate(peers) if j != i], timeout_commit,
                    signature_workers=_workers_for(hosts_used[plan["host"]]))
    network = Network(root, chain_id, [_entry(plan) for plan in plans])
    _write_network_file(network)
    return network


def add_node(root: Path, *, binary: Path, operator: str, host: str = "127.0.0.1", base_port: int | None = None,
             timeout_commit: str = "300ms") -> tuple[NodeEntry, EngineKeys]:
    """Add a node folder to a network (a future validator or an observer); return it and its engine keys.

    The node gets fresh CometBFT keys, the network's genesis and every existing node as a persistent peer.
    The network admits it only once governance has admitted its node id (`add_validator` with its validator
    key, or `admit_observer`); until then the peers refuse it and it cannot sync. Its API and app run like
    any node's; `operator` names who runs it (an organisation id or an observer's name).
    """
    network = load_network(root)
    names = {n.name for n in network.nodes}
    index = len(network.nodes)
    while f"node{index}" in names:
        index += 1
    plan = _plan_node(root, index, host, base_port if base_port is not None else free_base_port(1))
    plan["organisation"] = operator
    keys = init_engine_home(binary, plan["cometbft_home"])
    peers = [f"{node_id_of(binary, n.home)}@{_p2p_address(n.home)}" for n in network.nodes]
    sharing = sum(1 for n in network.nodes if _p2p_address(n.home).rpartition(":")[0] == host)
    _write_node(plan, (root / "genesis.json").read_text(encoding="utf-8"), peers, timeout_commit,
                signature_workers=_workers_for(1 + sharing))
    entry = _entry(plan)
    _write_network_file(Network(root, network.chain_id, [*network.nodes, entry]))
    return entry, keys


def join_node(home: Path, *, binary: Path, name: str, genesis_text: str, peers: list[str],
              host: str = "127.0.0.1", base_port: int | None = None, timeout_commit: str = "300ms") -> EngineKeys:
    """Write a stand-alone node folder at `home` that follows an existing network: an observer's node.

    It gets fresh CometBFT keys, the network's genesis and `peers` (`id@host:port`) as persistent peers. Its
    validator key is in no validator set, so it never votes; it block-syncs, CometBFT checks every commit
    and the app re-executes every block (CometBFT halts it if an app hash ever differs from the one the
    validators signed). The peers refuse it until governance admits its node id (`admit_observer`).
    Raises `config.exists` when `home` is not empty, `config.invalid` for a malformed genesis or peer.
    """
    if home.exists() and any(home.iterdir()):
        raise ConfigError("config.exists", where=str(home), got="a folder that is not empty",
                          expected="a new or empty folder for the node")
    try:
        chain_id = json.loads(genesis_text)["chain_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError("config.invalid", where="genesis", got=str(exc)[:200],
                          expected="a CometBFT genesis document with a chain_id") from None
    for peer in peers:
        node_id, _, address = peer.partition("@")
        if len(node_id) != 40 or not all(c in "0123456789abcdef" for c in node_id) or ":" not in address:
            raise ConfigError("config.invalid", where="peers", got=peer, expected="node id (40 lower-case hex "
                              "digits) @ host:port, e.g. 3f2a…@10.0.1.5:26600")
    plan = _plan_node(home.parent, 0, host, base_port if base_port is not None else free_base_port(1))
    plan.update({"name": name, "home": home, "cometbft_home": home / "cometbft", "organisation": name})
    home.mkdir(parents=True, exist_ok=True)
    keys = init_engine_home(binary, plan["cometbft_home"])
    _write_node(plan, genesis_text, peers, timeout_commit, signature_workers=_workers_for(1))
    (home / "network.toml").write_text(tomli_w.dumps({"chain_id": chain_id, "nodes": [
        {"name": name, "organisation": name, "home": ".", "api_url": _entry(plan).api_url,
         "rpc_url": _entry(plan).rpc_url}]}))
    return keys


def node_id_of(binary: Path, home: Path) -> str:
    """Return the CometBFT node id of the node folder `home`."""
    config = load_node_config(home)
    return show_node_id(binary, config.resolve(home, config.cometbft.home))


def _p2p_address(home: Path) -> str:
    config = load_node_config(home)
    return f"{config.cometbft.p2p_host}:{config.cometbft.p2p_port}"


def free_base_port(nodes: int, start: int = 20000, stop: int = 32700) -> int:
    """Return a base port from which `nodes` × 10 ports are all free on 127.0.0.1 (for tests and benchmarks).

    The default range lies below Linux's ephemeral ports (32768-60999), which outgoing connections take at
    random: a listening port there can be taken by some client's connection between this check and the
    bind. The search starts at a random block of the range, so that runs started at the same moment (tests
    in parallel) rarely pick the same ports.
    """
    step = 200
    bases = list(range(start, stop - nodes * PORTS_PER_NODE, step))
    first = secrets.randbelow(len(bases)) if bases else 0
    for base in bases[first:] + bases[:first]:
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
        "ports": {"p2p": port, "rpc": port + 1, "abci": port + 2, "api": port + 3, "prometheus": port + 4,
                  "metrics": port + 5},
    }


def _workers_for(nodes_on_host: int) -> int | str:
    """Signature workers for a node sharing its host address with `nodes_on_host` - 1 others: "auto" (the
    machine's spare cores) for a node alone on its machine, none when several nodes share the cores."""
    return "auto" if nodes_on_host == 1 else 0


def _write_node(plan: dict, genesis_text: str, peers: list[str], timeout_commit: str, *,
                signature_workers: int | str) -> None:
    ports, host = plan["ports"], plan["host"]
    (plan["cometbft_home"] / "config" / "genesis.json").write_text(genesis_text, encoding="utf-8")
    write_engine_config(
        plan["cometbft_home"], moniker=plan["name"], abci_address=f"tcp://127.0.0.1:{ports['abci']}",
        rpc_laddr=f"tcp://127.0.0.1:{ports['rpc']}", p2p_laddr=f"tcp://{host}:{ports['p2p']}",
        persistent_peers=peers, prometheus_laddr=f"127.0.0.1:{ports['prometheus']}", timeout_commit=timeout_commit,
    )
    node_toml = {
        "node": {"name": plan["name"], "organisation": plan["organisation"]},
        "abci": {"host": "127.0.0.1", "port": ports["abci"], "signature_workers": signature_workers},
        "api": {"host": "127.0.0.1", "port": ports["api"]},
        "cometbft": {"home": "cometbft", "rpc_host": "127.0.0.1", "rpc_port": ports["rpc"],
                     "p2p_host": host, "p2p_port": ports["p2p"]},
        "storage": {"path": "data/civichain.db", "state_keep_versions": 1000},
        "metrics": {"host": "127.0.0.1", "port": ports["metrics"]},
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
