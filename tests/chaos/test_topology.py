"""Routing a network folder through the proxy: each node's peers become its links' listeners, nothing else."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from civichain.chaos.proxy import ChaosError, Link
from civichain.chaos.topology import node_id, peer_links, route_through_proxy
from civichain.engine import find_cometbft
from civichain.node.config import load_node_config
from civichain.node.network import init_network


@pytest.fixture
def network(tmp_path):
    return init_network(tmp_path / "net", validators=3, binary=find_cometbft(), base_port=40000)


def _config(entry) -> dict:
    return tomllib.loads((entry.home / "cometbft" / "config" / "config.toml").read_text())


def test_every_directed_link_targets_the_real_p2p_port_of_its_target(network):
    links = peer_links(network)
    assert len(links) == 6
    assert links[Link("node0", "node2")] == ("127.0.0.1", load_node_config(network.nodes[2].home).cometbft.p2p_port)


def test_each_node_reaches_each_peer_only_through_its_link_listener(network):
    (network.nodes[0].home / "cometbft" / "config" / "addrbook.json").write_text("{}")
    listeners = {link: ("127.0.0.1", 50000 + i) for i, link in enumerate(sorted(peer_links(network)))}
    route_through_proxy(network, listeners)
    ids = {entry.name: node_id(entry.home / "cometbft") for entry in network.nodes}
    for entry in network.nodes:
        p2p = _config(entry)["p2p"]
        expected = sorted(f"{ids[link.target]}@127.0.0.1:{port}" for link, (_, port) in listeners.items()
                          if link.source == entry.name)
        assert sorted(p2p["persistent_peers"].split(",")) == expected
        assert p2p["pex"] is False and p2p["addr_book_strict"] is False and p2p["external_address"] == ""
    assert not (network.nodes[0].home / "cometbft" / "config" / "addrbook.json").exists()


def test_a_missing_listener_or_a_config_that_could_bypass_the_proxy_is_refused(network):
    listeners = {link: ("127.0.0.1", 50000 + i) for i, link in enumerate(sorted(peer_links(network)))}
    with pytest.raises(ChaosError) as missing:
        route_through_proxy(network, dict(list(listeners.items())[1:]))
    assert missing.value.code == "chaos.missing_link"
    path = network.nodes[1].home / "cometbft" / "config" / "config.toml"
    config = tomllib.loads(path.read_text())
    config["p2p"]["pex"] = True
    path.write_text(tomli_w.dumps(config))
    with pytest.raises(ChaosError) as bypass:
        route_through_proxy(network, listeners)
    assert bypass.value.code == "chaos.bypass_possible" and "pex" in bypass.value.where
    assert "@127.0.0.1:5000" not in _config(network.nodes[0])["p2p"]["persistent_peers"], "a node was rewritten"
