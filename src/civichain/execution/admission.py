"""Admission: decide whether a transaction may enter the mempool (CheckTx) or a block (execution).

The same checks run at both points, in an order chosen against denial of service: cheap structural checks
first (size, decoding, chain, expiry, module and action, argument schema), then state lookups (account,
nonce), and the signature checks last. A signature is verified once per process: the `SignatureCache`
remembers transactions whose signatures verified under the keys they were checked with, so a re-check after
a block, ProcessProposal and FinalizeBlock do not verify them again.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

import msgspec

from civichain.codec import CodecError, decode, encode
from civichain.crypto import Suite
from civichain.errors import CivicError
from civichain.execution.cache import TwoGenerationCache
from civichain.execution.overlay import StateReader
from civichain.modules import Action, Module, Sender
from civichain.modules.membership import AccountRecord, Organisation, account_key, organisation_key
from civichain.types import Transaction, endorsement_sign_bytes, tx_sign_bytes


class AdmissionError(CivicError):
    """A transaction refused before its action runs; it changes nothing."""


class Mode(Enum):
    """Where admission runs: the mempool accepts future nonces; a block needs the exact next nonce."""

    MEMPOOL = "mempool"
    BLOCK = "block"


class Parsed(NamedTuple):
    """A transaction that passed the checks of its bytes alone."""

    tx: Transaction
    tx_id: bytes
    action: Action
    args: msgspec.Struct


class Admitted(NamedTuple):
    """A transaction that passed admission, with what execution needs to run it."""

    tx: Transaction
    tx_id: bytes
    raw: bytes
    action: Action
    args: msgspec.Struct
    sender: Sender
    endorsers: tuple[Sender, ...]
    nonce: int


def nonce_key(account: str) -> bytes:
    """Return the state key of an account's next nonce."""
    return b"auth/nonce/" + account.encode()


def next_nonce(state: StateReader, account: str) -> int:
    """Return the nonce the account's next transaction must carry."""
    raw = state.get(nonce_key(account))
    return 0 if raw is None else decode(raw, int, where=f"nonce of {account}")


def encode_nonce(value: int) -> bytes:
    """Return the stored form of a nonce."""
    return encode(value)


class SignatureWork(NamedTuple):
    """The signature checks of one transaction, under the keys the state held when they were gathered.

    `checks` are (public key, message, signature) triples; they can be verified anywhere, e.g. in another
    process, and the outcome handed back with `Admission.signatures.remember(tx_id, keys)`.
    """

    tx_id: bytes
    keys: tuple[bytes, ...]
    checks: tuple[tuple[bytes, bytes, bytes], ...]


class _DecodedRecords:
    """Stored records decoded once per distinct stored value (the same bytes always decode the same); at most
    about `limit` kept, then forgotten all at once (cheaper on the hot path than an LRU's bookkeeping)."""

    __slots__ = ("kind", "label", "limit", "_records")

    def __init__(self, kind: type, label: str, *, limit: int) -> None:
        self.kind, self.label, self.limit = kind, label, limit
        self._records: dict[bytes, object] = {}

    def of(self, raw: bytes, name: str):
        """Return the record stored as `raw` (the value of `name`'s key). Raises the codec's error if malformed."""
        record = self._records.get(raw)
        if record is None:
            record = decode(raw, self.kind, where=f"{self.label} {name}")
            if len(self._records) > self.limit:
                self._records.clear()
            self._records[raw] = record
        return record


class SignatureCache:
    """Transactions whose signatures verified, with the public keys they verified under (bounded).

    Sound because a tx id is the hash of the whole signed transaction, signatures included: the same id
    with the same keys means the same verification, which is deterministic.
    """

    def __init__(self, capacity: int = 30_000) -> None:
        self._entries: TwoGenerationCache[bytes, tuple[bytes, ...]] = TwoGenerationCache(capacity)

    def verified(self, tx_id: bytes, keys: tuple[bytes, ...]) -> bool:
        """Return True when `tx_id` already verified under exactly `keys`."""
        return self._entries.get(tx_id) == keys

    def remember(self, tx_id: bytes, keys: tuple[bytes, ...]) -> None:
        """Record a successful verification."""
        self._entries.put(tx_id, keys)


class Admission:
    """The admission rules of one chain: its id, suite, size limit and modules."""

    def __init__(self, chain_id: str, suite: Suite, modules: dict[str, Module], *, max_tx_bytes: int,
                 max_expiry_window: int, max_nonce_ahead: int = 10_000) -> None:
        self.chain_id, self.suite, self.modules = chain_id, suite, modules
        self.max_tx_bytes, self.max_expiry_window, self.max_nonce_ahead = max_tx_bytes, max_expiry_window, max_nonce_ahead
        self.signatures = SignatureCache()
        # Sized for the mempool (20,000) and the blocks being decided (each generation holds this many).
        self._parsed: TwoGenerationCache[bytes, Parsed] = TwoGenerationCache(25_000)
        self._accounts = _DecodedRecords(AccountRecord, "account", limit=50_000)
        self._organisations = _DecodedRecords(Organisation, "organisation", limit=1_000)

    def tx_id(self, raw: bytes) -> bytes:
        """Return the id of a transaction: the suite hash of its canonical bytes."""
        return self.suite.hash(raw)

    def decode(self, raw: bytes) -> Transaction:
        """Decode a transaction. Raises `tx.oversize`, `codec.malformed` or `codec.not_canonical`."""
        if len(raw) > self.max_tx_bytes:
            raise AdmissionError("tx.oversize", where="transaction", got=f"{len(raw)} bytes",
                                 expected=f"at most {self.max_tx_bytes} bytes")
        try:
            return decode(raw, Transaction, where="transaction")
        except CodecError as exc:
            raise AdmissionError(exc.code, where=exc.where, got=exc.got, expected=exc.expected) from None

    def parse(self, raw: bytes) -> Parsed:
        """Run the checks that depend on the bytes alone: size, encoding, chain, module, action, arguments.

        A transaction is parsed once per process (LRU cache): the re-check after a block, the proposal
        checks and execution reuse the result. Raises AdmissionError.
        """
        parsed = self._parsed.get(raw)
        if parsed is not None:
            return parsed
        tx = self.decode(raw)
        body = tx.body
        if body.chain_id != self.chain_id:
            raise AdmissionError("tx.wrong_chain", where="body.chain_id", got=body.chain_id, expected=self.chain_id)
        action = self._action(body.module, body.action)
        try:
            args = decode(bytes(body.args), action.schema, where="body.args")
        except CodecError as exc:
            raise AdmissionError("tx.bad_arguments", where=f"{body.module}.{body.action} args", got=exc.got,
                                 expected=exc.expected) from None
        parsed = Parsed(tx, self.tx_id(raw), action, args)
        self._parsed.put(raw, parsed)
        return parsed

    def admit(self, raw: bytes, state: StateReader, *, height: int, mode: Mode,
              pending_nonce: int | None = None) -> Admitted:
        """Run every admission check of `raw` for a block at `height`, against `state`.

        In MEMPOOL mode `pending_nonce` is the next nonce after the sender's transactions already admitted
        to the mempool; the transaction must carry exactly it (so the mempool holds no gap and no duplicate).
        In BLOCK mode the nonce must equal the one in state. Raises AdmissionError.
        """
        tx, tx_id, action, args = self.parse(raw)
        body = tx.body
        self._check_expiry(body.expires_at, height, mode)
        account = self._active_account(state, body.sender, "body.sender")
        nonce = self._check_nonce(body.sender, body.nonce, state_nonce=next_nonce(state, body.sender),
                                  pending_nonce=pending_nonce, mode=mode)
        endorsers = self._endorsers(tx, state, body.sender)
        self._check_signatures(tx, tx_id, account, endorsers)
        sender = Sender(account.id, account.organisation, account.roles)
        return Admitted(tx, tx_id, raw, action, args, sender,
                        tuple(Sender(e.id, e.organisation, e.roles) for e in endorsers), nonce)

    def recheck(self, raw: bytes, state: StateReader, *, height: int) -> tuple[str, int]:
        """Re-check a transaction still in the mempool after a block; return (sender, nonce).

        Only what a block can change is checked again: expiry, the sender's nonce and status (and its
        organisation's). The bytes, the arguments and the signatures were checked when the transaction was
        admitted (and are cached), so this is cheap even for a large mempool. Raises AdmissionError.
        """
        tx, tx_id, _, _ = self.parse(raw)
        body = tx.body
        self._check_expiry(body.expires_at, height, Mode.BLOCK)
        account = self._active_account(state, body.sender, "body.sender")
        if not tx.endorsements and not self.signatures.verified(tx_id, (account.public_key,)):
            # The sender's key changed since admission (rotated): its signature must hold under the new key.
            self._check_signatures(tx, tx_id, account, [])
        state_nonce = next_nonce(state, body.sender)
        if body.nonce < state_nonce:
            raise AdmissionError("tx.stale_nonce", where="body.nonce", got=body.nonce,
                                 expected=f"{state_nonce} for {body.sender}")
        return body.sender, body.nonce

    def check_proposed(self, raw: bytes, state: StateReader) -> None:
        """Check what a proposal must never carry: bad encoding or arguments, another chain, an unknown or bad signer.

        Reads only committed state. Nonce, expiry and suspension are left to execution, where a failure
        gives a refusal receipt instead of a rejected block. Raises AdmissionError.
        """
        tx, tx_id, _, _ = self.parse(raw)
        sender = self._account(state, tx.body.sender)
        if sender is None:
            raise AdmissionError("auth.unknown_account", where="body.sender", got=tx.body.sender,
                                 expected="a registered account")
        endorsers = []
        for i, endorsement in enumerate(tx.endorsements):
            record = self._account(state, endorsement.account)
            if record is None:
                raise AdmissionError("auth.unknown_account", where=f"endorsements[{i}].account",
                                     got=endorsement.account, expected="a registered account")
            endorsers.append(record)
        self._check_signatures(tx, tx_id, sender, endorsers)

    def signature_work(self, raw: bytes, state: StateReader) -> SignatureWork | None:
        """Gather the signature checks of `raw` under the keys `state` holds, without verifying anything.

        Returns None when the transaction fails its byte checks or names an unknown account: admission
        reports that itself when it runs. A key that changes before the transaction executes only means
        the verification done with the old key is not reused.
        """
        try:
            tx, tx_id, _, _ = self.parse(raw)
        except AdmissionError:
            return None
        accounts = [self._account(state, tx.body.sender)]
        accounts.extend(self._account(state, e.account) for e in tx.endorsements)
        if any(record is None for record in accounts):
            return None
        checks = [(accounts[0].public_key, tx_sign_bytes(tx.body), tx.signature)]
        if tx.endorsements:
            message = endorsement_sign_bytes(tx.body)
            checks.extend((record.public_key, message, e.signature) for record, e in zip(accounts[1:], tx.endorsements))
        return SignatureWork(tx_id, tuple(record.public_key for record in accounts), tuple(checks))

    def _account(self, state: StateReader, account_id: str) -> AccountRecord | None:
        raw = state.get(account_key(account_id))
        return None if raw is None else self._accounts.of(raw, account_id)

    def _organisation(self, state: StateReader, organisation: str) -> Organisation | None:
        raw = state.get(organisation_key(organisation))
        return None if raw is None else self._organisations.of(raw, organisation)

    def _active_account(self, state: StateReader, account_id: str, where: str) -> AccountRecord:
        record = self._account(state, account_id)
        if record is None:
            raise AdmissionError("auth.unknown_account", where=where, got=account_id, expected="a registered account")
        if record.suspended:
            raise AdmissionError("auth.account_suspended", where=where, got=account_id, expected="an active account")
        organisation = self._organisation(state, record.organisation)
        if organisation is not None and not organisation.active:
            raise AdmissionError("auth.organisation_suspended", where=where, got=f"{account_id} of {record.organisation}",
                                 expected="an account of an active organisation (governance suspended this one)")
        return record

    def _check_expiry(self, expires_at: int, height: int, mode: Mode) -> None:
        if expires_at < height:
            raise AdmissionError("tx.expired", where="body.expires_at", got=expires_at,
                                 expected=f"a height of at least {height}")
        if mode is Mode.MEMPOOL and expires_at > height + self.max_expiry_window:
            raise AdmissionError("tx.expiry_too_far", where="body.expires_at", got=expires_at,
                                 expected=f"at most {height + self.max_expiry_window}")

    def _action(self, module_name: str, action_name: str) -> Action:
        module = self.modules.get(module_name)
        if module is None:
            raise AdmissionError("tx.unknown_module", where="body.module", got=module_name,
                                 expected=f"one of {sorted(self.modules)}")
        action = module.actions.get(action_name)
        if action is None:
            raise AdmissionError("tx.unknown_action", where="body.action", got=action_name,
                                 expected=f"one of {sorted(module.actions)} of module {module_name}")
        return action

    def _check_nonce(self, account: str, nonce: int, *, state_nonce: int, pending_nonce: int | None,
                     mode: Mode) -> int:
        if nonce < state_nonce:
            raise AdmissionError("tx.stale_nonce", where="body.nonce", got=nonce, expected=f"{state_nonce} for {account}")
        expected = state_nonce if mode is Mode.BLOCK or pending_nonce is None else max(pending_nonce, state_nonce)
        if nonce == expected:
            return nonce
        if nonce < expected:
            raise AdmissionError("tx.duplicate_nonce", where="body.nonce", got=nonce,
                                 expected=f"{expected}: a transaction of {account} with this nonce is already pending")
        if mode is Mode.MEMPOOL and nonce > expected + self.max_nonce_ahead:
            raise AdmissionError("tx.nonce_too_far", where="body.nonce", got=nonce,
                                 expected=f"at most {expected + self.max_nonce_ahead}")
        raise AdmissionError("tx.nonce_gap", where="body.nonce", got=nonce, expected=f"{expected} for {account}")

    def _endorsers(self, tx: Transaction, state: StateReader, sender: str) -> list[AccountRecord]:
        records, previous = [], sender
        seen = {sender}
        for i, endorsement in enumerate(tx.endorsements):
            if endorsement.account in seen:
                raise AdmissionError("auth.duplicate_endorsement", where=f"endorsements[{i}].account",
                                     got=endorsement.account, expected="each account once, and not the sender")
            seen.add(endorsement.account)
            if i and endorsement.account <= previous:
                raise AdmissionError("auth.bad_endorsement", where=f"endorsements[{i}].account",
                                     got=endorsement.account, expected="endorsements sorted by account id")
            previous = endorsement.account
            records.append(self._active_account(state, endorsement.account, f"endorsements[{i}].account"))
        return records

    def _check_signatures(self, tx: Transaction, tx_id: bytes, sender: AccountRecord,
                          endorsers: list[AccountRecord]) -> None:
        keys = (sender.public_key, *(e.public_key for e in endorsers))
        if self.signatures.verified(tx_id, keys):
            return
        if not self.suite.verify(sender.public_key, tx_sign_bytes(tx.body), tx.signature):
            raise AdmissionError("tx.bad_signature", where="signature", got=tx.signature.hex()[:32] + "…",
                                 expected=f"a signature of {sender.id}'s key over the body")
        if endorsers:
            message = endorsement_sign_bytes(tx.body)
            for i, (endorsement, record) in enumerate(zip(tx.endorsements, endorsers)):
                if not self.suite.verify(record.public_key, message, endorsement.signature):
                    raise AdmissionError("auth.bad_endorsement", where=f"endorsements[{i}].signature",
                                         got=endorsement.signature.hex()[:32] + "…",
                                         expected=f"a signature of {record.id}'s key over the body")
        self.signatures.remember(tx_id, keys)
