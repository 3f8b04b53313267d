"""Hash and signature suites, and passphrase-encrypted key files.

Nothing outside this package calls a cryptographic library directly: everything that hashes or signs goes
through a `Suite`, chosen at genesis.
"""

from civichain.crypto.suite import ED25519_SHA256, SHA256_HASHER, Suite, sha256, suite_named
from civichain.crypto.keyfile import KeyFile, KeyFileError, decrypt_key, encrypt_key

__all__ = [
    "ED25519_SHA256",
    "SHA256_HASHER",
    "KeyFile",
    "KeyFileError",
    "Suite",
    "decrypt_key",
    "encrypt_key",
    "sha256",
    "suite_named",
]
