"""The status of a network's nodes, read from each node's CometBFT RPC and API, with the problems each one has.

A node's problems are what an operator must look at first:
- its app hash differs from the majority's at the same height (a faulty or tampered app);
- its CometBFT halted, stopped or refuses the network's blocks, with the error it logged (typically
  "wrong Block.Header.AppHash" after its app computed another app hash);
- committed evidence shows its validator key signed twice (the same key run by two nodes).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from pathlib import Path

import httpx
from rich.markup import escape
from rich.table import Table

from civichain.node.network import Network

LOG_TAIL_BYTES = 256 * 1024     # enough for the lines since a halt: a halted CometBFT logs little more
_ENGINE_START = "Starting Node service"        # CometBFT's log line at each start
_CONSENSUS_FAILURE = "CONSENSUS FAILURE"       # logged when consensus panics; the process stays up, halted
_PANIC = "panic: "                             # Go's last words when the process dies (e.g. a failed replay)
_BLOCK_SYNC_REFUSAL = ("Error in validation", "module=blocksync", "wrong Block.Header.AppHash")
_ERR_FIELD = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_OFFENCES = {"duplicate_vote": "signed twice (duplicate vote)",
             "light_client_attack": "took part in a light-client attack"}


def collect_status(network: Network) -> list[dict]:
    """Return one dict per node: height, app hash, peers, validators and `problems` (sentences), or its error."""
    with httpx.Client(timeout=2.0) as http:
        rows = [_node_status(http, node.name, node.organisation, node.rpc_url, node.api_url)
                for node in network.nodes]
        _flag_divergent_app_hashes(http, rows)
        _flag_evidence(http, rows)
    for node, row in zip(network.nodes, rows):
        # The supervisor writes each process's output to <home>/logs/<role>.log; a remote node has none here.
        failure = engine_failure(node.home / "logs" / "cometbft.log")
        if failure:
            row["problems"].append(f"CometBFT {failure}")
    return rows


def engine_failure(engine_log: Path) -> str | None:
    """Return what went wrong in CometBFT since it last started, from its log, or None.

    The latest of: a CONSENSUS FAILURE ("halted: <error>"; the process stays up, its height frozen), a Go panic
    ("stopped: <message>"; the process is gone), or a block refused for a wrong app hash ("refuses the network's
    blocks: <error>"; block sync keeps asking for them).
    """
    try:
        with engine_log.open("rb") as log:
            log.seek(max(0, engine_log.stat().st_size - LOG_TAIL_BYTES))
            tail = log.read().decode(errors="replace")
    except OSError:
        return None
    started = tail.rfind(_ENGINE_START)
    tail = tail[started:] if started >= 0 else tail
    for line in reversed(tail.splitlines()):
        if _CONSENSUS_FAILURE in line:
            return f"halted: {_error_of(line)}"
        if line.startswith(_PANIC):
            return f"stopped: {line.removeprefix(_PANIC)[:300]}"
        # Only block sync's refusal: consensus logs the same error when a faulty *peer* proposes a block.
        if all(part in line for part in _BLOCK_SYNC_REFUSAL):
            return f"refuses the network's blocks: {_error_of(line)}"
    return None


def app_hash_problems(height: int, computed: dict[str, str | None]) -> dict[str, str]:
    """Return, for each node whose app hash at `height` is not the majority's, the sentence naming it.

    `computed` maps node names to the app hash each one's app returned for block `height` (None: unknown).
    Without a strict majority every node that answered is flagged, since none can be trusted over another.
    """
    known = {name: app_hash for name, app_hash in computed.items() if app_hash is not None}
    counts = Counter(known.values())
    if len(counts) < 2:
        return {}
    majority, agreeing = counts.most_common(1)[0]
    if agreeing * 2 <= len(known):
        sentence = f"app hashes disagree at height {height}: no majority among {len(known)} nodes"
        return {name: sentence for name in known}
    return {name: f"app hash differs from {agreeing} of {len(known)} nodes at height {height}"
            for name, app_hash in known.items() if app_hash != majority}


def _node_status(http: httpx.Client, name: str, organisation: str, rpc_url: str, api_url: str) -> dict:
    row = {"name": name, "organisation": organisation, "rpc": rpc_url, "api": api_url, "problems": []}
    try:
        status = _rpc(http, rpc_url, "status")
        info = status["sync_info"]
        row.update(height=int(info["latest_block_height"]), app_hash=info["latest_app_hash"],
                   catching_up=info["catching_up"], node_id=status["node_info"]["id"],
                   validator=status["validator_info"]["address"],
                   peers=int(_rpc(http, rpc_url, "net_info")["n_peers"]),
                   validators=int(_rpc(http, rpc_url, "validators")["total"]), up=True)
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        row.update(up=False, error=type(exc).__name__)
    return row


def _flag_divergent_app_hashes(http: httpx.Client, rows: list[dict]) -> None:
    """Compare the app hash every running node computed at the lowest height they all have; flag the odd ones.

    A header carries the app hash of the block before it, so a faulty node's own result is read from its
    block results: its header at that height still carries the app hash the others agreed on.
    """
    running = [row for row in rows if row["up"] and row["height"] > 0]
    if len(running) < 2:
        return
    height = min(row["height"] for row in running)
    computed = {row["name"]: _app_hash_at(http, row["rpc"], height) for row in running}
    problems = app_hash_problems(height, computed)
    for row in running:
        if row["name"] in problems:
            row["problems"].append(problems[row["name"]])
            row["app_hash_at"] = {"height": height, "app_hash": computed[row["name"]]}


def _flag_evidence(http: httpx.Client, rows: list[dict]) -> None:
    """Name the node whose validator committed evidence shows misbehaving (read from the first API answering)."""
    evidence = None
    for row in rows:
        try:
            evidence = http.get(f"{row['api']}/v1/evidence", params={"limit": "500"}).json()["evidence"]
            break
        except (httpx.HTTPError, KeyError, ValueError):
            continue
    by_validator: dict[str, list[dict]] = {}
    for item in evidence or []:
        by_validator.setdefault(item["validator"], []).append(item)
    for row in rows:
        items = by_validator.get(row.get("validator", ""), [])
        for kind in sorted({item["kind"] for item in items}):
            of_kind = [item for item in items if item["kind"] == kind]
            last = of_kind[-1]
            times = "" if len(of_kind) == 1 else f" {len(of_kind)} times, last"
            row["problems"].append(f"{_OFFENCES.get(kind, kind)}{times} at height {last['height']}; "
                                   f"evidence committed at height {last['committed_height']}")
        if items:
            row["evidence"] = items


def _error_of(line: str) -> str:
    found = _ERR_FIELD.search(line)
    return (found.group(1) if found else line)[:300]


def _app_hash_at(http: httpx.Client, rpc_url: str, height: int) -> str | None:
    """Return the app hash (upper-case hex) a node's app returned for block `height`, or None when unreadable."""
    try:
        encoded = _rpc(http, rpc_url, "block_results", height=str(height))["app_hash"]
        return base64.b64decode(encoded).hex().upper()
    except (httpx.HTTPError, KeyError, ValueError, TypeError):
        return None


LIVENESS_WINDOW = 10   # recent commits in which a validator's signature is looked for


def collect_validators(network: Network, rows: list[dict] | None = None) -> list[dict]:
    """The chain's validators: organisation, address, voting power, liveness and evidence.

    The set comes from the first node whose API answers (the chain's record, `/v1/governance/validators`);
    liveness counts in how many of the last LIVENESS_WINDOW commits each validator's signature is present
    (from that node's CometBFT); evidence is the committed evidence against its address.
    """
    rows = rows if rows is not None else collect_status(network)
    with httpx.Client(timeout=5) as http:
        for row in rows:
            if not row.get("up"):
                continue
            try:
                recorded = http.get(f"{row['api']}/v1/governance/validators").json()["validators"]
                evidence = http.get(f"{row['api']}/v1/evidence", params={"limit": "500"}).json()["evidence"]
                top = row["height"]
                signed: dict[str, int] = {}
                window = range(max(1, top - LIVENESS_WINDOW + 1), top + 1)
                for height in window:
                    commit = _rpc(http, row["rpc"], "commit", height=str(height))["signed_header"]["commit"]
                    for signature in commit["signatures"]:
                        if signature.get("block_id_flag") == 2:
                            address = signature["validator_address"].upper()
                            signed[address] = signed.get(address, 0) + 1
            except (httpx.HTTPError, KeyError, ValueError, TypeError):
                continue
            return [_validator_row(v, signed, len(window), evidence) for v in recorded]
    return []


def _validator_row(validator: dict, signed: dict[str, int], window: int, evidence: list[dict]) -> dict:
    key = bytes.fromhex(validator["pub_key"]) if isinstance(validator["pub_key"], str) else bytes(validator["pub_key"])
    address = hashlib.sha256(key).hexdigest()[:40].upper()
    against = [e for e in evidence if e["validator"] == address]
    count = signed.get(address, 0)
    return {"organisation": validator["organisation"], "address": address, "power": validator["power"],
            "node_id": validator["node_id"], "signed_recent": count, "recent_window": window,
            "live": count > 0, "evidence": len(against)}


def network_status_table(network: Network) -> tuple[Table, Table]:
    """Return the tables of the nodes' and the validators' status for the terminal."""
    table = Table(title=f"civichain network {network.chain_id}")
    for column in ("node", "organisation", "height", "app hash", "peers", "validators", "API", "problems"):
        table.add_column(column)
    rows = collect_status(network)
    for row in rows:
        problems = "[red]" + escape("; ".join(row["problems"])) + "[/red]" if row["problems"] else ""
        if row["up"]:
            table.add_row(row["name"], row["organisation"], str(row["height"]), row["app_hash"][:16],
                          str(row["peers"]), str(row["validators"]), row["api"], problems)
        else:
            table.add_row(row["name"], row["organisation"], "[red]down[/red]", "", "", "", row["api"], problems)
    return table, validators_table(collect_validators(network, rows))


def validators_table(validators: list[dict]) -> Table:
    """Return a table of the validators for the terminal."""
    table = Table(title="validators")
    for column in ("organisation", "address", "power", f"signed (last {LIVENESS_WINDOW})", "evidence"):
        table.add_column(column)
    for v in validators:
        signed = f"{v['signed_recent']}/{v['recent_window']}"
        table.add_row(v["organisation"], v["address"][:16], str(v["power"]),
                      signed if v["live"] else f"[red]{signed} (not signing)[/red]",
                      f"[red]{v['evidence']}[/red]" if v["evidence"] else "0")
    return table


def _rpc(http: httpx.Client, url: str, method: str, **params: str) -> dict:
    return http.get(f"{url}/{method}", params=params).json()["result"]
