"""The vault contract shared by every credential-encryption provider."""

from __future__ import annotations

import json
from typing import Protocol, runtime_checkable

# Stored tokens look like "v1:<provider>:<key ref>:<payload...>"; the prefix lets a reader pick the
# right provider and key without trying them all.
FORMAT_VERSION = "v1"


class VaultError(Exception):
    """Base class for vault failures. Messages never contain plaintext or key material."""


class EncryptionError(VaultError):
    """A value could not be encrypted (for example KMS is unreachable)."""


class DecryptionError(VaultError):
    """A stored value could not be decrypted: wrong key, wrong context, tampered or malformed data."""


class InvalidKeyError(VaultError, ValueError):
    """A configured encryption key is not usable."""


@runtime_checkable
class Vault(Protocol):
    """Encrypts secrets bound to a context (e.g. ``{"connectionId": id}``)."""

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str: ...

    def decrypt(self, token: str, context: dict[str, str]) -> str: ...

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was not written by this vault's current key (re-encrypt it)."""
        ...


def canonical_context(context: dict[str, str]) -> bytes:
    """Deterministic bytes for the associated data: sorted keys, no whitespace."""
    if not isinstance(context, dict):
        raise TypeError("context must be a dict of strings")
    for key, value in context.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("context keys and values must be strings")
    return json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def split_token(token: str) -> tuple[str, list[str]]:
    """Return (provider, remaining parts) of a stored token, or raise DecryptionError."""
    if not isinstance(token, str):
        raise DecryptionError("stored secret is not a string")
    parts = token.split(":")
    if len(parts) < 3 or parts[0] != FORMAT_VERSION:
        raise DecryptionError("stored secret has an unknown format")
    return parts[1], parts[2:]


def token_provider(token: str) -> str | None:
    """The provider name in a stored token, or None when it is not a vault token."""
    try:
        return split_token(token)[0]
    except DecryptionError:
        return None
