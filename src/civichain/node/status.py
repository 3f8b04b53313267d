"""The status of a network's nodes, read from each node's CometBFT RPC."""

from __future__ import annotations

import httpx
from rich.table import Table

from civichain.node.network import Network


def collect_status(network: Network) -> list[dict]:
    """Return one dict per node: height, app hash, peers, validators, or the error met."""
    rows = []
    with httpx.Client(timeout=2.0) as http:
        for node in network.nodes:
            row = {"name": node.name, "organisation": node.organisation, "rpc": node.rpc_url, "api": node.api_url}
            try:
                status = _rpc(http, node.rpc_url, "status")
                info = status["sync_info"]
                row.update(height=int(info["latest_block_height"]), app_hash=info["latest_app_hash"],
                           catching_up=info["catching_up"], node_id=status["node_info"]["id"],
                           peers=int(_rpc(http, node.rpc_url, "net_info")["n_peers"]),
                           validators=int(_rpc(http, node.rpc_url, "validators")["total"]), up=True)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                row.update(up=False, error=type(exc).__name__)
            rows.append(row)
    return rows


def network_status_table(network: Network) -> Table:
    """Return a table of the nodes' status for the terminal."""
    table = Table(title=f"civichain network {network.chain_id}")
    for column in ("node", "organisation", "height", "app hash", "peers", "validators", "API"):
        table.add_column(column)
    for row in collect_status(network):
        if row["up"]:
            table.add_row(row["name"], row["organisation"], str(row["height"]), row["app_hash"][:16],
                          str(row["peers"]), str(row["validators"]), row["api"])
        else:
            table.add_row(row["name"], row["organisation"], "[red]down[/red]", "", "", "", row["api"])
    return table


def _rpc(http: httpx.Client, url: str, method: str) -> dict:
    return http.get(f"{url}/{method}").json()["result"]
