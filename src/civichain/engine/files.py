"""CometBFT's own files: keys (made by `cometbft init`), genesis, and config.toml."""

from __future__ import annotations

import base64
import json
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from civichain.engine.binary import EngineError


@dataclass(frozen=True, slots=True)
class EngineKeys:
    """The keys `cometbft init` made for one node."""

    node_id: str
    validator_address: str        # hex, upper case, as CometBFT prints it
    validator_pub_key: str        # base64 Ed25519

    @property
    def validator_key_bytes(self) -> bytes:
        """The validator's Ed25519 public key (32 bytes)."""
        return base64.b64decode(self.validator_pub_key)


def init_engine_home(binary: Path, home: Path) -> EngineKeys:
    """Create a CometBFT home with fresh node and validator keys, and return them."""
    run = subprocess.run([str(binary), "init", "--home", str(home)], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise EngineError("engine.init_failed", where=str(home), got=run.stderr.strip()[-300:], expected="cometbft init to succeed")
    node_id = show_node_id(binary, home)
    key = json.loads((home / "config" / "priv_validator_key.json").read_text())
    return EngineKeys(node_id=node_id, validator_address=key["address"], validator_pub_key=key["pub_key"]["value"])


def show_node_id(binary: Path, home: Path) -> str:
    """Return the node id of the CometBFT home `home` (the hex address of its node key)."""
    run = subprocess.run([str(binary), "show-node-id", "--home", str(home)], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise EngineError("engine.init_failed", where=str(home), got=run.stderr.strip()[-300:],
                          expected="cometbft show-node-id to succeed")
    return run.stdout.strip()


def genesis_document(chain_id: str, genesis_time: str, validators: list[tuple[str, EngineKeys, int]],
                     app_state: dict, max_block_bytes: int) -> dict:
    """Return CometBFT's genesis document; `app_state` is civichain's application genesis."""
    return {
        "genesis_time": genesis_time,
        "chain_id": chain_id,
        "initial_height": "1",
        "consensus_params": {
            "block": {"max_bytes": str(max_block_bytes), "max_gas": "-1"},
            "evidence": {"max_age_num_blocks": "100000", "max_age_duration": "172800000000000", "max_bytes": "1048576"},
            "validator": {"pub_key_types": ["ed25519"]},
            "version": {"app": "1"},
            "abci": {"vote_extensions_enable_height": "0"},
        },
        "validators": [
            {"address": keys.validator_address,
             "pub_key": {"type": "tendermint/PubKeyEd25519", "value": keys.validator_pub_key},
             "power": str(power), "name": name}
            for name, keys, power in validators
        ],
        "app_hash": "",
        "app_state": app_state,
    }


def write_engine_config(home: Path, *, moniker: str, abci_address: str, rpc_laddr: str, p2p_laddr: str,
                        persistent_peers: list[str], prometheus_laddr: str, timeout_commit: str) -> None:
    """Rewrite config.toml with civichain's settings for one node (other keys keep CometBFT's defaults)."""
    path = home / "config" / "config.toml"
    config = tomllib.loads(path.read_text())
    config.update({
        "moniker": moniker,
        "proxy_app": abci_address,
        "abci": "socket",
        "log_level": "main:info,state:info,consensus:error,p2p:error,*:error",
        # CometBFT asks the app (ABCI Query /p2p/filter/id/<id> and /addr/<ip:port>) before keeping a peer:
        # only the nodes the chain's state admits (validators' nodes, observers) stay connected.
        "filter_peers": True,
    })
    config["rpc"].update({"laddr": rpc_laddr, "max_body_bytes": 4_194_304, "timeout_broadcast_tx_commit": "30s",
                          "max_subscription_clients": 200, "max_request_batch_size": 1000})
    config["p2p"].update({
        "laddr": p2p_laddr,
        "persistent_peers": ",".join(persistent_peers),
        "addr_book_strict": False,
        "allow_duplicate_ip": True,
        "pex": False,
        "flush_throttle_timeout": "10ms",
        "send_rate": 52_428_800,
        "recv_rate": 52_428_800,
    })
    config["mempool"].update({"size": 20_000, "cache_size": 200_000, "max_txs_bytes": 1_073_741_824,
                              "recheck": True})
    config["consensus"].update({
        "timeout_commit": timeout_commit,
        "create_empty_blocks": True,
        "create_empty_blocks_interval": "2s",
        "peer_gossip_sleep_duration": "10ms",
    })
    config["tx_index"]["indexer"] = "null"
    config["instrumentation"].update({"prometheus": True, "prometheus_listen_addr": prometheus_laddr})
    path.write_text(tomli_w.dumps(config))
