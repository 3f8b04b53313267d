"""Crypto suites: one hash function and one signature scheme, named at genesis.

`ed25519-sha256` uses libsodium through PyNaCl (the fastest Ed25519 verifier measured on our machines) and
SHA-256 from hashlib (OpenSSL). Other suites (the national `sm2-sm3`) plug in behind the same interface.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from nacl import bindings as sodium
from nacl.exceptions import BadSignatureError, CryptoError

from civichain.errors import CivicError


def sha256(data: bytes) -> bytes:
    """Return the SHA-256 digest of `data`."""
    return hashlib.sha256(data).digest()


# The SHA-256 object constructor itself (`SHA256_HASHER(data).digest()`), for the state tree's inner loops,
# where one more Python call per hash is measurable; the library choice still lives here.
SHA256_HASHER = hashlib.sha256


class CryptoError_(CivicError):
    """A key or signature that is not of the suite's form."""


@dataclass(frozen=True, slots=True)
class Suite:
    """A hash function and a signature scheme, used together by everything that hashes or signs.

    `verify` returns a bool and never raises on a bad signature, so admission can turn it into its own code.
    """

    name: str
    hash_size: int
    public_key_size: int
    private_key_size: int
    signature_size: int
    hash: Callable[[bytes], bytes]
    _sign: Callable[[bytes, bytes], bytes]
    _verify: Callable[[bytes, bytes, bytes], bool]
    _public_key: Callable[[bytes], bytes]
    _generate: Callable[[], bytes]

    def generate_private_key(self) -> bytes:
        """Return a new random private key (for Ed25519, a 32-byte seed)."""
        return self._generate()

    def public_key(self, private_key: bytes) -> bytes:
        """Return the public key of `private_key`. Raises `crypto.bad_private_key`."""
        self._check_size("private key", private_key, self.private_key_size, "crypto.bad_private_key")
        return self._public_key(private_key)

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Sign `message` with `private_key`."""
        self._check_size("private key", private_key, self.private_key_size, "crypto.bad_private_key")
        return self._sign(private_key, message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Return True when `signature` is `public_key`'s signature of `message`."""
        if len(public_key) != self.public_key_size or len(signature) != self.signature_size:
            return False
        return self._verify(public_key, message, signature)

    def check_public_key(self, public_key: bytes) -> None:
        """Raise `crypto.bad_public_key` unless `public_key` has the suite's form."""
        self._check_size("public key", public_key, self.public_key_size, "crypto.bad_public_key")

    def _check_size(self, what: str, value: bytes, size: int, code: str) -> None:
        if not isinstance(value, bytes) or len(value) != size:
            got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
            raise CryptoError_(code, where=what, got=got, expected=f"{size} bytes for suite {self.name}")


def _ed25519_sign(seed: bytes, message: bytes) -> bytes:
    _, secret = sodium.crypto_sign_seed_keypair(seed)
    return sodium.crypto_sign(message, secret)[: sodium.crypto_sign_BYTES]


def _ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        sodium.crypto_sign_open(signature + message, public_key)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True


def _ed25519_public_key(seed: bytes) -> bytes:
    public, _ = sodium.crypto_sign_seed_keypair(seed)
    return public


def _ed25519_generate() -> bytes:
    return sodium.randombytes(32)


ED25519_SHA256 = Suite(
    name="ed25519-sha256",
    hash_size=32,
    public_key_size=32,
    private_key_size=32,
    signature_size=64,
    hash=sha256,
    _sign=_ed25519_sign,
    _verify=_ed25519_verify,
    _public_key=_ed25519_public_key,
    _generate=_ed25519_generate,
)

_SUITES = {ED25519_SHA256.name: ED25519_SHA256}


def suite_named(name: str) -> Suite:
    """Return the suite called `name`. Raises `crypto.unknown_suite`."""
    try:
        return _SUITES[name]
    except KeyError:
        raise CryptoError_("crypto.unknown_suite", where="suite", got=name, expected=f"one of {sorted(_SUITES)}") from None
