"""A client for a node's HTTP API."""

from __future__ import annotations

import time
from typing import Callable

import httpx

from civichain.errors import CivicError


class ApiClientError(CivicError):
    """The node answered with an error, or did not answer (`retry_after`: s to wait when it said "not now";
    `status`: the HTTP status of the refusal, None when the node did not answer)."""

    retry_after: float | None = None
    status: int | None = None


class ApiClient:
    """Calls to one node's `/v1` API. Errors become ApiClientError with the node's code and facts."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def submit(self, raw: bytes, *, wait: bool = True, timeout: float = 30.0, busy_patience: float = 60.0) -> dict:
        """Submit a signed transaction; with `wait`, return its committed view (status, receipt, proof).

        A node that cannot take it now (503 with Retry-After: its mempool is full, or it is catching up) is
        sent the same bytes again after the time it asks, for up to `busy_patience` s; then its refusal is raised.
        """
        deadline = time.monotonic() + busy_patience
        while True:
            try:
                return self._call("POST", "/v1/txs", params={"wait": str(wait).lower(), "timeout": str(timeout)},
                                  json={"tx": raw.hex()})
            except ApiClientError as exc:
                if exc.retry_after is None or time.monotonic() + exc.retry_after > deadline:
                    raise
                time.sleep(exc.retry_after)

    def tx(self, tx_id: str) -> dict:
        return self._call("GET", f"/v1/txs/{tx_id}")

    def block(self, height: int | None = None) -> dict:
        return self._call("GET", f"/v1/blocks/{height if height else 'latest'}")

    def checkpoint(self, height: int | None = None) -> dict:
        """Return the checkpoint of `height` (default: the latest) with the CometBFT signed header proving it."""
        return self._call("GET", f"/v1/checkpoints/{height if height else 'latest'}")

    def document(self, digest_hex: str) -> dict:
        return self._call("GET", f"/v1/notary/{digest_hex}")

    def account(self, account: str) -> dict:
        return self._call("GET", f"/v1/accounts/{account}")

    def get(self, path: str, params: dict | None = None) -> dict:
        """Return the answer of GET `path` (a /v1 route) with query `params`."""
        return self._call("GET", path, params=params)

    def all_pages(self, fetch: Callable[[object], dict], key: str) -> list:
        """Return every item under `key` of the pages `fetch(cursor)` returns, following their cursors."""
        found, cursor = [], None
        while True:
            page = fetch(cursor)
            found.extend(page[key])
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    def status(self) -> dict:
        return self._call("GET", "/v1/status")

    def proposals(self, cursor: int | None = None, limit: int = 100) -> dict:
        """Return one page of governance proposals (oldest first) and the cursor of the next page."""
        params = {"limit": str(limit), **({"cursor": str(cursor)} if cursor else {})}
        return self._call("GET", "/v1/governance/proposals", params=params)

    def all_proposals(self) -> list[dict]:
        """Return every governance proposal, oldest first, following the pages' cursors."""
        return self.all_pages(self.proposals, "proposals")

    def proposal(self, proposal: int) -> dict:
        """Return a governance proposal with its state proof."""
        return self._call("GET", f"/v1/governance/proposals/{proposal}")

    def validators(self) -> dict:
        """Return the validator set the chain records, with its state proof."""
        return self._call("GET", "/v1/governance/validators")

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            reply = self._http.request(method, path, **kwargs)
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiClientError("client.unreachable", where=f"{self.base_url}{path}", got=str(exc)[:200],
                                 expected="a running civichain node API") from None
        if reply.status_code >= 400:
            error = body.get("error", {})
            refusal = ApiClientError(error.get("code", f"http.{reply.status_code}"), where=error.get("where", path),
                                     got=error.get("got", ""), expected=error.get("expected", "a successful answer"))
            refusal.status = reply.status_code
            if reply.status_code == 503 and reply.headers.get("Retry-After", "").isdigit():
                refusal.retry_after = float(reply.headers["Retry-After"])
            raise refusal
        return body
