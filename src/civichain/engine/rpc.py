"""A small client for CometBFT's JSON-RPC (over HTTP), for the calls civichain uses."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from civichain.engine.binary import EngineError


class CometRpc:
    """Synchronous JSON-RPC calls to one CometBFT node."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, **params: Any) -> dict:
        """Call `method`; return its result. Raises `engine.unreachable` or `engine.rpc_error`."""
        try:
            reply = self._http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise EngineError("engine.unreachable", where=f"{self.url} {method}", got=str(exc)[:200],
                              expected="a running CometBFT node") from None
        if "error" in body:
            error = body["error"]
            raise EngineError("engine.rpc_error", where=f"{self.url} {method}",
                              got=f"{error.get('message')}: {error.get('data')}", expected="a successful call")
        return body["result"]

    def status(self) -> dict:
        return self.call("status")

    def broadcast_tx_sync(self, raw: bytes) -> dict:
        """Submit a transaction and wait for CheckTx; return {code, log, hash, codespace}."""
        return self.call("broadcast_tx_sync", tx=base64.b64encode(raw).decode())

    def block(self, height: int | None = None) -> dict:
        return self.call("block", **({"height": str(height)} if height else {}))

    def commit(self, height: int) -> dict:
        return self.call("commit", height=str(height))

    def validators(self, height: int | None = None) -> dict:
        params = {"per_page": "100"}
        if height:
            params["height"] = str(height)
        return self.call("validators", **params)

    def abci_info(self) -> dict:
        return self.call("abci_info")

    def net_info(self) -> dict:
        return self.call("net_info")

    def genesis(self) -> dict:
        return self.call("genesis")
