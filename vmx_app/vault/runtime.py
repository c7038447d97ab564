"""The process-wide vault, built from Settings.

Keys come from ``LIBSODIUM_ENCRYPTION_KEY`` (plus ``LIBSODIUM_PREVIOUS_KEYS``) or, in the embedded
profile, from the key file ``Settings.key_file``; ``ENCRYPTION_PROVIDER=aws-kms`` seals with a KMS
data key and keeps any libsodium key readable. The embedded key file may be rotated by another
process (`vmx rotate-key`): it moves the old key into ``<key file>.previous`` and writes the new
one, and a running process notices the changed files and rebuilds its key ring, so reads never stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from vmx_app.settings import Settings, get_settings
from vmx_app.vault.base import Vault
from vmx_app.vault.factory import build_vault
from vmx_app.vault.keys import encode_key, load_or_create_key_file, parse_key
from vmx_app.vault.sodium import SodiumVault

log = logging.getLogger("vmx.vault")

_lock = threading.Lock()
_vault: Vault | None = None
_fingerprint: tuple[Any, ...] | None = None
_override: Vault | None = None


def previous_keys_file(key_file: Path) -> Path:
    """Where the embedded profile keeps keys that were rotated out but must stay readable."""
    return key_file.with_name(key_file.name + ".previous")


def read_previous_keys(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    return [parse_key(line) for line in path.read_text(encoding="ascii").splitlines() if line.strip()]


def write_keys_file(path: Path, keys: list[bytes]) -> None:
    """Replace ``path`` atomically (0600) with one base64 key per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".vmx-key-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write("".join(encode_key(k) + "\n" for k in keys))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def sodium_keys(settings: Settings) -> list[bytes]:
    """The libsodium key ring: current key first, then every key still accepted for reads."""
    keys: list[bytes] = []
    if settings.libsodium_encryption_key:
        keys.append(parse_key(settings.libsodium_encryption_key))
    elif settings.encryption_provider == "libsodium":
        keys.append(load_or_create_key_file(settings.key_file))
    # A key file left from the embedded profile stays readable after moving to an env key or KMS.
    if settings.key_file.exists():
        keys.append(load_or_create_key_file(settings.key_file))
    keys.extend(read_previous_keys(previous_keys_file(settings.key_file)))
    for part in (settings.libsodium_previous_keys or "").split(","):
        if part.strip():
            keys.append(parse_key(part))
    return list(dict.fromkeys(keys))


def build_runtime_vault(settings: Settings, *, kms_client: Any = None) -> Vault:
    return build_vault(
        settings.encryption_provider,
        sodium_keys=sodium_keys(settings),
        kms_key_id=settings.aws_kms_key_id,
        kms_client=kms_client,
        kms_region=settings.aws_region,
    )


def _files_fingerprint(settings: Settings) -> tuple[Any, ...]:
    out: list[Any] = []
    for path in (settings.key_file, previous_keys_file(settings.key_file)):
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except FileNotFoundError:
            out.append(None)
    return (settings.encryption_provider, settings.libsodium_encryption_key, settings.aws_kms_key_id, *out)


def get_vault() -> Vault:
    """The vault of this process; rebuilt when the settings or the key files change."""
    global _vault, _fingerprint
    if _override is not None:
        return _override
    settings = get_settings()
    with _lock:
        seen = _files_fingerprint(settings)
        if _vault is None or _fingerprint != seen:
            # Take the fingerprint before building: a rotation that lands while we read the files
            # then still differs from it and causes one more rebuild, never a stale key ring.
            _vault = build_runtime_vault(settings)
            _fingerprint = seen
        return _vault


def set_vault(vault: Vault | None) -> None:
    """Pin a vault (tests, key rotation); ``None`` goes back to the one built from Settings."""
    global _override, _vault, _fingerprint
    with _lock:
        _override = vault
        _vault = None
        _fingerprint = None


def _blocking(vault: Vault) -> bool:
    # libsodium takes microseconds; anything else (KMS) makes network calls and must leave the loop.
    return not isinstance(vault, SodiumVault)


async def encrypt_secret(plaintext: str, context: dict[str, str]) -> str:
    vault = get_vault()
    if _blocking(vault):
        return await asyncio.to_thread(vault.encrypt, plaintext, context)
    return vault.encrypt(plaintext, context)


async def decrypt_secret(token: str, context: dict[str, str]) -> str:
    vault = get_vault()
    if _blocking(vault):
        return await asyncio.to_thread(vault.decrypt, token, context)
    return vault.decrypt(token, context)


def connection_context(connection_id: str) -> dict[str, str]:
    """The associated data that binds a secret to its connection."""
    return {"connectionId": str(connection_id)}
