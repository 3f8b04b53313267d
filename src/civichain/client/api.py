"""A client for a node's HTTP API."""

from __future__ import annotations

import httpx

from civichain.errors import CivicError


class ApiClientError(CivicError):
    """The node answered with an error, or did not answer."""


class ApiClient:
    """Calls to one node's `/v1` API. Errors become ApiClientError with the node's code and facts."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def submit(self, raw: bytes, *, wait: bool = True, timeout: float = 30.0) -> dict:
        """Submit a signed transaction; with `wait`, return its committed view (status, receipt, proof)."""
        return self._call("POST", "/v1/txs", params={"wait": str(wait).lower(), "timeout": str(timeout)},
                          json={"tx": raw.hex()})

    def tx(self, tx_id: str) -> dict:
        return self._call("GET", f"/v1/txs/{tx_id}")

    def block(self, height: int | None = None) -> dict:
        return self._call("GET", f"/v1/blocks/{height if height else 'latest'}")

    def checkpoint(self) -> dict:
        return self._call("GET", "/v1/checkpoints/latest")

    def document(self, digest_hex: str) -> dict:
        return self._call("GET", f"/v1/notary/{digest_hex}")

    def account(self, account: str) -> dict:
        return self._call("GET", f"/v1/accounts/{account}")

    def status(self) -> dict:
        return self._call("GET", "/v1/status")

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            reply = self._http.request(method, path, **kwargs)
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiClientError("client.unreachable", where=f"{self.base_url}{path}", got=str(exc)[:200],
                                 expected="a running civichain node API") from None
        if reply.status_code >= 400:
            error = body.get("error", {})
            raise ApiClientError(error.get("code", f"http.{reply.status_code}"), where=error.get("where", path),
                                 got=error.get("got", ""), expected=error.get("expected", "a successful answer"))
        return body
