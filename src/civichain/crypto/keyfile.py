"""Passphrase-encrypted key files.

The passphrase is stretched with Argon2id (memory-hard) and the private key sealed with
XChaCha20-Poly1305; the file's header (suite, public key, KDF parameters) is the AEAD's associated data, so
no field can be changed without the file failing to open. Both primitives come from libsodium (PyNaCl).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from nacl import bindings as sodium
from nacl import pwhash
from nacl.exceptions import CryptoError

from civichain.crypto.suite import suite_named
from civichain.errors import CivicError

FORMAT = "civichain-key/1"


class KeyFileError(CivicError):
    """A key file that cannot be read, or a wrong passphrase."""


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A decrypted key: the suite it belongs to, the private key, its public key and an optional label."""

    suite: str
    private_key: bytes
    public_key: bytes
    label: str = ""


def encrypt_key(key: KeyFile, passphrase: str, *, opslimit: int | None = None, memlimit: int | None = None) -> bytes:
    """Return the bytes of a key file holding `key`, sealed under `passphrase`."""
    opslimit = opslimit or pwhash.argon2id.OPSLIMIT_INTERACTIVE
    memlimit = memlimit or pwhash.argon2id.MEMLIMIT_INTERACTIVE
    salt = sodium.randombytes(pwhash.argon2id.SALTBYTES)
    nonce = sodium.randombytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    header = {
        "format": FORMAT,
        "suite": key.suite,
        "label": key.label,
        "public_key": key.public_key.hex(),
        "kdf": {"name": "argon2id", "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "aead": {"name": "xchacha20poly1305-ietf", "nonce": _b64(nonce)},
    }
    secret = _stretch(passphrase, salt, opslimit, memlimit)
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(key.private_key, _aad(header), nonce, secret)
    return json.dumps({**header, "ciphertext": _b64(sealed)}, indent=2).encode() + b"\n"


def decrypt_key(data: bytes, passphrase: str, *, where: str = "key file") -> KeyFile:
    """Open a key file. Raises `keyfile.malformed`, `keyfile.wrong_passphrase` or `keyfile.key_mismatch`."""
    try:
        document = json.loads(data)
        header = {k: document[k] for k in ("format", "suite", "label", "public_key", "kdf", "aead")}
        if header["format"] != FORMAT:
            raise KeyFileError("keyfile.malformed", where=f"{where}: format", got=header["format"], expected=FORMAT)
        kdf, aead = header["kdf"], header["aead"]
        salt, nonce = _unb64(kdf["salt"]), _unb64(aead["nonce"])
        sealed = _unb64(document["ciphertext"])
        public_key = bytes.fromhex(header["public_key"])
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
    except KeyFileError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError("keyfile.malformed", where=where, got=str(exc)[:80],
                           expected=f"a {FORMAT} JSON document") from exc
    secret = _stretch(passphrase, salt, opslimit, memlimit)
    try:
        private_key = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, _aad(header), nonce, secret)
    except CryptoError:
        raise KeyFileError("keyfile.wrong_passphrase", where=where, got="a passphrase that does not open it",
                           expected="the passphrase the key was sealed with") from None
    suite = suite_named(header["suite"])
    if suite.public_key(private_key) != public_key:
        raise KeyFileError("keyfile.key_mismatch", where=where, got="a private key of another public key",
                           expected=f"the key of {public_key.hex()}")
    return KeyFile(suite=suite.name, private_key=private_key, public_key=public_key, label=header["label"])


def _stretch(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return pwhash.argon2id.kdf(
        sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES, passphrase.encode(), salt,
        opslimit=opslimit, memlimit=memlimit,
    )


def _aad(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
