"""libsodium (XChaCha20-Poly1305-IETF) vault with a keyring for key rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable

from nacl import bindings
from nacl.exceptions import CryptoError

from vmx_app.vault.base import (
    FORMAT_VERSION,
    DecryptionError,
    InvalidKeyError,
    canonical_context,
    split_token,
)

PROVIDER = "sodium"
KEY_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES  # 32
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16


def key_id(key: bytes) -> str:
    """Short public identifier of a key: first 8 hex chars of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise InvalidKeyError(f"libsodium key must be {KEY_BYTES} bytes")
    return bytes(key)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """nonce || ciphertext+tag under ``key``; shared with the KMS vault for its local layer."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("stored secret is truncated")
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except CryptoError:
        raise DecryptionError("could not decrypt secret: wrong key, wrong context or tampered data") from None


def b64decode_strict(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("stored secret is not valid base64") from None


class SodiumVault:
    """Encrypts with the current key; decrypts with any key of the ring (current + previous)."""

    provider = PROVIDER

    def __init__(self, key: bytes, previous_keys: Iterable[bytes] = ()) -> None:
        self._current = _check_key(key)
        self.current_key_id = key_id(self._current)
        self._ring: dict[str, bytes] = {self.current_key_id: self._current}
        for old in previous_keys:
            old = _check_key(old)
            self._ring.setdefault(key_id(old), old)

    @property
    def key_ids(self) -> list[str]:
        return list(self._ring)

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        sealed = seal(self._current, plaintext.encode("utf-8"), canonical_context(context))
        payload = base64.b64encode(sealed).decode("ascii")
        return f"{FORMAT_VERSION}:{PROVIDER}:{self.current_key_id}:{payload}"

    def decrypt(self, token: str, context: dict[str, str]) -> str:
        provider, parts = split_token(token)
        if provider != PROVIDER or len(parts) != 2:
            raise DecryptionError("stored secret was not written by the libsodium vault")
        kid, payload = parts
        key = self._ring.get(kid)
        if key is None:
            # The key id is a hash prefix, safe to show; it tells the operator which key is missing.
            raise DecryptionError(f"no libsodium key with id {kid} is configured")
        plaintext = open_sealed(key, b64decode_strict(payload), canonical_context(context))
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("decrypted secret is not valid UTF-8") from None

    def needs_rotation(self, token: str) -> bool:
        try:
            provider, parts = split_token(token)
        except DecryptionError:
            return True
        return provider != PROVIDER or not parts or parts[0] != self.current_key_id
