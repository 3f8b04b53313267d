"""Route a network folder's peer-to-peer links through the partition proxy.

CometBFT dials the `persistent_peers` of its config.toml. Pointing each node's entry for a peer at the proxy's
listener for that directed link makes the proxy the only path between the nodes, provided nothing else tells a
node where its peers really listen. So this module checks or sets, in every node's config.toml:
- `p2p.pex = false`: no peer exchange, so no node learns another's real address from a third one;
- `blocksync.adaptive_sync = false`: with it, a block-sync timeout makes CometBFT redial an inbound peer at the
  address that peer reports for itself (its real `p2p.laddr`, or `p2p.external_address`);
- `p2p.addr_book_strict = false`: the proxy's addresses are loopback ones, which a strict address book refuses;
- `p2p.external_address = ""` and no `addrbook.json` left from earlier runs: nothing to dial but the peers given.

The node ids in the new entries are derived from each node's own key, so every link still authenticates the
node it claims to reach (CometBFT checks the id in `id@host:port` during the handshake).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Mapping

import tomli_w

from civichain.chaos.proxy import Address, ChaosError, Link
from civichain.node.config import load_node_config
from civichain.node.network import Network


def peer_links(network: Network) -> dict[Link, Address]:
    """Return every directed link of the network's full mesh, with the real p2p address of its target."""
    addresses = {}
    for entry in network.nodes:
        config = load_node_config(entry.home)
        addresses[entry.name] = (config.cometbft.p2p_host, config.cometbft.p2p_port)
    return {Link(source.name, target.name): addresses[target.name]
            for source in network.nodes for target in network.nodes if source.name != target.name}


def route_through_proxy(network: Network, listeners: Mapping[Link, Address]) -> None:
    """Rewrite every node's persistent_peers so that it reaches each other node only through that link's listener.

    `listeners` must name every link of `peer_links(network)`. Raises `chaos.missing_link` when one is absent
    and `chaos.bypass_possible` when a node's config lets it find its peers another way. Run it while the
    network is stopped: CometBFT reads config.toml at start.
    """
    missing = sorted(set(peer_links(network)) - set(listeners))
    if missing:
        raise ChaosError("chaos.missing_link", where="listeners", got=", ".join(map(str, missing)),
                         expected="a proxy listener for every directed link of the network")
    engine_homes = {entry.name: _engine_home(entry.home) for entry in network.nodes}
    node_ids = {name: node_id(home) for name, home in engine_homes.items()}
    configs = {name: _checked_config(home) for name, home in engine_homes.items()}   # all checked before any write
    for name, config in configs.items():
        peers = [f"{node_ids[link.target]}@{host}:{port}"
                 for link, (host, port) in sorted(listeners.items()) if link.source == name]
        config["p2p"].update({"persistent_peers": ",".join(peers), "addr_book_strict": False, "external_address": ""})
        _config_path(engine_homes[name]).write_text(tomli_w.dumps(config))
        (engine_homes[name] / "config" / "addrbook.json").unlink(missing_ok=True)


def node_id(engine_home: Path) -> str:
    """Return a CometBFT node's id: the hex of the first 20 bytes of SHA-256 of its node key's public half."""
    path = engine_home / "config" / "node_key.json"
    try:
        private = base64.b64decode(json.loads(path.read_text())["priv_key"]["value"])
    except (OSError, ValueError, KeyError) as exc:
        raise ChaosError("chaos.node_key", where=str(path), got=str(exc)[:200],
                         expected="a node key written by `cometbft init`") from None
    return hashlib.sha256(private[32:]).digest()[:20].hex()   # Ed25519: 32-byte seed, then the public key


def _checked_config(engine_home: Path) -> dict:
    """Return a node's CometBFT config; raise `chaos.bypass_possible` when it could find peers past the proxy."""
    path = _config_path(engine_home)
    config = tomllib.loads(path.read_text())
    if config["p2p"].get("pex", True):
        raise ChaosError("chaos.bypass_possible", where=f"{path}: [p2p] pex", got=True,
                         expected="false: peer exchange would tell nodes each other's real addresses")
    if config.get("blocksync", {}).get("adaptive_sync", False):
        raise ChaosError("chaos.bypass_possible", where=f"{path}: [blocksync] adaptive_sync", got=True,
                         expected="false: it redials peers at the address they report for themselves")
    return config


def _config_path(engine_home: Path) -> Path:
    return engine_home / "config" / "config.toml"


def _engine_home(home: Path) -> Path:
    config = load_node_config(home)
    return config.resolve(home, config.cometbft.home)
