"""The node's configuration, read once from `node.toml` and passed down.

Errors name the file, the key and what was expected, e.g.
`node0/node.toml: [api] port = 80000: expected an integer from 1 to 65535`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from civichain.errors import CivicError

Port = Annotated[int, Field(ge=1, le=65535)]


class ConfigError(CivicError):
    """A configuration file that is missing, unreadable or wrong."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSection(_Section):
    name: str = Field(min_length=1, max_length=64)
    organisation: str = Field(min_length=1, max_length=64)


SIGNATURE_WORKERS_EXPECTED = '"auto" or a whole number from 0 to 16'


def valid_signature_workers(value: object) -> bool:
    """Return True for a `[abci] signature_workers` setting: "auto" or a whole number from 0 to 16."""
    return value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 16)


class AbciSection(_Section):
    host: str = "127.0.0.1"
    port: Port
    # Processes verifying CheckTx signatures while the app executes blocks. 0: CheckTx verifies them itself,
    # right for several nodes sharing one machine; "auto": the machine's cores less one, at most 4, right
    # for a node with a machine of its own.
    signature_workers: int | str = 0

    @field_validator("signature_workers", mode="before")
    @classmethod
    def _workers_form(cls, value: object) -> object:
        if not valid_signature_workers(value):
            raise ValueError(SIGNATURE_WORKERS_EXPECTED)
        return value

    def workers(self) -> int:
        """Return how many signature workers to start."""
        if self.signature_workers == "auto":
            return min(4, max(0, len(os.sched_getaffinity(0)) - 1))
        return self.signature_workers


class ApiSection(_Section):
    host: str = "127.0.0.1"
    port: Port
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)


class CometSection(_Section):
    home: str = "cometbft"
    rpc_host: str = "127.0.0.1"
    rpc_port: Port
    p2p_host: str = "127.0.0.1"
    p2p_port: Port
    binary: str = ""


class MetricsSection(_Section):
    host: str = "127.0.0.1"
    port: Port


class StorageSection(_Section):
    path: str = "data/civichain.db"
    state_keep_versions: int = Field(default=1000, ge=2)


class ProposalSection(_Section):
    max_txs: int = Field(default=5000, ge=1, le=100_000)


class NodeConfig(_Section):
    """Everything one node needs; paths are relative to the node folder."""

    node: NodeSection
    abci: AbciSection
    api: ApiSection
    cometbft: CometSection
    storage: StorageSection = StorageSection()
    proposal: ProposalSection = ProposalSection()
    metrics: MetricsSection | None = None   # the app's Prometheus /metrics; none when absent

    def resolve(self, home: Path, relative: str) -> Path:
        """Return a configured path, relative to the node folder `home`."""
        path = Path(relative)
        return path if path.is_absolute() else home / path

    @property
    def abci_address(self) -> str:
        return f"tcp://{self.abci.host}:{self.abci.port}"

    @property
    def rpc_url(self) -> str:
        return f"http://{self.cometbft.rpc_host}:{self.cometbft.rpc_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.api.host}:{self.api.port}"


def load_node_config(home: Path) -> NodeConfig:
    """Read `<home>/node.toml`. Raises `config.missing`, `config.syntax` or `config.invalid`."""
    path = home / "node.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("config.missing", where=str(path), got=exc.strerror, expected="a node.toml file "
                          "(made by `civichain init`)") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.syntax", where=str(path), got=str(exc), expected="valid TOML") from None
    try:
        return NodeConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = first["loc"]
        section = f"[{location[0]}] " if len(location) > 1 else ""
        key = ".".join(str(p) for p in location[1:]) or str(location[0])
        value = first.get("input")
        raise ConfigError("config.invalid", where=f"{path}: {section}{key}", got=value,
                          expected=_expectation(first)) from None


def _expectation(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in ("greater_than_equal", "less_than_equal") or "ge" in ctx or "le" in ctx:
        return error["msg"].lower()
    if kind == "extra_forbidden":
        return "no such key (check its spelling and section)"
    if kind == "missing":
        return "this key to be set"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    return error["msg"]
