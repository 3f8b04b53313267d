"""A client for the identity routes of a node's API (answers carry state proofs: check them with
`civichain.client.proofs.check_state_answer`)."""

from __future__ import annotations

from civichain.client.api import ApiClient


class IdentityClient(ApiClient):
    """The `/v1` API with the identity routes: DIDs, issuers, status lists and account histories."""

    def did(self, did: str, height: int | None = None) -> dict:
        """Resolve a DID at `height` (default: the latest): its document and state proof."""
        return self._call("GET", f"/v1/identity/dids/{did}", params={"height": str(height)} if height else None)

    def did_history(self, did: str, cursor: str | None = None, limit: int = 100) -> dict:
        """Return one page of a DID's changes, oldest first, and the cursor of the next page."""
        return self._call("GET", f"/v1/identity/dids/{did}/history", params=_page(cursor, limit))

    def account_history(self, account: str, cursor: str | None = None, limit: int = 100) -> dict:
        """Return one page of an account's changes (account id `organisation/name`)."""
        return self._call("GET", f"/v1/accounts/{account}/history", params=_page(cursor, limit))

    def issuers(self, cursor: str | None = None, limit: int = 50) -> dict:
        """Return one page of credential issuers, each with its state proof."""
        return self._call("GET", "/v1/identity/issuers", params=_page(cursor, limit))

    def status_list(self, organisation: str, credential_type: str, *, height: int | None = None,
                    index: int | None = None) -> dict:
        """Return an issuer's status list and registration with their proofs (and whether `index` is revoked)."""
        params = {**({"height": str(height)} if height else {}), **({"index": str(index)} if index is not None else {})}
        return self._call("GET", f"/v1/identity/status-lists/{organisation}/{credential_type}", params=params)


def _page(cursor: str | None, limit: int) -> dict:
    return {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
